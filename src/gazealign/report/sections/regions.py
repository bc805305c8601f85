"""The report's ``regions`` section: fixation and relevance shares per facial region."""

from __future__ import annotations

import pandas as pd

from gazealign.report import figures
from gazealign.report.html import (
    SectionContext,
    absent,
    figure_or_note,
    table_html,
)
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


@report_section(
    "regions",
    title="Facial regions",
    order=50,
    description="Share of fixations and relevance per facial region, network minus human",
)
def regions_section(ctx: SectionContext) -> str:
    inputs = ctx.inputs
    maker = ctx.figures
    table = inputs.region_shares
    if table is None:
        return absent(inputs.absent.get("region_shares", "no region shares"))
    caption = (
        "Per expression, the share of human fixations (blue) and of the network's positive "
        "relevance (orange) that falls in each facial region (error bars: confidence intervals "
        "where the table holds them)."
    )
    made = maker.make("region_shares", lambda: figures.region_shares_figure(table), caption)
    parts = [figure_or_note(made), "<h3>Shares per expression and region</h3>"]
    parts.append(f'<div class="scroll">{table_html(region_table(table))}</div>')
    parts.append("<h3>Network minus human share, with confidence intervals</h3>")
    diffs = inputs.region_differences
    if diffs is None:
        parts.append(absent(inputs.absent.get("region_differences", "no table of differences")))
    else:
        shown = [
            c
            for c in (
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
            if c in diffs.columns
        ]
        parts.append(f'<div class="scroll">{table_html(diffs[shown])}</div>')
    return "\n".join(parts)
