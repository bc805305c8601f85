"""The controls section says in words whether the human order beats each control."""

from __future__ import annotations

import re

import pandas as pd
from report_fakes import FakeRun

from gazealign.report.sections.controls import control_sentences


def _summary(rows: list[tuple[str, float, float, float]]) -> pd.DataFrame:
    t = pd.DataFrame(rows, columns=["contrast", "estimate", "ci_low", "ci_high"])
    return t.assign(quantity="auc", measure="accuracy", order="morf", label="all")


def _controls() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "control": ["other_identity", "expression_mean", "centre_bias", "lrp_blurred"],
            "entry": ["other_identity", "expression_mean", "centre_bias", "<method>_blurred"],
            "description": ["Human map of the next identity", "Mean human map", "Centre", "B"],
            "method": ["", "", "", "lrp"],
            "sigma_model_rows_px": [float("nan")] * 3 + [2.5],
            "sigma_model_cols_px": [float("nan")] * 3 + [2.0],
        }
    )


def test_each_prior_gets_its_verdict_and_the_blur_its_own() -> None:
    differences = _summary(
        [
            ("human - other_identity", -0.05, -0.08, -0.02),
            ("human - expression_mean", -0.01, -0.03, 0.01),
            ("human - centre_bias", 0.03, 0.01, 0.05),
            ("human - lrp_blurred", -0.01, -0.04, 0.02),
        ]
    )
    sharp = _summary([("human - lrp", -0.10, -0.14, -0.06)])
    text = control_sentences(differences.assign(control=""), _controls(), sharp)
    assert len(text) == 4
    assert text[0].startswith("People's image-specific fixations carry information")
    assert "beyond other_identity (human map of the next identity)" in text[0]
    assert "human - other_identity \u22120.050 [\u22120.080, \u22120.020]" in text[0]
    assert text[1].startswith("The data do not show") and "interval includes 0" in text[1]
    assert text[2].startswith("The order of centre_bias") and "adds nothing" in text[2]
    assert text[3].startswith("The human - lrp difference does not survive equal blur")
    assert "sigma 2.50 x 2.00 model-input px" in text[3]
    survives = _summary([("human - lrp_blurred", -0.08, -0.12, -0.04)])
    again = control_sentences(survives, _controls(), sharp)
    assert again == [again[0]] and "survives equal blur" in again[0]
    nothing = control_sentences(survives, _controls(), _summary([("human - lrp", 0, -0.1, 0.1)]))
    assert nothing[0].startswith("There is no human - lrp difference to test")


def test_the_section_says_how_to_run_the_controls_when_none_ran(fake_run: FakeRun) -> None:
    section = re.search(r'<section id="controls">(.*?)</section>', fake_run.html, re.S)
    assert section is not None
    body = section.group(1)
    assert "No control orderings were run in this study" in body
    assert "gazealign list controls" in body and "Not available" not in body
