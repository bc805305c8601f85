"""Plain-language findings: each sentence states what the numbers hold, with intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gazealign.report.figures import confusion_counts
from gazealign.report.summary import (
    auc_sentences,
    fmt,
    metric_sentences,
    region_sentences,
    summarise,
)


def _auc(
    rows: list[tuple[str, float, float, float]], contrast: str = "human - network"
) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"label": lab, "contrast": contrast, "estimate": e, "ci_low": lo, "ci_high": hi}
            for lab, e, lo, hi in rows
        ]
    )


def test_fmt_uses_a_true_minus_and_optional_plus() -> None:
    assert fmt(-0.25, signed=True) == "\u22120.250"
    assert fmt(0.25, signed=True) == "+0.250"
    assert fmt(float("nan")) == "n/a"


def test_drivers_are_the_classes_whose_interval_excludes_zero_largest_first() -> None:
    table = _auc(
        [
            ("all", 0.10, 0.04, 0.16),
            ("happy", 0.30, 0.20, 0.40),
            ("afraid", -0.40, -0.50, -0.30),
            ("sad", 0.05, -0.02, 0.12),
        ]
    )
    (text,) = auc_sentences(table, confidence=0.9)
    # Without an interaction test no expression is said to drive the difference.
    assert "Expressions whose own interval excludes zero (largest first): afraid" in text
    (flat,) = auc_sentences(table.assign(interaction_p=0.4), confidence=0.9)
    assert "does not clearly depend on the expression" in flat and "drive it" not in flat
    (text,) = auc_sentences(table.assign(interaction_p=0.01), confidence=0.9)
    assert "depends on the expression (expression x ordering interaction" in text
    assert "human - network is +0.100 (90% CI +0.040 to +0.160)" in text
    assert (
        "The expressions that drive it (largest first): "
        "afraid \u22120.400 [\u22120.500, \u22120.300]; happy +0.300 [+0.200, +0.400]."
    ) in text
    assert "For sad the interval includes zero." in text
    # positive overall: the network's order removes the evidence sooner
    assert (
        "Accuracy fell faster when tiles were removed in the network order than in the human order"
        in text
    )


def test_undefined_estimates_do_not_read_as_a_direction() -> None:
    table = _auc(
        [("all", 0.2, np.nan, np.nan), ("happy", 0.3, 0.1, 0.5), ("sad", 0.4, np.nan, np.nan)]
    )
    (text,) = auc_sentences(table.assign(n=[1, 16, 1]))
    assert "human - network is undefined" in text
    assert "Accuracy fell faster" not in text and "Undefined for sad" in text


def test_negative_and_unclear_overall_differences_read_correctly() -> None:
    (neg,) = auc_sentences(_auc([("all", -0.1, -0.2, -0.05)], contrast="network - random"))
    assert "removed in the network order than in the random order" in neg
    (unclear,) = auc_sentences(_auc([("all", 0.01, -0.02, 0.04), ("happy", 0.01, -0.01, 0.03)]))
    assert "do not show whether the human or the network order" in unclear
    assert "No single expression's human - network interval excludes zero." in unclear
    (mixed,) = auc_sentences(_auc([("all", 0.01, -0.02, 0.04), ("happy", 0.2, 0.1, 0.3)]))
    assert "Expressions whose own interval excludes zero (largest first): happy" in mixed


def test_metric_sentences_read_the_network_against_ceiling_and_baselines() -> None:
    table = pd.DataFrame(
        {
            "metric": ["NSS", "NSS", "NSS", "KLD", "KLD"],
            "map": ["lrp", "noise ceiling", "centre bias", "lrp", "noise ceiling"],
            "value": [1.0, 2.0, 0.5, 1.5, 0.5],
        }
    )
    nss, kld = metric_sentences(table)
    assert nss == (
        "NSS (higher is better): lrp scores 1.000 against a human noise ceiling of 2.000 (33% of "
        "the way from the centre bias to the ceiling); baselines: centre bias 0.500."
    )
    assert kld == "KLD (lower is better): lrp scores 1.500 against a human noise ceiling of 0.500."
    # The example: AUC 0.75 against a 0.92 ceiling reads 82 % raw, 60 % above chance;
    # a held-out percent_of_ceiling from the stage takes precedence.
    auc = pd.DataFrame(
        {
            "metric": "auc_judd",
            "map": ["lrp", "human (leave-one-out ceiling)", "centre bias"],
            "value": [0.75, 0.92, 0.5],
        }
    )
    (text,) = metric_sentences(auc)
    assert "(60% of the way from the centre bias to the ceiling)" in text
    (held,) = metric_sentences(auc.assign(percent_of_ceiling=[0.42, np.nan, np.nan]))
    assert "(42% of the way" in held


def test_region_sentences_compare_the_top_region_of_each_source() -> None:
    table = pd.DataFrame(
        {
            "label": ["happy"] * 4 + ["sad"] * 4,
            "region": ["eyes", "mouth", "eyes", "face"] * 2,
            "source": ["human", "human", "network", "network"] * 2,
            "share": [0.3, 0.6, 0.2, 0.9, 0.7, 0.1, 0.8, 0.95],
        }
    )
    differ, agree = region_sentences(table)
    # 'face' is the whole face: left out, so the network's top part for happy is eyes
    assert differ.endswith("happy: people mouth (60%), network eyes (20%).")
    assert agree == "People and network share the top region for sad (eyes)."
    # The image area is a baseline beside each region, never the network's side; every
    # network method is compared with people on its own.
    area = pd.DataFrame(
        {
            "label": ["sad"] * 3,
            "region": ["eyes", "planted", "mouth"],
            "source": "image area",
            "share": [0.1, 0.04, 0.06],
        }
    )
    more = pd.concat(
        [
            table,
            area,
            table[table["source"] == "network"].assign(
                source="gradient", share=[0.1, 0.2, 0.1, 0.1]
            ),
        ]
    )
    sentences = region_sentences(more)
    assert "people eyes (70%; image area 10%), network eyes" not in " ".join(sentences)
    assert "People and network share the top region for happy" not in " ".join(sentences)
    assert "People and network share the top region for sad (eyes; image area 10%)." in sentences
    assert any(
        s.startswith("The region with the largest share differs between people and gradient")
        for s in sentences
    )
    assert not any("people and image area" in s for s in sentences)


def test_summarise_collects_numbers_and_says_when_nothing_is_there() -> None:
    counts = confusion_counts(["happy", "sad", "sad", "sad"], ["happy", "sad", "happy", "sad"])
    summary = summarise(
        confusions={"human responses": counts}, train_metrics={"test": {"accuracy": 0.5}}
    )
    assert summary.sentences == [
        "The network recognised 50.0% of the test faces.",
        "The observers named the expression correctly on 75.0% of 4 trials.",
    ]
    assert summary.numbers == {"test_accuracy": 0.5, "human_accuracy": 0.75}
    assert summarise().sentences == ["No results were found in this run to summarise."]


def test_headline_table_answers_first_per_network_method() -> None:
    from gazealign.report.summary import headline_table

    auc = pd.DataFrame(
        [
            {
                "label": "all",
                "contrast": "human - lrp",
                "estimate": 0.1,
                "ci_low": 0.02,
                "ci_high": 0.18,
                "n": 112,
                "n_groups": 16,
                "resampling_unit": "identity",
                "interval_method": "bca",
                "interval_expanded": True,
                "p_value": 0.012,
                "interaction_p": 0.3,
            },
            {
                "label": "all",
                "contrast": "human - gradient",
                "estimate": 0.1,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "n": 1,
                "n_groups": 1,
                "p_value": np.nan,
            },
            {
                "label": "all",
                "contrast": "human - random",
                "estimate": 0.0,
                "ci_low": -0.1,
                "ci_high": 0.1,
            },
        ]
    )
    metrics = pd.DataFrame(
        {
            "metric": ["cc", "cc", "cc", "nss", "nss", "nss"],
            "map": ["lrp", "human (leave-one-out ceiling)", "centre bias"] * 2,
            "value": [0.5, 0.7, 0.3, 1.0, 2.0, 0.5],
            "percent_of_ceiling": [0.55, np.nan, np.nan, np.nan, np.nan, np.nan],
        }
    )
    table = headline_table(auc, metrics)
    assert table is not None and table["network method"].tolist() == ["lrp", "gradient"]
    lrp = table.iloc[0]
    assert lrp["human - network MoRF AUC"] == "+0.100 [+0.020, +0.180]"
    assert lrp["interval"] == "112 images, 16 identities; BCa, small-sample expanded interval"
    assert (lrp["p"], lrp["interaction p (expression x ordering)"]) == ("0.012", "0.3")
    assert lrp["% of ceiling above chance, cc"] == "55%"  # the stage's held-out value
    assert lrp["% of ceiling above chance, nss"] == "33%"  # (1.0 - 0.5) / (2.0 - 0.5)
    assert lrp["% of ceiling above chance, auc_judd"] == "undefined"
    grad = table.iloc[1]
    assert grad["human - network MoRF AUC"] == "undefined" and grad["p"] == "undefined"
    assert grad["interaction p (expression x ordering)"] == "not tested"


def test_all_zero_network_maps_are_flagged() -> None:
    from gazealign.report.summary import summarise

    metrics = pd.DataFrame(
        {
            "metric": ["cc", "nss"],
            "map": ["lrp", "lrp"],
            "value": [0.1, 0.2],
            "all_zero_maps": [3, 3],
        }
    )
    sentences = summarise(metrics=metrics).sentences
    assert sentences[0].startswith("Warning: the lrp map is all zero on 3 image(s)")


def test_metric_sentence_reads_the_held_out_numbers_of_the_leave_one_out_ceiling() -> None:
    table = pd.DataFrame(
        {
            "metric": "nss",
            "map": ["lrp", "human (leave-one-out ceiling)", "centre bias"],
            "value": [0.9, 2.0, 1.0],
            "held_out_score": [0.8, np.nan, np.nan],
            "held_out_ceiling": [1.9, np.nan, np.nan],
            "held_out_chance": [1.2, np.nan, np.nan],
            "percent_of_ceiling": [(0.8 - 1.2) / (1.9 - 1.2), np.nan, np.nan],
        }
    )
    (text,) = metric_sentences(table)
    assert (
        "on held-out observers 0.800 against the leave-one-out ceiling 1.900 and the centre bias "
        "1.200 (\u221257% of the way from the centre bias to the ceiling)"
    ) in text
