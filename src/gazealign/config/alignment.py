"""The ``[alignment]`` table: gaze-aligned training and its lambda sweep."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import Field, NonNegativeFloat, PositiveInt, field_validator

from gazealign.config.base import Section
from gazealign.config.checks import Problem, check, unknown_name

if TYPE_CHECKING:
    from gazealign.config.loader import StudyConfig


class AlignmentSection(Section):
    objective: Literal["harmonization", "rrr"] = Field(
        "harmonization",
        description=(
            "Alignment objective added to cross-entropy: `harmonization` (Fel et al. 2022: "
            "Gaussian-pyramid MSE between the standardised, rectified saliency and the human "
            "map) or `rrr` (Ross et al. 2017: squared input gradients where people did not look)."
        ),
    )
    lambdas: list[NonNegativeFloat] = Field(
        [],
        description=(
            "Weights of the alignment term, one trained network per value (0 = the plain "
            "network). Empty: no sweep. Setting it also makes the simulated observers view the "
            "training faces and the human_maps stage map the training split."
        ),
    )
    saliency: Literal["gradient", "gradient_x_input"] = Field(
        "gradient",
        description="Differentiable saliency in the loss: input gradient or gradient x input.",
    )
    pyramid_levels: PositiveInt = Field(
        5, le=8, description="Levels of the Gaussian pyramid of the harmonization loss."
    )
    dont_look_fraction: float = Field(
        0.1,
        gt=0,
        lt=1,
        description=(
            "rrr: a pixel is in the don't-look mask where the human density is below this "
            "fraction of the image's maximum density."
        ),
    )
    epochs: PositiveInt | None = Field(
        None, description="Epochs per sweep network (default: `model.train.epochs`)."
    )
    method: str | None = Field(
        None,
        description=(
            "Explainer whose maps score each sweep network against the human maps (default: "
            "the first of `explain.methods`)."
        ),
    )
    tile_px: PositiveInt | None = Field(
        None,
        description="Tile size of the MoRF scores (default: `comparison.perturbation.tile_px`).",
    )
    shortcut: Literal["none", "corner_mark", "background_tint"] = Field(
        "none",
        description=(
            "Synthetic faces only: a spurious cue that goes with the expression in the training "
            "and validation images (a mark in a corner, or a background tint per expression); "
            "test images stay cue-free."
        ),
    )
    ceiling_splits: PositiveInt = Field(
        5, description="Random observer split-halves per test image for the human ceiling."
    )

    @field_validator("lambdas")
    @classmethod
    def _sorted_unique(cls, v: list[float]) -> list[float]:
        if len(set(v)) != len(v):
            raise ValueError(f"lambdas must be distinct, got {v}")
        return sorted(v)

    @property
    def enabled(self) -> bool:
        return bool(self.lambdas)


@check("alignment")
def _alignment_keys(config: StudyConfig) -> Iterator[Problem]:
    a = config.alignment
    if not a.enabled:
        return
    if a.shortcut != "none" and (
        config.stimuli.source != "synthetic" or not config.study.synthetic
    ):
        yield Problem(
            ("alignment.shortcut", "stimuli.source"),
            f"shortcut cue {a.shortcut!r} needs the built-in synthetic faces "
            "(stimuli.source = 'synthetic', study.synthetic = true)",
        )
    side = config.stimuli.input_size_px
    if side >> (a.pyramid_levels - 1) < 1:
        yield Problem(
            ("alignment.pyramid_levels", "stimuli.input_size_px"),
            f"{a.pyramid_levels} pyramid levels halve a {side} px input below 1 px",
        )
    if a.tile_px is not None and a.tile_px > side:
        yield Problem(
            ("alignment.tile_px", "stimuli.input_size_px"),
            f"a tile of {a.tile_px} px is larger than the {side} px model input",
        )
    if a.method is not None:
        from gazealign.explain.base import EXPLAINERS

        yield from unknown_name("alignment.method", EXPLAINERS, a.method)
