"""The report's ``perturbation`` and ``auc`` sections: perturbation curves and AUC contrasts."""

from __future__ import annotations

from gazealign.report import figures
from gazealign.report.html import SectionContext, perturbation_settings, shown_columns, table_html
from gazealign.report.sections import report_section


@report_section("perturbation", title="Perturbation curves", order=30)
def perturbation_section(ctx: SectionContext) -> str:
    """Accuracy as tiles are removed in the human, network and random order."""
    table = ctx.need("curves", "no perturbation curves")
    caption = (
        "Accuracy of the network as image tiles are replaced, most relevant first (MoRF), in the "
        "order of the human density, of the network's map, and at random (dashed line: mean of "
        "the random orders; band: their spread or confidence interval). A curve that falls faster "
        "found the tiles the network relies on sooner. First panel: all images; then per expression."
        + perturbation_settings(table)
    )
    figure = ctx.figure("perturbation_curves", lambda: figures.perturbation_figure(table), caption)
    return figure


@report_section("auc", title="AUC differences per expression", order=40)
def auc_section(ctx: SectionContext) -> str:
    """Forest plot and table of the MoRF accuracy AUC contrasts."""
    table = ctx.need("auc_differences", "no AUC differences")
    conf = f"{ctx.options.confidence:.0%}"
    caption = (
        f"Differences of the areas under the MoRF accuracy curves with {conf} confidence intervals, "
        "per expression and over all images (diamond). Black: interval excludes zero; grey: it does not."
        + perturbation_settings(table)
    )
    figure = ctx.figure("auc_differences", lambda: figures.forest_figure(table), caption)
    shown = (
        "contrast",
        "label",
        "n",
        "estimate",
        "ci_low",
        "ci_high",
        "p_value",
        "cohens_dz",
        "rank_biserial",
    )
    return figure + table_html(shown_columns(table, shown))
