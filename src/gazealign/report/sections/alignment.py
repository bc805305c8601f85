"""The report's ``alignment`` section: what gaze-aligned training cost and bought, per lambda.

Read from the ``alignment_sweep`` stage's tables (it writes tables only; the trade-off figure is
drawn here, :mod:`gazealign.report.alignment_figures`): the trade-off figure (alignment against
accuracy, a point per lambda, as in Harmonization's figure, Fel et al. 2022, NeurIPS), a table
per lambda, the paired differences of each lambda against the smallest (lambda = 0: the plain
network), the shortcut table when a cue was planted, and sentences that state the result
whichever way it went: gaze-guided training need not make a network more human-like (van Dyck
et al. 2022), so the section says whether alignment rose and what accuracy did.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gazealign.pipeline.artifacts import read_json_artifact
from gazealign.report.alignment_figures import SYNTHETIC_NOTE, tradeoff_figure
from gazealign.report.html import SectionAbsent, SectionContext, esc, table_html
from gazealign.report.sections import report_section
from gazealign.report.summary import ci_text, fmt

STAGE = "alignment_sweep"

#: Test accuracy may fall by at most this much (3 points) for a lambda to count as "kept".
ACCURACY_TOLERANCE = 0.03

#: The paired measures, as the tables and sentences name them.
MEASURE_NAMES = {
    "correct": "test accuracy (cue-free)",
    "correct_cued": "test accuracy (cued)",
    "cue_drop": "cue_drop (cued − cue-free)",
    "spearman": "Spearman with the human map",
    "cc": "CC with the human map",
    "planted_share": "planted-region share",
    "morf_difference": "human − network MoRF AUC",
}

_PER_LAMBDA = {
    "weight": "λ",
    "test_accuracy": "test accuracy",
    "test_accuracy_ci_low": "acc. CI low",
    "test_accuracy_ci_high": "acc. CI high",
    "spearman": "Spearman",
    "spearman_of_ceiling": "Spearman / ceiling",
    "cc": "CC",
    "cc_of_ceiling": "CC / ceiling",
    "planted_share": "planted-region share",
    "morf_difference": "human − network MoRF AUC",
    "training_maps": "training images with a human map",
}


def lambda_text(weight: float) -> str:
    """``λ = 0.3`` (the shortest form of the value)."""
    return f"λ = {float(weight):g}"


def per_lambda_table(sweep: pd.DataFrame) -> pd.DataFrame:
    """The sweep table as shown: one row per lambda, the columns of :data:`_PER_LAMBDA`."""
    t = sweep.sort_values("weight").copy()
    t["training_maps"] = [
        f"{int(a)} of {int(b)}"
        for a, b in zip(t["train_images_with_map"], t["train_images"], strict=True)
    ]
    t["weight"] = [f"{float(w):g}" for w in t["weight"]]
    return t[[c for c in _PER_LAMBDA if c in t]].rename(columns=_PER_LAMBDA)


def paired_table(paired: pd.DataFrame) -> pd.DataFrame:
    """The paired differences as shown: lambda, baseline, measure, n, estimate, interval, p."""
    t = paired.copy()
    t["measure"] = [MEASURE_NAMES.get(str(m), str(m)) for m in t["measure"]]
    for c in ("weight", "baseline_weight"):
        t[c] = [f"{float(w):g}" for w in t[c]]
    columns = {
        "weight": "λ",
        "baseline_weight": "minus λ",
        "measure": "measure",
        "n": "images",
        "n_groups": "identities",
        "estimate": "mean difference",
        "ci_low": "CI low",
        "ci_high": "CI high",
        "p_value": "p (sign flip)",
    }
    return t[[c for c in columns if c in t]].rename(columns=columns)


def _difference(paired: pd.DataFrame, weight: float, measure: str) -> pd.Series | None:
    rows = paired[(paired["weight"].astype(float) == weight) & (paired["measure"] == measure)]
    return None if rows.empty else rows.iloc[0]


def _interval_word(row: pd.Series | None, confidence: float) -> str:
    """``, 95% CI a to b, excludes 0`` for a paired row, or ``""``."""
    if row is None:
        return ""
    low, high = float(row["ci_low"]), float(row["ci_high"])
    if not (np.isfinite(low) and np.isfinite(high)):
        return ""
    side = "excludes 0" if low > 0 or high < 0 else "includes 0"
    return f", {ci_text(low, high, confidence=confidence)}, {side}"


def alignment_sentences(
    sweep: pd.DataFrame, paired: pd.DataFrame, *, confidence: float = 0.95
) -> list[str]:
    """Whether alignment rose with lambda and what test accuracy did, in plain words.

    Alignment is the mean Spearman between the network's and the human maps divided by the
    observers' split-half ceiling (Harmonization's score, Fel et al. 2022); it "rises with
    lambda" when it is higher at every lambda than at the one before. Accuracy is "kept" at a
    lambda above the baseline when it is at most :data:`ACCURACY_TOLERANCE` below the
    baseline's.

    Parameters
    ----------
    sweep
        The sweep table (one row per lambda).
    paired
        The paired differences against the baseline (smallest) lambda.
    confidence
        The intervals' confidence level (for the wording).

    Returns
    -------
    list of str
        One sentence on alignment, one on CC, one on accuracy.
    """
    t = sweep.sort_values("weight").reset_index(drop=True)
    if len(t) < 2:
        return [
            f"Only one lambda was trained ({lambda_text(t['weight'].iloc[0])}): there is no "
            "trend to state."
        ]
    base = float(t["weight"].iloc[0])
    out = []
    for key, name in (
        ("spearman_of_ceiling", "Spearman / ceiling"),
        ("cc_of_ceiling", "CC / ceiling"),
    ):
        values = t[key].to_numpy(np.float64)
        trail = ", ".join(
            f"{fmt(v)} at {lambda_text(w)}" for w, v in zip(t["weight"], values, strict=True)
        )
        if not np.all(np.isfinite(values)):
            verdict = f"Alignment ({name}) could not be computed at every lambda"
        elif np.all(np.diff(values) > 0):
            verdict = f"Alignment ({name}) rises with lambda"
        elif values[1:].max() > values[0]:
            best = int(np.argmax(values))
            verdict = (
                f"Alignment ({name}) does not rise steadily with lambda; it is highest at "
                f"{lambda_text(t['weight'].iloc[best])}"
            )
        else:
            verdict = f"Alignment ({name}) does not rise with lambda: no lambda beats the baseline"
        text = f"{verdict}: {trail}."
        measure = "spearman" if key.startswith("spearman") else "cc"
        above = [
            lambda_text(w)
            for w in t["weight"].iloc[1:]
            if (row := _difference(paired, float(w), measure)) is not None
            and float(row["ci_low"]) > 0
        ]
        if measure == "spearman":
            text += (
                " The paired difference in Spearman against "
                f"{lambda_text(base)} has its interval above 0 at "
                + (", ".join(above) if above else "no lambda")
                + "."
            )
        out.append(text)
    acc0 = float(t["test_accuracy"].iloc[0])
    kept = [
        float(w)
        for w, a in zip(t["weight"].iloc[1:], t["test_accuracy"].iloc[1:], strict=True)
        if float(a) >= acc0 - ACCURACY_TOLERANCE
    ]
    points = f"{ACCURACY_TOLERANCE * 100:g} points"
    if kept:
        parts = []
        for w in kept:
            row = _difference(paired, w, "correct")
            acc = float(t.loc[t["weight"] == w, "test_accuracy"].iloc[0])
            diff = (
                f"; difference {fmt(float(row['estimate']), signed=True)}"
                if row is not None
                else ""
            )
            parts.append(f"{lambda_text(w)} ({fmt(acc)}{diff}{_interval_word(row, confidence)})")
        out.append(
            f"Test accuracy stays within {points} of {lambda_text(base)} ({fmt(acc0)}) at "
            + ", ".join(parts)
            + "."
        )
    else:
        worst = ", ".join(
            f"{fmt(float(a))} at {lambda_text(w)}"
            for w, a in zip(t["weight"].iloc[1:], t["test_accuracy"].iloc[1:], strict=True)
        )
        out.append(
            f"Test accuracy falls by more than {points} from {lambda_text(base)} "
            f"({fmt(acc0)}) at every larger lambda: {worst}."
        )
    return out


def shortcut_sentences(
    shortcut: pd.DataFrame, paired: pd.DataFrame, *, confidence: float = 0.95
) -> list[str]:
    """What the planted cue did to the plain network and to each aligned one.

    ``cue_drop`` = cued - cue-free accuracy: what a network loses when the cue is taken away.
    The aligned network "loses less" on cue-free faces when its ``cue_drop`` is below the plain
    network's (the paired difference of ``cue_drop`` is negative); the sentence also says
    whether its cue-free accuracy is higher or lower, since a network that learned less of
    everything loses less to the cue and still scores lower without it.

    Parameters
    ----------
    shortcut
        The shortcut table (one row per lambda).
    paired
        The paired differences against the baseline (smallest) lambda.
    confidence
        The intervals' confidence level (for the wording).

    Returns
    -------
    list of str
        One sentence on the plain network, one per larger lambda.
    """
    t = shortcut.sort_values("weight").reset_index(drop=True)
    r0 = t.iloc[0]
    base = float(r0["weight"])
    out = [
        f"The plain network ({lambda_text(base)}) scores {fmt(float(r0['cued_accuracy']))} on "
        f"cued test faces and {fmt(float(r0['cue_free_accuracy']))} on cue-free ones "
        f"(cue_drop {fmt(float(r0['cue_drop']), signed=True)}): "
        + (
            "it learned the cue."
            if float(r0["cue_drop"]) > ACCURACY_TOLERANCE
            else "the cue hardly changed its answers, so this set cannot show a shortcut."
        )
    ]
    for _, r in t.iloc[1:].iterrows():
        w = float(r["weight"])
        row = _difference(paired, w, "cue_drop")
        diff = float(r["cue_drop"]) - float(r0["cue_drop"])
        word = "less" if diff < 0 else "more" if diff > 0 else "as much"
        acc_row = _difference(paired, w, "correct")
        acc_diff = float(r["cue_free_accuracy"]) - float(r0["cue_free_accuracy"])
        acc_word = "higher" if acc_diff > 0 else "lower" if acc_diff < 0 else "the same"
        # "loses less" and "scores lower" do not go together: say "but" then
        agree = (diff < 0 and acc_diff >= 0) or (diff > 0 and acc_diff <= 0) or diff == 0
        out.append(
            f"The aligned network at {lambda_text(w)} loses {word} on cue-free faces than the "
            f"plain one (cue_drop {fmt(float(r['cue_drop']), signed=True)} against "
            f"{fmt(float(r0['cue_drop']), signed=True)}, difference "
            f"{fmt(diff, signed=True)}{_interval_word(row, confidence)}) "
            f"{'and' if agree else 'but'} scores {acc_word} on them: "
            f"{fmt(float(r['cue_free_accuracy']))} against "
            f"{fmt(float(r0['cue_free_accuracy']))}"
            + (
                f" (difference {fmt(float(acc_row['estimate']), signed=True)}"
                f"{_interval_word(acc_row, confidence)})"
                if acc_row is not None
                else ""
            )
            + "."
        )
    return out


def _figure_caption(sweep: pd.DataFrame, summary: dict[str, Any], conf: str) -> str:
    a = summary.get("alignment") or {}
    objective = a.get("objective", str(sweep["objective"].iloc[0]))
    saliency = a.get("saliency", str(sweep["saliency"].iloc[0]))
    return (
        f"One network per λ ({objective} objective, {saliency} saliency in the loss; same "
        "initialisation and data order for every λ). x: mean Spearman between the network's map "
        "and the human map on held-out identities, divided by the observers' split-half "
        f"ceiling; y: test accuracy with its {conf} interval resampling identities."
    )


@report_section("alignment", title="Gaze-aligned training: alignment against accuracy", order=85)
def alignment_section(ctx: SectionContext) -> str:
    """The lambda sweep: trade-off figure, per-lambda and paired tables, shortcut set."""
    folder = ctx.inputs.stage_dirs.get(STAGE)
    if folder is None:
        raise SectionAbsent(f"the run has no finished {STAGE} stage (no [alignment] lambdas run)")
    summary = read_json_artifact(folder, "summary")
    if not summary.get("enabled"):
        raise SectionAbsent("the study set no [alignment] lambdas: no aligned network was trained")
    sweep = ctx.stage_table(STAGE, "sweep")
    paired = ctx.stage_table(STAGE, "paired")
    confidence = ctx.options.confidence
    conf = f"{confidence:.0%}"
    sentences = alignment_sentences(sweep, paired, confidence=confidence)
    shortcut: pd.DataFrame | None = None
    if (folder / "shortcut.parquet").exists():
        shortcut = ctx.stage_table(STAGE, "shortcut")
        sentences += shortcut_sentences(shortcut, paired, confidence=confidence)
    synthetic = bool(summary.get("synthetic", ctx.inputs.synthetic))
    note = (
        f'<p class="note">{esc(SYNTHETIC_NOTE)} These numbers show how aligned training is '
        "measured; they are not a finding about people.</p>"
        if synthetic
        else ""
    )
    figure = ctx.figure(
        "alignment_tradeoff",
        lambda: tradeoff_figure(sweep, synthetic=synthetic),
        _figure_caption(sweep, summary, conf),
    )
    findings = "".join(f"<li>{esc(s)}</li>" for s in sentences)
    html = (
        note
        + f'<ul class="findings">{findings}</ul>'
        + figure
        + "<h3>Per λ</h3>"
        + "<p>Scores on the held-out identities. Spearman and CC: mean over test images with a "
        "human map; the ceiling is the observers' split-half agreement on the same images. "
        "Planted-region share: positive relevance inside the planted region (synthetic faces). "
        "Human − network MoRF AUC: above 0, the network's own tile order finds its evidence "
        "faster than the human order.</p>"
        + table_html(per_lambda_table(sweep))
        + "<h3>Paired differences against the plain network</h3>"
        + f"<p>Per λ and measure: the mean over test images of (value at λ − value at the "
        f"smallest λ), {conf} interval and sign-flip test resampling identities.</p>"
        + table_html(paired_table(paired))
    )
    if shortcut is not None:
        html += (
            "<h3>Shortcut set</h3><p>Training and validation faces carried a cue that goes with "
            "the expression; test faces are scored without it (cue-free) and with their class's "
            f"cue (cued); cue_drop = cued − cue-free, {conf} intervals resampling identities."
            "</p>" + table_html(shortcut.sort_values("weight").rename(columns={"weight": "λ"}))
        )
    return html
