"""The report's ``controls`` section: the human order against the control orderings.

Two questions, each answered in a plain sentence from ``control_differences.parquet`` (the
perturbation stage's human - control contrasts, identity-clustered intervals):

* do people's image-specific fixations carry information about the network's evidence beyond
  the face prior (human against ``other_identity``, ``expression_mean``, ``all_mean``,
  ``centre_bias``)? Under MoRF the human order must remove the evidence sooner (AUC difference
  below 0, interval excluding 0);
* does the human - network difference survive equal blur (human against
  ``<method>_blurred``, set beside the human - ``<method>`` contrast of ``auc_differences``)?
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from gazealign.report import figures
from gazealign.report.html import (
    SectionAbsent,
    SectionContext,
    esc,
    perturbation_settings,
    shown_columns,
    table_html,
)
from gazealign.report.sections import report_section
from gazealign.report.summary import fmt

STAGE = "perturbation"
#: The controls that stand for a prior people could follow without seeing the face itself.
PRIORS = ("other_identity", "expression_mean", "all_mean", "centre_bias")
#: The measure and order of the sentences (the report's headline contrast).
MEASURE, ORDER = "accuracy", "morf"


def _row(table: pd.DataFrame, contrast: str) -> Any:
    rows = table[
        (table["contrast"].astype(str) == contrast)
        & (table["quantity"].astype(str) == "auc")
        & (table["measure"].astype(str) == MEASURE)
        & (table["order"].astype(str) == ORDER)
        & (table["label"].astype(str) == "all")
    ]
    return rows.iloc[0] if len(rows) else None


def _interval(r: Any) -> str:
    return (
        f"{fmt(float(r['estimate']), signed=True)} "
        f"[{fmt(float(r['ci_low']), signed=True)}, {fmt(float(r['ci_high']), signed=True)}]"
    )


def prior_sentence(row: Any, name: str, description: str) -> str:
    """Whether the human order beats prior control ``name`` under MoRF (AUC difference < 0)."""
    what = f"{name} ({description[0].lower() + description[1:]})"
    numbers = f"MoRF {MEASURE} AUC difference human - {name} {_interval(row)}"
    if float(row["ci_high"]) < 0:
        return (
            f"People's image-specific fixations carry information about the network's evidence "
            f"beyond {what}: removing tiles in the human order lowers {MEASURE} sooner "
            f"({numbers})."
        )
    if float(row["ci_low"]) > 0:
        return (
            f"The order of {what} removes the network's evidence sooner than the human order "
            f"({numbers}): the human map adds nothing beyond it here."
        )
    return (
        f"The data do not show that people's fixations carry information beyond {what}: the "
        f"interval includes 0 ({numbers})."
    )


def blur_sentence(sharp: Any, blurred: Any, method: str, sigma: str) -> str:
    """Whether the human - ``method`` MoRF difference survives blurring the network map with
    the human map's kernel."""
    before = f"human - {method} {_interval(sharp)}"
    after = f"human - {method} blurred with the human map's kernel ({sigma}) {_interval(blurred)}"
    excludes = [float(r["ci_low"]) > 0 or float(r["ci_high"]) < 0 for r in (sharp, blurred)]
    same_sign = (float(sharp["estimate"]) > 0) == (float(blurred["estimate"]) > 0)
    if not excludes[0]:
        return (
            f"There is no human - {method} difference to test against equal blur ({before}, "
            f"MoRF {MEASURE} AUC; the interval includes 0); at equal blur: {after}."
        )
    if excludes[1] and same_sign:
        return (
            f"The human - {method} difference survives equal blur: {before} with the network's "
            f"own map, {after} (MoRF {MEASURE} AUC). It is not only the smoothness of the human "
            "map."
        )
    return (
        f"The human - {method} difference does not survive equal blur: {before} with the "
        f"network's own map, but {after} (MoRF {MEASURE} AUC). Part or all of it is the "
        "smoothness of the human map."
    )


