"""The report's ``summary`` section: the findings in plain language, the headline table."""

from __future__ import annotations

from gazealign.report.html import SYNTHETIC_BANNER, SectionContext, esc, table_html
from gazealign.report.sections import report_section


@report_section("summary", title="Summary", order=10)
def summary_section(ctx: SectionContext) -> str:
    """The findings in plain language, and the per-method headline table."""
    summary = ctx.summary
    inputs = ctx.inputs
    items = "".join(f"<li>{esc(s)}</li>" for s in summary.sentences)
    lead = ""
    if inputs.synthetic:
        lead = f"<p><strong>{esc(SYNTHETIC_BANNER)}</strong></p>"
    answer = ""
    if summary.table is not None and not summary.table.empty:
        answer = (
            "<p>The answer first: per network method, the human - network difference of the "
            "MoRF accuracy AUC (interval and sign-flip p over identities), whether it depends on "
            "the expression, and how far each map gets from the centre bias (0 %) to the human "
            "noise ceiling (100 %).</p>" + table_html(summary.table)
        )
    return f'{lead}{answer}<ul class="findings">{items}</ul>'
