"""The report's ``metrics`` section: saliency metrics against the human noise ceiling."""

from __future__ import annotations

from gazealign.report import figures
from gazealign.report.html import SectionContext, shown_columns, table_html
from gazealign.report.sections import report_section


@report_section("metrics", title="Saliency metrics against the human noise ceiling", order=60)
def metrics_section(ctx: SectionContext) -> str:
    """Every saliency metric with the noise ceiling and the baselines."""
    table = ctx.need("metrics", "no saliency metrics")
    shown = ("metric", "map", "n", "value", "ci_low", "ci_high", "higher_is_better")
    caption = (
        "Saliency metrics of each map against the human fixations (Bylinskii et al. 2018). Blue "
        "line and band: the human noise ceiling (human vs human) and its interval; grey: "
        "baselines (centre bias, uniform); orange: the network. KLD and EMD: lower is better."
    )
    figure = ctx.figure("saliency_metrics", lambda: figures.metrics_figure(table), caption)
    return figure + table_html(shown_columns(table, shown))
