"""The report's ``robustness`` section: the headline contrast over tile sizes and fills."""

from __future__ import annotations

import pandas as pd

from gazealign.pipeline.artifacts import read_json_artifact
from gazealign.report.html import (
    SectionAbsent,
    SectionContext,
    esc,
    perturbation_settings,
    shown_columns,
    table_html,
)
from gazealign.report.perturbation_figures import robustness_figure
from gazealign.report.sections import report_section
from gazealign.report.summary import fmt

STAGE = "perturbation_robustness"


def sign_sentences(agreement: pd.DataFrame) -> list[str]:
    """Per contrast: whether it keeps the perturbation stage's sign over every pair, naming the
    pairs where it does not and those whose interval holds 0."""
    out = []
    for _, r in agreement.iterrows():
        ref = fmt(float(r["reference_estimate"]), signed=True)
        head = f"{r['contrast']} ({r['measure']}; the perturbation stage's estimate {ref})"
        if bool(r["keeps_sign"]):
            text = f"{head} keeps its sign in all {int(r['pairs'])} (tile size, fill) pairs."
        else:
            text = (
                f"{head} does not keep its sign: the estimate has the other sign at "
                f"{r['other_sign']} ({int(r['same_sign'])} of {int(r['pairs'])} pairs keep it)."
            )
        if str(r["interval_holds_zero"]):
            text += f" The interval includes 0 at {r['interval_holds_zero']}."
        out.append(text)
    return out


@report_section("robustness", title="Robustness: the headline over tile sizes and fills", order=45)
def robustness_section(ctx: SectionContext) -> str:
    """The human - network MoRF AUC difference for every swept tile size and fill."""
    folder = ctx.inputs.stage_dirs.get(STAGE)
    if folder is None:
        raise SectionAbsent(f"the run has no finished {STAGE} stage")
    if not read_json_artifact(folder, "summary").get("enabled"):
        return (
            "<p>The robustness sweep was not run in this study: list tile sizes and/or fills in "
            "<code>[comparison.robustness]</code> (<code>tile_px = [..]</code>, "
            "<code>fills = [..]</code>) to measure the headline contrast for each pair.</p>"
        )
    contrasts = ctx.stage_table(STAGE, "contrasts")
    agreement = ctx.stage_table(STAGE, "sign_agreement")
    accuracy = contrasts[contrasts["measure"].astype(str) == "accuracy"]
    conf = f"{ctx.options.confidence:.0%}"
    caption = (
        "The headline contrast (human - network method, difference of the areas under the MoRF "
        f"accuracy curves, over all images) for each swept tile size and fill, with {conf} "
        "intervals resampling identities (the perturbation stage's statistics). Diamond: the "
        "study's own tile size and fill; black: the interval excludes 0. Tiles are ranked as in "
        "the perturbation stage (tile score and sign policy of [comparison.perturbation]); each "
        "image's fill uses that stage's seed. The study's own setting (diamond):"
        + perturbation_settings(ctx.inputs.curves)
    )
    figure = ctx.figure("robustness", lambda: robustness_figure(accuracy), caption)
    shown = (
        "tile_px",
        "fill",
        "grid_rows",
        "grid_cols",
        "measure",
        "contrast",
        "n",
        "n_groups",
        "estimate",
        "ci_low",
        "ci_high",
        "p_value",
        "study_setting",
    )
    findings = "".join(f"<li>{esc(s)}</li>" for s in sign_sentences(agreement))
    return (
        f'<ul class="findings">{findings}</ul>'
        + figure
        + table_html(shown_columns(contrasts, shown))
    )