def control_sentences(
    differences: pd.DataFrame, controls: pd.DataFrame, methods: pd.DataFrame | None
) -> list[str]:
    """The section's findings, one sentence per prior control and per blurred method."""
    out = []
    info = controls.set_index("control")
    for name in info.index:
        row = _row(differences, f"human - {name}")
        if row is None:
            continue
        entry = str(info.at[name, "entry"])
        if entry in PRIORS:
            out.append(prior_sentence(row, str(name), str(info.at[name, "description"])))
        elif entry == "<method>_blurred" and methods is not None:
            method = str(info.at[name, "method"])
            sharp = _row(methods, f"human - {method}")
            if sharp is None:
                continue
            rows, cols = info.loc[name, ["sigma_model_rows_px", "sigma_model_cols_px"]]
            sigma = (
                f"sigma {fmt(float(rows), digits=2)} x {fmt(float(cols), digits=2)} model-input px"
            )
            out.append(blur_sentence(sharp, row, method, sigma))
    return out


@report_section(
    "controls", title="Control orderings: beyond the face prior, at equal blur", order=42
)
def controls_section(ctx: SectionContext) -> str:
    """Perturbation curves and AUC contrasts of the human order against the control orderings."""
    folder = ctx.inputs.stage_dirs.get(STAGE)
    if folder is None:
        raise SectionAbsent(f"the run has no finished {STAGE} stage")
    if not (folder / "controls.parquet").exists():
        return (
            "<p>No control orderings were run in this study: name them in "
            '<code>[comparison.perturbation]</code> (<code>controls = ["other_identity", '
            '"expression_mean", "all_mean", "centre_bias", ..]</code>; '
            "<code>gazealign list controls</code> lists them) to measure whether people's "
            "fixations on each image carry information beyond the face prior, and whether the "
            "human - network difference survives equal blur.</p>"
        )
    controls = ctx.stage_table(STAGE, "controls")
    differences = ctx.stage_table(STAGE, "control_differences")
    methods = ctx.stage_table(STAGE, "auc_differences")
    curves = ctx.stage_table(STAGE, "curves")
    shown_curves = curves[
        curves["ordering_kind"].astype(str).isin(["human", "control", "random"])
        & (curves["order"].astype(str) == ORDER)
        & (curves["measure"].astype(str) == MEASURE)
    ]
    conf = f"{ctx.options.confidence:.0%}"
    caption = (
        f"{MEASURE.capitalize()} of the network as tiles are replaced, most relevant first, in the "
        "human order and in the order of each control: another identity's human map of the same "
        "expression, the expression's and all images' mean human maps (each image left out), the "
        "centre bias, and each network map blurred with the human map's kernel (dashed: random). "
        f"Band: {conf} interval over identities." + perturbation_settings(curves)
    )
    figure = ctx.figure(
        "control_curves", lambda: figures.perturbation_figure(shown_curves), caption
    )
    sentences = control_sentences(differences, controls, methods)
    if ctx.inputs.synthetic:
        sentences.append(
            "Built-in data (synthetic faces, simulated observers): these contrasts demonstrate "
            "the method; they are not a finding about people."
        )
    findings = "".join(f"<li>{esc(s)}</li>" for s in sentences)
    table = differences[
        (differences["quantity"].astype(str) == "auc") & (differences["label"].astype(str) == "all")
    ]
    shown = (
        "contrast",
        "order",
        "measure",
        "n",
        "n_groups",
        "estimate",
        "ci_low",
        "ci_high",
        "p_value",
        "cohens_dz",
    )
    what = table_html(
        shown_columns(
            controls,
            (
                "control",
                "description",
                "sigma_stimulus_px",
                "sigma_model_rows_px",
                "sigma_model_cols_px",
            ),
        )
    )
    return (
        f'<ul class="findings">{findings}</ul>'
        + figure
        + "<p>Human - control differences of the areas under the curves, over all images "
        f"({conf} identity-clustered intervals, sign-flip p). Under MoRF a negative difference "
        "means the human order removed the network's evidence sooner; under LeRF, a positive "
        "one.</p>" + table_html(shown_columns(table, shown)) + "<p>The controls:</p>" + what
    )
