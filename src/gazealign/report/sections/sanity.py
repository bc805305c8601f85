"""The report's ``sanity`` section: randomisation and class-sensitivity checks of the maps."""

from __future__ import annotations

import pandas as pd

from gazealign.report import explain_figures
from gazealign.report.html import SectionContext, esc, shown_columns, table_html
from gazealign.report.sections import report_section


@report_section("sanity", title="Sanity checks of the network's maps", order=70)
def sanity_section(ctx: SectionContext) -> str:
    """Randomisation and class-sensitivity verdicts per method."""
    verdicts = ctx.need("sanity_verdicts", "no sanity checks")
    parts = [
        "<p>Sanity checks of saliency methods (Adebayo et al. 2018): a map that explains what "
        "the network learned changes when the network's weights are re-drawn at random (from "
        "the output layer down), and a map that explains a class differs between classes "
        "(modified-backprop LRP rules often fail this: Sixt et al. 2020). Thresholds are this "
        "package's conventions (study file, [sanity]); each verdict states its own.</p>",
        '<ul class="findings">'
        + "".join(f"<li>{esc(m)}: {esc(v)}</li>" for m, v in _verdict_pairs(verdicts))
        + "</ul>",
    ]
    layers = ctx.inputs.sanity_layers
    if layers is not None:
        caption = (
            "Cascading randomisation: similarity of each method's maps to the trained network's "
            "as the layers are re-drawn one at a time from the output down (x: the last layer "
            "re-drawn). Solid: median Spearman correlation of |map| over the checked images "
            "(band: quartiles); dashed: median SSIM of |map| scaled to its maximum."
        )
        figure = ctx.figure(
            "sanity_randomisation",
            lambda: explain_figures.randomisation_figure(layers),
            caption,
        )
        parts.append(figure)
    shown = (
        "method",
        "target_output",
        "randomised_spearman",
        "randomised_ssim",
        "head_randomised_spearman",
        "passes_randomisation",
        "class_r",
        "class_r_other",
        "class_r_signed",
        "passes_class_sensitivity",
    )
    parts.append(table_html(shown_columns(verdicts, shown)))
    return "\n".join(parts)


def _verdict_pairs(verdicts: pd.DataFrame) -> list[tuple[str, str]]:
    return [(str(m), str(v)) for m, v in zip(verdicts["method"], verdicts["verdict"], strict=True)]
