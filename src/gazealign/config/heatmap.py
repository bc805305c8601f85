"""The ``[heatmap]`` table: human fixation density maps."""

from __future__ import annotations

from pydantic import Field, PositiveFloat

from gazealign.config.base import Section


class HeatmapSection(Section):
    sigma_deg: PositiveFloat = Field(
        1.0, description="Gaussian kernel sigma in degrees of visual angle."
    )
    duration_weighted: bool = Field(False, description="Weight each fixation by its duration.")
