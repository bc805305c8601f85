"""The ``[explain]`` table: network saliency methods."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt

from gazealign.config.base import Section


class ExplainSection(Section):
    methods: list[str] = Field(
        ["lrp_epsilon_plus_flat"],
        description="Explainer names (see `gazealign explain --help`).",
    )
    target: Literal["true", "predicted"] = Field(
        "true", description="Class explained: the true label or the prediction."
    )
    epsilon: PositiveFloat = Field(1e-6, description="LRP epsilon.")
    gamma: PositiveFloat = Field(0.25, description="LRP gamma (epsilon_gamma_box).")
    sign: Literal["positive", "absolute", "signed"] = Field(
        "positive", description="Sign policy of the map."
    )
    batch_size: PositiveInt = Field(16, description="Images per explanation batch.")
