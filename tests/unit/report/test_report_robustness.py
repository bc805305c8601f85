"""The robustness verdict names the (tile size, fill) pairs where the headline changes sign."""

from __future__ import annotations

import re

import pandas as pd
from report_fakes import METHOD, FakeRun

from gazealign.report.perturbation_figures import robustness_figure
from gazealign.report.sections.robustness import sign_sentences
from gazealign.stages.perturbation_robustness import sign_agreement


def _contrasts() -> pd.DataFrame:
    rows = [
        # tile, fill, contrast, estimate, ci_low, ci_high
        (56, "uniform_noise", "human - a", -0.08, -0.10, -0.06),
        (28, "uniform_noise", "human - a", -0.05, -0.07, -0.02),
        (28, "mean", "human - a", 0.02, -0.01, 0.05),
        (56, "uniform_noise", "human - b", -0.06, -0.08, -0.04),
        (28, "uniform_noise", "human - b", -0.01, -0.03, 0.01),
        (28, "mean", "human - b", -0.04, -0.06, -0.02),
    ]
    t = pd.DataFrame(rows, columns=["tile_px", "fill", "contrast", "estimate", "ci_low", "ci_high"])
    return t.assign(measure="accuracy", study_setting=(t.tile_px == 56))


def _reference() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "measure": ["accuracy", "accuracy"],
            "contrast": ["human - a", "human - b"],
            "estimate": [-0.08, -0.06],
            "ci_low": [-0.1, -0.08],
            "ci_high": [-0.06, -0.04],
        }
    )


def test_a_pair_with_the_other_sign_is_named_and_an_interval_holding_zero_too() -> None:
    agreement = sign_agreement(_contrasts(), _reference()).set_index("contrast")
    a, b = agreement.loc["human - a"], agreement.loc["human - b"]
    assert (a.pairs, a.same_sign, bool(a.keeps_sign)) == (3, 2, False)
    assert a.other_sign == "28 px / mean" and a.interval_holds_zero == "28 px / mean"
    assert (b.same_sign, bool(b.keeps_sign), b.other_sign) == (3, True, "")
    assert b.interval_holds_zero == "28 px / uniform_noise"
    text = sign_sentences(agreement.reset_index())
    assert "human - a" in text[0] and "does not keep its sign" in text[0]
    assert "other sign at 28 px / mean (2 of 3 pairs keep it)" in text[0]
    assert "keeps its sign in all 3" in text[1]
    assert "interval includes 0 at 28 px / uniform_noise" in text[1]


def test_robustness_figure_has_a_panel_per_contrast_and_a_row_per_pair() -> None:
    fig = robustness_figure(_contrasts())
    assert len(fig.axes) == 2
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert sorted(labels) == ["28 px, mean", "28 px, uniform_noise", "56 px, uniform_noise"]


def test_the_report_shows_the_strip_and_names_the_pair_that_flips(fake_run: FakeRun) -> None:
    html = fake_run.html
    strip = re.search(r'<section id="perturbation_strip">(.*?)</section>', html, re.S)
    assert strip is not None
    body = strip.group(1)
    # default faces: one per expression in label order, two of them
    assert body.count("<img") == 2 and "T01AF" in body and "T01AN" in body
    assert "Fill: &#x27;blur&#x27; (sigma 8.0 px); tiles of 6 px, a 4 × 4 grid" in body
    assert "&#x27;signed&#x27; relevance" in body and "most relevant first (MoRF)" in body
    for sid in ("T01AF", "T01AN"):
        for fmt in ("png", "pdf"):
            assert (fake_run.report_dir / "figures" / f"perturbation_strip_{sid}.{fmt}").exists()
    # the table: the stand-in's curve 0.9 -> 0.1 has area 0.5 (human); the method's is lower
    assert "0.500" in body
    sweep = re.search(r'<section id="robustness">(.*?)</section>', html, re.S)
    assert sweep is not None
    text = sweep.group(1)
    assert f"human - {METHOD} (accuracy; the perturbation stage&#x27;s estimate +0.123)" in text
    assert "does not keep its sign: the estimate has the other sign at 12 px / mean" in text
    assert "(3 of 4 pairs keep it)" in text and "0.088" in text and "<img" in text
