"""The report's ``recognition`` section: the network's metrics, confusion matrices."""

from __future__ import annotations

from gazealign.report import figures
from gazealign.report.html import SectionContext, scalars_table, table_html
from gazealign.report.sections import report_section


@report_section("recognition", title="Recognition: network and observers", order=80)
def recognition_section(ctx: SectionContext) -> str:
    """Training and test metrics, confusion matrices."""
    inputs = ctx.inputs
    parts: list[str] = []
    if inputs.train_metrics is not None:
        parts.append("<h3>Network training and test metrics</h3>")
        parts.append(table_html(scalars_table(inputs.train_metrics, key="metric")))
    else:
        parts.append(ctx.missing("train_metrics", "no training metrics"))
    if inputs.confusions:
        caption = (
            "Confusion matrices: rows are the true expression, columns the network's prediction "
            "or the observer's response; colour is the share of the row, numbers are counts."
        )
        confusions = inputs.confusions
        figure = ctx.figure("confusion", lambda: figures.confusion_figure(confusions), caption)
        parts.append(figure)
    else:
        parts.append(ctx.missing("confusions", "no confusion matrices"))
    return "\n".join(parts)
