"""Cluster bootstrap, cluster sign-flip tests, BCa, Holm/BH and the interaction test, each
checked against a slow loop written from its definition or against SciPy / hand values."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from gazealign.stats import resampling as rs
from gazealign.stats.inference import bootstrap_mean_ci, paired_permutation_test
from gazealign.stats.interaction import (
    class_sum_of_squares,
    interaction_permutation_test,
    within_group_permutations,
)
from gazealign.stats.multiplicity import adjust_p


def _clustered(seed: int, n_ids: int = 9, icc: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Unequal cluster sizes (1-4 images per identity), shared identity effect."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 5, size=n_ids)
    ids = np.repeat([f"id{k:02d}" for k in range(n_ids)], sizes)
    effect = rng.normal(size=n_ids) * np.sqrt(icc)
    values = np.repeat(effect, sizes) + rng.normal(size=ids.size) * np.sqrt(1 - icc) + 0.2
    order = rng.permutation(ids.size)  # rows in no particular order
    return values[order], ids[order]


@pytest.mark.parametrize("seed", range(3))
def test_cluster_bootstrap_equals_loop_over_drawn_identities(seed: int) -> None:
    values, ids = _clustered(seed)
    labels = np.unique(ids)
    boot = rs.bootstrap_means(rs.cluster_totals(values, ids), 300, seed=seed)
    # Slow loop: draw identities with replacement, keep all their images, take the mean.
    draws = np.random.default_rng(seed).integers(0, labels.size, size=(300, labels.size))
    loop = [np.concatenate([values[ids == labels[k]] for k in row]).mean() for row in draws]
    np.testing.assert_allclose(boot, loop, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_exact_cluster_sign_flip_equals_enumeration_of_identity_flips(seed: int) -> None:
    values, ids = _clustered(seed, n_ids=7)
    labels = np.unique(ids)
    res = paired_permutation_test(values, groups=ids, permutations=10_000, seed=0)
    assert res.exact and res.permutations == 2**7 and res.n_groups == 7
    # Slow loop: flip every image of an identity together, recompute the mean over images.
    obs = values.mean()
    null = []
    for signs in itertools.product((-1.0, 1.0), repeat=labels.size):
        flip = dict(zip(labels, signs, strict=True))
        null.append(np.mean([v * flip[i] for v, i in zip(values, ids, strict=True)]))
    null_a = np.array(null)
    p = min(1.0, 2 * min(np.mean(null_a >= obs - 1e-12), np.mean(null_a <= obs + 1e-12)))
    assert res.p_value == pytest.approx(p, abs=1e-12)


def test_monte_carlo_cluster_sign_flip_equals_loop_with_the_same_patterns() -> None:
    values, ids = _clustered(5, n_ids=16)
    labels = np.unique(ids)
    res = paired_permutation_test(values, groups=ids, permutations=500, seed=9)
    assert not res.exact and res.permutations == 500
    patterns = np.random.default_rng(9).choice(np.array([-1.0, 1.0]), size=(500, labels.size))
    obs = values.mean()
    null = np.array([np.mean(values * s[np.searchsorted(labels, ids)]) for s in patterns])
    greater = (np.sum(null >= obs - 1e-12) + 1) / 501
    less = (np.sum(null <= obs + 1e-12) + 1) / 501
    assert res.p_value == pytest.approx(min(1.0, 2 * min(greater, less)), abs=1e-12)


def test_unclustered_sign_flip_equals_scipy_exact() -> None:
    d = np.random.default_rng(1).normal(0.4, 1, size=10)
    ours = paired_permutation_test(d, permutations=2000, seed=0)
    ref = stats.permutation_test(
        (d,), np.mean, permutation_type="samples", n_resamples=2000, vectorized=True, axis=-1
    )
    assert ours.exact and ours.p_value == pytest.approx(ref.pvalue, abs=1e-12)


@pytest.mark.parametrize(
    ("seed", "confidence"), [(0, 0.95), (1, 0.9), (2, 0.95)], ids=["normal", "skew90", "skew95"]
)
def test_bca_equals_scipy_on_unclustered_data(seed: int, confidence: float) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=30) if seed == 0 else rng.lognormal(0.0, 1.0, size=30)
    ours = bootstrap_mean_ci(x, resamples=40_000, confidence=confidence, seed=seed)
    ref = stats.bootstrap(
        (x,),
        np.mean,
        n_resamples=40_000,
        confidence_level=confidence,
        method="BCa",
        rng=np.random.default_rng(seed + 100),
    ).confidence_interval
    se = x.std(ddof=1) / np.sqrt(x.size)
    assert ours.method == "bca"
    # Independent Monte Carlo draws: agreement to a small fraction of the standard error.
    assert abs(ours.ci_low - ref.low) < 0.06 * se
    assert abs(ours.ci_high - ref.high) < 0.06 * se
    # And BCa moves the interval the way the skew says (away from the percentile one).
    pct = bootstrap_mean_ci(
        x, resamples=40_000, confidence=confidence, seed=seed, method="percentile"
    )
    if seed > 0:
        assert ours.ci_high > pct.ci_high


def test_acceleration_of_the_mean_is_the_textbook_skewness_formula() -> None:
    x = np.array([0.1, 0.4, 0.5, 2.0, 3.5, 0.2])
    jack = rs.jackknife_means(rs.cluster_totals(x))
    dev = x - x.mean()
    # Efron & Tibshirani 1993, eq. 14.15 for the mean: a = sum(dev^3) / (6 sum(dev^2)^1.5).
    assert float(rs.acceleration(jack)) == pytest.approx(
        (dev**3).sum() / (6 * (dev**2).sum() ** 1.5), rel=1e-12
    )


def test_bca_levels_equal_percentile_levels_for_a_symmetric_unbiased_case() -> None:
    boot = np.linspace(-1, 1, 1001)  # median = estimate -> z0 = 0
    jack = np.array([-1.0, 0.0, 1.0])  # symmetric -> a = 0
    lo, hi = rs.interval_levels(boot, 0.0, confidence=0.9, jackknife=jack)
    assert (float(lo), float(hi)) == pytest.approx((0.05, 0.95), abs=1e-12)


def test_cluster_interval_counts_identities_and_widens() -> None:
    rng = np.random.default_rng(0)
    ids = np.repeat(np.arange(16), 7)
    y = rng.normal(size=16)[ids] + rng.normal(size=ids.size) * 0.3
    plain = bootstrap_mean_ci(y, resamples=2000, seed=1)
    clustered = bootstrap_mean_ci(y, resamples=2000, seed=1, groups=ids)
    assert (plain.n_groups, clustered.n_groups, clustered.n) == (112, 16, 112)
    assert clustered.ci_high - clustered.ci_low > 1.8 * (plain.ci_high - plain.ci_low)


def test_holm_and_bh_equal_hand_computed_values() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005 0.01 0.03 0.04 times 4 3 2 1 = 0.02 0.03 0.06 0.04, running max.
    np.testing.assert_allclose(adjust_p(p, method="holm"), [0.03, 0.06, 0.06, 0.02])
    # BH: sorted times m / rank = 0.02 0.02 0.04 0.04, running min from the top.
    np.testing.assert_allclose(adjust_p(p, method="fdr_bh"), [0.02, 0.04, 0.04, 0.02])
    np.testing.assert_allclose(adjust_p(p, method="none"), p)
    # NaN (an undefined test) is not a member of the family.
    out = adjust_p([0.01, np.nan, 0.04], method="holm")
    assert np.isnan(out[1]) and out[0] == pytest.approx(0.02) and out[2] == pytest.approx(0.04)
    assert adjust_p([0.9, 0.8], method="holm").max() <= 1.0
    with pytest.raises(ValueError, match="available"):
        adjust_p(p, method="bonferonni")  # type: ignore[arg-type]


def test_within_identity_permutations_keep_each_identity_s_rows() -> None:
    ids = np.array(list("aabbbcac"))
    idx = within_group_permutations(ids, 50, seed=0)
    assert (ids[idx] == ids[None, :]).all()
    assert all(sorted(row) == list(range(8)) for row in idx.tolist())
    assert len({tuple(r) for r in idx.tolist()}) > 10


def test_interaction_statistic_and_p_equal_a_loop_from_the_definition() -> None:
    rng = np.random.default_rng(3)
    ids = np.repeat(np.arange(6), 4)
    cls = np.tile(["a", "b", "c", "d"], 6)
    d = rng.normal(size=6)[ids] + rng.normal(size=24) + np.where(cls == "a", 2.0, 0.0)

    def ss(values: np.ndarray, classes: np.ndarray) -> float:
        r = values.copy()
        for k in np.unique(ids):
            r[ids == k] -= values[ids == k].mean()
        return sum((classes == c).sum() * r[classes == c].mean() ** 2 for c in np.unique(cls))

    assert float(class_sum_of_squares(d, ids, cls)) == pytest.approx(ss(d, cls))
    res = interaction_permutation_test(d, ids, cls, permutations=400, seed=2)
    idx = within_group_permutations(ids, 400, seed=2)
    count = sum(ss(d, cls[np.argsort(row)]) >= ss(d, cls) - 1e-12 for row in idx)
    # permuting values within identity = permuting the labels within identity
    count_v = sum(ss(d[row], cls) >= ss(d, cls) - 1e-12 for row in idx)
    assert count == count_v
    assert res.p_value == pytest.approx((count + 1) / 401)
    assert res.n_groups == 6 and res.n_classes == 4 and res.p_value < 0.05


def test_interaction_undefined_without_two_classes_inside_an_identity() -> None:
    res = interaction_permutation_test(
        [1.0, 2.0, 3.0, 4.0], ["a", "a", "b", "c"], ["x", "x", "y", "z"], seed=0
    )
    assert np.isnan(res.p_value) and res.n_classes == 3
    # One image per identity: independent images, labels permuted across all of them.
    rng = np.random.default_rng(0)
    cls = np.repeat(["x", "y", "z"], 8)
    v = rng.normal(size=24) + (cls == "x") * 2.0
    alone = interaction_permutation_test(v, np.arange(24), cls, permutations=300, seed=1)
    pooled = interaction_permutation_test(v, np.zeros(24), cls, permutations=300, seed=1)
    assert alone.p_value == pooled.p_value < 0.01


def test_two_way_bootstrap_equals_loop_over_drawn_rows_and_columns() -> None:
    rng = np.random.default_rng(4)
    r = np.repeat(np.arange(4), 3)
    c = np.tile(np.arange(3), 4)
    keep = rng.random(12) > 0.15  # a few missing cells
    v, r, c = rng.normal(size=12)[keep], r[keep], c[keep]
    boot = rs.two_way_bootstrap_means(v, r, c, 50, seed=7)
    dr = np.random.default_rng(7).integers(0, 4, size=(50, 4))
    dc = np.random.default_rng(8).integers(0, 3, size=(50, 3))
    for b in range(50):
        picked = [v[(r == i) & (c == j)] for i in dr[b] for j in dc[b]]
        flat = np.concatenate(picked)
        expect = flat.mean() if flat.size else np.nan
        np.testing.assert_allclose(boot[b], expect, atol=1e-12)


def test_summarise_clusters_pooled_rows_and_adjusts_the_per_class_family() -> None:
    import pandas as pd

    from gazealign.stats.tables import interaction_table, summarise

    rng = np.random.default_rng(0)
    ids = np.repeat([f"F{k:02d}" for k in range(8)], 3)
    labels = np.tile(["happy", "sad", "angry"], 8)
    diff = rng.normal(size=8)[np.arange(24) // 3] + rng.normal(size=24) * 0.5 + 0.3
    table = pd.DataFrame({"contrast": "h - n", "label": labels, "identity": ids, "diff": diff})
    out = summarise(
        table,
        value="diff",
        keys=["contrast"],
        resamples=300,
        permutations=300,
        seed=1,
        group="identity",
    )
    pooled = out.iloc[0]
    assert (pooled["n"], pooled["n_groups"], pooled["resampling_unit"]) == (24, 8, "identity")
    assert pooled["interval_method"] == "bca" and pooled["family_size"] == 1
    direct = paired_permutation_test(
        diff, groups=ids, permutations=300, seed=int(pooled["bootstrap_seed"])
    )
    assert pooled["p_value"] == pytest.approx(direct.p_value)
    per_class = out.iloc[1:]
    np.testing.assert_allclose(
        per_class["p_adjusted"], adjust_p(per_class["p_value"], method="holm")
    )
    assert (per_class["family_size"] == 3).all() and (per_class["p_adjust_method"] == "holm").all()
    bh = summarise(
        table,
        value="diff",
        keys=["contrast"],
        resamples=300,
        permutations=300,
        seed=1,
        group="identity",
        adjust="fdr_bh",
        interval="percentile",
    )
    assert (bh["interval_method"] == "percentile").all()
    np.testing.assert_allclose(
        bh.iloc[1:]["p_adjusted"], adjust_p(per_class["p_value"], method="fdr_bh")
    )
    inter = interaction_table(
        table, value="diff", keys=["contrast"], group="identity", permutations=200, seed=3
    )
    ref = interaction_permutation_test(diff, ids, labels, permutations=200, seed=3)
    assert inter.iloc[0]["p_value"] == pytest.approx(ref.p_value)
    assert (inter.iloc[0]["n_groups"], inter.iloc[0]["n_classes"]) == (8, 3)


@pytest.mark.parametrize("seed", range(5))
def test_holm_and_bh_equal_statsmodels(seed: int) -> None:
    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(seed).uniform(0, 0.2, size=7) ** (1 + seed % 2)
    p[seed % 7] = p[(seed + 1) % 7]  # a tie
    for method in ("holm", "fdr_bh"):
        np.testing.assert_allclose(
            adjust_p(p, method=method),  # type: ignore[arg-type]
            multipletests(p, method=method)[1],
            rtol=0,
            atol=1e-15,
        )


def test_expanded_levels_follow_hesterberg_formula() -> None:
    # 16 clusters, 95 %: z = sqrt(16/15) * t_15(0.025) = -2.2014, level Phi(z) = 0.01386
    # (t_15(0.025) = -2.1314 from any t table).
    lo, hi = rs.interval_levels(
        np.zeros(10), 0.0, confidence=0.95, method="percentile", expand_for=16
    )
    assert float(lo) == pytest.approx(stats.norm.cdf(np.sqrt(16 / 15) * -2.131450), abs=2e-6)
    assert float(lo) == pytest.approx(0.01386, abs=5e-5) and float(hi) == pytest.approx(
        1 - float(lo)
    )
    x = np.random.default_rng(0).normal(size=16)
    wide = bootstrap_mean_ci(x, resamples=4000, seed=0, expand=True)
    narrow = bootstrap_mean_ci(x, resamples=4000, seed=0)
    assert wide.expanded and wide.ci_low < narrow.ci_low and wide.ci_high > narrow.ci_high
