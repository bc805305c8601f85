"""The ``[report]`` table: figures and HTML report."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import Field, PositiveInt

from gazealign.config.base import Section
from gazealign.config.checks import Problem, check

if TYPE_CHECKING:
    from gazealign.config.loader import StudyConfig


class StripSection(Section):
    stimuli: list[str] = Field(
        [],
        description=(
            "Stimulus ids of the perturbation strip figures (each one compared by the "
            "perturbation stage). Empty: one face per expression, up to `faces` (the first by id "
            "that the network classifies correctly)."
        ),
    )
    faces: PositiveInt = Field(
        2, description="With `stimuli` empty: how many expressions get a strip (in label order)."
    )
    order: Literal["morf", "lerf"] = Field(
        "morf",
        description="Which of the perturbation stage's orders the strip shows (one of its `orders`).",
    )
    max_steps: PositiveInt = Field(
        16,
        description=(
            "Most perturbed images per row: every step for grids of at most this many tiles, "
            "else this many steps evenly spaced from the first to the last (stated in the caption)."
        ),
    )


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
    strip: StripSection = Field(
        default_factory=StripSection, description="The perturbation strip figures."
    )


@check("report.strip.order")
def _strip_order(config: StudyConfig) -> Iterator[Problem]:
    order = config.report.strip.order
    ran = config.comparison.perturbation.orders
    if order not in ran:
        yield Problem(
            ("report.strip.order", "comparison.perturbation.orders"),
            f"the strip shows the {order!r} order, which the perturbation stage does not run "
            f"(orders = {ran})",
        )
