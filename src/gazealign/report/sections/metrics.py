"""The report's ``metrics`` section: saliency metrics against the human noise ceiling."""

from __future__ import annotations

from gazealign.report import figures
from gazealign.report.html import (
    SectionContext,
    absent,
    figure_or_note,
    table_html,
)
from gazealign.report.sections import report_section


@report_section(
    "metrics",
    title="Saliency metrics against the human noise ceiling",
    order=60,
    description="Every saliency metric with the noise ceiling and the baselines",
)
def metrics_section(ctx: SectionContext) -> str:
    inputs = ctx.inputs
    maker = ctx.figures
    table = inputs.metrics
    if table is None:
        return absent(inputs.absent.get("metrics", "no saliency metrics"))
    caption = (
        "Saliency metrics of each map against the human fixations (Bylinskii et al. 2018). Blue "
        "line and band: the human noise ceiling (human vs human) and its interval; grey: "
        "baselines (centre bias, uniform); orange: the network. KLD and EMD: lower is better."
    )
    made = maker.make("saliency_metrics", lambda: figures.metrics_figure(table), caption)
    shown = [
        c
        for c in ("metric", "map", "n", "value", "ci_low", "ci_high", "higher_is_better")
        if c in table.columns
    ]
    return figure_or_note(made) + table_html(table[shown])
