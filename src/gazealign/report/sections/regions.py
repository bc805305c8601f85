"""The report's ``regions`` section: fixation and relevance shares per facial region."""

from __future__ import annotations

import pandas as pd

from gazealign.report import figures
from gazealign.report.html import SectionContext, shown_columns, table_html
from gazealign.report.sections import report_section


def region_table(table: pd.DataFrame) -> pd.DataFrame:
    """Region shares side by side: one row per (label, region), one column per source, and the
    difference network minus human when both are present (long table unchanged otherwise)."""
    if not {"label", "region", "source", "share"} <= set(table.columns):
        return table
    try:
        wide = table.pivot_table(
            index=["label", "region"], columns="source", values="share", aggfunc="first", sort=False
        )
    except (ValueError, TypeError):
        return table
    wide.columns = [f"{c} share" for c in wide.columns.astype(str)]
    human = [c for c in wide.columns if c.startswith("human")]
    others = [c for c in wide.columns if not c.startswith("human")]
    if len(human) == 1 and len(others) == 1:
        wide[f"{others[0].removesuffix(' share')} - human"] = wide[others[0]] - wide[human[0]]
    return wide.reset_index()


@report_section("regions", title="Facial regions", order=50)
def regions_section(ctx: SectionContext) -> str:
    """Share of fixations and relevance per facial region, network minus human."""
    table = ctx.need("region_shares", "no region shares")
    caption = (
        "Per expression, the share of human fixations (blue) and of the network's positive "
        "relevance (orange) that falls in each facial region (error bars: confidence intervals "
        "where the table holds them)."
    )
    figure = ctx.figure("region_shares", lambda: figures.region_shares_figure(table), caption)
    parts = [figure, "<h3>Shares per expression and region</h3>"]
    parts.append(f'<div class="scroll">{table_html(region_table(table))}</div>')
    parts.append("<h3>Network minus human share, with confidence intervals</h3>")
    diffs = ctx.inputs.region_differences
    if diffs is None:
        parts.append(ctx.missing("region_differences", "no table of differences"))
    else:
        shown = (
            "contrast",
            "label",
            "region",
            "n",
            "estimate",
            "ci_low",
            "ci_high",
            "p_value",
            "cohens_dz",
        )
        parts.append(f'<div class="scroll">{table_html(shown_columns(diffs, shown))}</div>')
    return "\n".join(parts)
