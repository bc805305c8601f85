"""The ``[report]`` table: figures and HTML report."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from gazealign.config.base import Section


class ReportSection(Section):
    title: str = Field("gazealign report", description="Report title.")
    figure_formats: list[Literal["png", "pdf"]] = Field(
        ["png", "pdf"], description="Formats figures are written in (the HTML always inlines PNG)."
    )
    dpi: PositiveInt = Field(
        110, ge=50, le=600, description="Resolution of PNG figures in dots per inch."
    )
    overview_method: str | None = Field(
        None,
        description=(
            "Explainer whose maps the overview figure shows (default: the first of "
            "`explain.methods` found in the run)."
        ),
    )
    overlay_percentile: float = Field(
        99.0,
        gt=0,
        le=100,
        description=(
            "Map overlays scale each map to its own percentile of this rank (values above it are "
            "drawn at full strength); stated in the figure caption."
        ),
    )
