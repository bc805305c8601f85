"""The ``[sanity]`` table: sanity checks of the network's saliency methods (Adebayo et al. 2018)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from gazealign.config.base import Section


class SanitySection(Section):
    enabled: bool = Field(
        True,
        description=(
            "Run the sanity checks (cascading parameter randomisation, class sensitivity) on "
            "every method of explain.methods; the report states a verdict per method."
        ),
    )
    split: Literal["test", "val", "train"] = Field(
        "test", description="Split whose images are checked."
    )
    images: PositiveInt = Field(
        16,
        description=(
            "Images checked: this many, evenly spaced through the split's stimuli sorted by id "
            "(every method explains each of them once per randomised layer and three times "
            "for class sensitivity)."
        ),
    )
    extra_methods: list[str] = Field(
        [],
        description=(
            "Methods checked beside explain.methods (e.g. gradient_x_input as a reference that "
            "should pass); they are not used elsewhere in the study."
        ),
    )
    randomisation_max_spearman: float = Field(
        0.5,
        gt=-1,
        le=1,
        description=(
            "A method passes the randomisation check when the median Spearman correlation of "
            "|map| between the fully randomised and the trained network is below this."
        ),
    )
    class_max_r: float = Field(
        0.5,
        gt=0,
        le=1,
        description=(
            "A method fails class sensitivity when the median Pearson r between the true "
            "class's map and the runner-up class's, after explain.sign, is at or above this "
            "(|r| for signed maps, where a sign-flipped copy is the same pattern)."
        ),
    )
