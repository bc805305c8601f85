"""The report's ``data`` section: stimuli per split, stage counts, dropped items, trials kept."""

from __future__ import annotations

import json

import pandas as pd

from gazealign.report import figures
from gazealign.report.html import SectionContext, absent, esc, flatten, table_html
from gazealign.report.inputs import ReportInputs, stage_order
from gazealign.report.sections import report_section


@report_section("data", title="Data: what was used and what was dropped", order=90)
def data_section(ctx: SectionContext) -> str:
    """Stimuli per split, stage counts, dropped items, trials per subject."""
    inputs = ctx.inputs
    parts: list[str] = ["<h3>Stimuli per expression and split</h3>"]
    if inputs.stimulus_counts is not None:
        parts.append(table_html(inputs.stimulus_counts, index=True))
    else:
        parts.append(ctx.missing("stimulus_counts", "no stimulus table"))
    parts.append("<h3>Counts recorded by each stage</h3>")
    notes = _notes_table(inputs)
    parts.append(table_html(notes) if not notes.empty else absent("no stage recorded counts"))
    parts.append("<h3>Dropped items and why</h3>")
    if inputs.dropped:
        for name, table in inputs.dropped.items():
            parts.append(f"<p><strong>{esc(name)}</strong>: {len(table)} row(s)</p>")
            if not table.empty:
                parts.append(f'<div class="scroll">{table_html(table, max_rows=50)}</div>')
    else:
        parts.append(ctx.missing("dropped", "no stage wrote a table of dropped items"))
    parts.append("<h3>Trials kept per subject</h3>")
    if inputs.quality is not None:
        caption = (
            "Trials kept per subject (blue) and dropped, by reason (other colours), after the gaze "
            "stage's filters."
        )
        quality = inputs.quality
        parts.append(ctx.figure("data_quality", lambda: figures.quality_figure(quality), caption))
        parts.append(f'<div class="scroll">{table_html(inputs.quality)}</div>')
    else:
        parts.append(ctx.missing("quality", "no per-subject trial counts"))
    return "\n".join(parts)


def _notes_table(inputs: ReportInputs) -> pd.DataFrame:
    rows = []
    for name in stage_order(list(inputs.stage_records), inputs.manifest):
        for key, value in flatten(inputs.stage_records[name].get("notes") or {}).items():
            rows.append(
                {
                    "stage": name,
                    "count or fact": key,
                    "value": value if isinstance(value, int | float | str) else json.dumps(value),
                }
            )
    return pd.DataFrame(rows, columns=["stage", "count or fact", "value"])
