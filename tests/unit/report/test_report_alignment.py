"""The alignment section's sentences state the result whichever way it went."""

from __future__ import annotations

import pandas as pd

from gazealign.report.sections.alignment import alignment_sentences, shortcut_sentences


def _sweep(alignment: list[float], accuracy: list[float]) -> pd.DataFrame:
    weights = [0.0, 0.3, 1.0, 3.0][: len(alignment)]
    return pd.DataFrame(
        {
            "weight": weights,
            "spearman_of_ceiling": alignment,
            "cc_of_ceiling": alignment,
            "test_accuracy": accuracy,
        }
    )


def _paired(rows: list[tuple[float, str, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["weight", "measure", "estimate", "ci_low", "ci_high"])


def test_a_falling_alignment_and_accuracy_are_said_plainly() -> None:
    sweep = _sweep([0.50, 0.40, 0.45, 0.30], [0.70, 0.60, 0.50, 0.30])
    paired = _paired([(w, "spearman", -0.1, -0.2, 0.05) for w in (0.3, 1.0, 3.0)])
    text = alignment_sentences(sweep, paired)
    assert text[0].startswith(
        "Alignment (Spearman / ceiling) does not rise with lambda: no lambda beats the baseline:"
    )
    assert "has its interval above 0 at no lambda" in text[0]
    assert text[2] == (
        "Test accuracy falls by more than 3 points from λ = 0 (0.700) at every larger lambda: "
        "0.600 at λ = 0.3, 0.500 at λ = 1, 0.300 at λ = 3."
    )


def test_an_alignment_that_peaks_is_not_called_rising() -> None:
    sweep = _sweep([0.30, 0.50, 0.40], [0.70, 0.68, 0.60])
    paired = _paired(
        [
            (0.3, "spearman", 0.2, 0.1, 0.3),
            (1.0, "spearman", 0.1, -0.01, 0.2),
            (0.3, "correct", -0.02, -0.08, 0.04),
        ]
    )
    text = alignment_sentences(sweep, paired)
    assert "does not rise steadily with lambda; it is highest at λ = 0.3" in text[0]
    assert "interval above 0 at λ = 0.3." in text[0]
    assert text[2].startswith("Test accuracy stays within 3 points of λ = 0 (0.700) at λ = 0.3")
    assert "λ = 1" not in text[2]


def test_an_aligned_network_that_loses_more_without_the_cue_is_said_to() -> None:
    shortcut = pd.DataFrame(
        {
            "weight": [0.0, 1.0],
            "cue_free_accuracy": [0.35, 0.25],
            "cued_accuracy": [1.0, 1.0],
            "cue_drop": [0.65, 0.75],
        }
    )
    paired = _paired([(1.0, "cue_drop", 0.1, 0.02, 0.2), (1.0, "correct", -0.1, -0.2, -0.02)])
    text = shortcut_sentences(shortcut, paired)
    assert text[0].endswith("(cue_drop +0.650): it learned the cue.")
    assert text[1].startswith(
        "The aligned network at λ = 1 loses more on cue-free faces than the plain one "
        "(cue_drop +0.750 against +0.650, difference +0.100, 95% CI +0.020 to +0.200, excludes 0)"
        " and scores lower on them: 0.250 against 0.350 (difference −0.100"
    )


def test_losing_less_to_the_cue_but_scoring_lower_is_not_called_a_win() -> None:
    shortcut = pd.DataFrame(
        {
            "weight": [0.0, 3.0],
            "cue_free_accuracy": [0.33, 0.26],
            "cued_accuracy": [1.0, 0.84],
            "cue_drop": [0.67, 0.58],
        }
    )
    text = shortcut_sentences(shortcut, _paired([]))
    assert "at λ = 3 loses less on cue-free faces than the plain one" in text[1]
    assert text[1].endswith(") but scores lower on them: 0.260 against 0.330.")
