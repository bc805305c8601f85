"""Bootstrap intervals, sign-flip permutation tests, effect sizes, summary tables."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gazealign.stats.inference import (
    bootstrap_mean_ci,
    cohens_dz,
    paired_permutation_test,
    rank_biserial,
)
from gazealign.stats.tables import summarise


def test_bootstrap_matches_scipy_percentile_interval() -> None:
    x = np.random.default_rng(0).normal(1.0, 2.0, size=40)
    ours = bootstrap_mean_ci(x, resamples=20000, confidence=0.9, seed=1, method="percentile")
    ref = stats.bootstrap(
        (x,),
        np.mean,
        n_resamples=20000,
        confidence_level=0.9,
        method="percentile",
        rng=np.random.default_rng(2),
    ).confidence_interval
    se = x.std(ddof=1) / np.sqrt(x.size)
    assert ours.estimate == pytest.approx(x.mean())
    assert abs(ours.ci_low - ref.low) < 0.05 * se * 4
    assert abs(ours.ci_high - ref.high) < 0.05 * se * 4


def test_singleton_groups_equal_the_plain_bootstrap_and_clusters_widen() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=30)
    plain = bootstrap_mean_ci(x, resamples=500, seed=3)
    grouped = bootstrap_mean_ci(x, resamples=500, seed=3, groups=np.arange(30))
    assert (plain.ci_low, plain.ci_high) == (grouped.ci_low, grouped.ci_high)
    # Six subjects with strong subject effects: resampling subjects gives a wider interval.
    subject = np.repeat(np.arange(6), 5)
    y = rng.normal(size=6)[subject] * 3 + rng.normal(size=30) * 0.1
    rows = bootstrap_mean_ci(y, resamples=2000, seed=4)
    clusters = bootstrap_mean_ci(y, resamples=2000, seed=4, groups=subject)
    assert clusters.n_groups == 6
    assert clusters.ci_high - clusters.ci_low > 1.5 * (rows.ci_high - rows.ci_low)


def test_bootstrap_degenerate_cases() -> None:
    const = bootstrap_mean_ci(np.full(5, 0.25), resamples=100, seed=0)
    assert (const.ci_low, const.estimate, const.ci_high) == (0.25, 0.25, 0.25)
    one = bootstrap_mean_ci([1.0], resamples=100, seed=0)
    assert np.isnan(one.ci_low) and one.estimate == 1.0
    with pytest.raises(ValueError, match="NaN"):
        bootstrap_mean_ci([1.0, np.nan], seed=0)


def _naive_sign_flip_p(d: np.ndarray) -> float:
    """All 2**n sign patterns; two-sided p = 2 * min(P(null <= obs), P(null >= obs)), max 1."""
    obs = d.mean()
    null = np.array([np.mean(d * s) for s in itertools.product((-1, 1), repeat=d.size)])
    return min(1.0, 2 * min(np.mean(null <= obs + 1e-12), np.mean(null >= obs - 1e-12)))


@pytest.mark.parametrize("seed", range(4))
def test_exact_permutation_test_equals_enumeration(seed: int) -> None:
    d = np.round(np.random.default_rng(seed).normal(0.3, 1, size=8), 2)
    res = paired_permutation_test(d, permutations=5000, seed=0)
    assert res.exact and res.permutations == 2**8
    assert res.p_value == pytest.approx(_naive_sign_flip_p(d), abs=1e-12)


def test_permutation_golden_and_monte_carlo() -> None:
    # Five positive differences: only the observed pattern and its mirror are as extreme.
    assert paired_permutation_test(np.arange(1.0, 6.0), seed=0).p_value == pytest.approx(2 / 32)
    d = np.random.default_rng(0).normal(0.0, 1.0, size=40)
    mc = paired_permutation_test(d, permutations=999, seed=1)
    assert not mc.exact and mc.permutations == 999
    assert 0 < mc.p_value <= 1
    shifted = paired_permutation_test(d + 1.0, permutations=999, seed=1)
    # smallest attainable two-sided value 2 * 1/(999 + 1): the observed pattern counts, never 0
    assert shifted.p_value == pytest.approx(2 / 1000)


def test_effect_sizes_golden() -> None:
    assert cohens_dz([1.0, 2.0, 3.0]) == pytest.approx(2.0)
    assert rank_biserial([1.0, -2.0, 3.0]) == pytest.approx(1 / 3)  # ranks 1,2,3: (4-2)/6
    assert rank_biserial([0.0, 0.0]) != rank_biserial([0.0, 0.0])  # NaN when all zero
    assert np.isnan(cohens_dz([1.0, 1.0]))


def test_summarise_gives_one_row_per_key_and_class_with_settings() -> None:
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {
            "comparison": np.repeat(["a", "b"], 12),
            "label": np.tile(np.repeat(["happy", "sad"], 6), 2),
            "diff": rng.normal(size=24),
        }
    )
    out = summarise(
        table, value="diff", keys=["comparison"], resamples=200, permutations=100, seed=5
    )
    assert len(out) == 6  # 2 comparisons x (all + 2 classes)
    assert out[["comparison", "label"]].values.tolist()[:3] == [
        ["a", "all"],
        ["a", "happy"],
        ["a", "sad"],
    ]
    assert out["n"].tolist() == [12, 6, 6] * 2
    assert (out["bootstrap_resamples"] == 200).all()
    assert out["bootstrap_seed"].nunique() == 6
    sub = table[(table.comparison == "a") & (table.label == "sad")]["diff"]
    assert out.iloc[2]["estimate"] == pytest.approx(sub.mean())
    assert out.iloc[2]["cohens_dz"] == pytest.approx(cohens_dz(sub))


def test_permutation_test_of_one_difference_is_exact() -> None:
    from gazealign.stats.inference import paired_permutation_test

    two = paired_permutation_test([0.4], seed=1)
    assert (two.p_value, two.permutations, two.exact) == (1.0, 2, True)
    assert paired_permutation_test([0.4], seed=1, alternative="greater").p_value == 0.5
    assert paired_permutation_test([0.4], seed=1, alternative="less").p_value == 1.0
