"""Leave-one-observer-out gold standard, its extrapolation and the chance-corrected score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gazealign.compare.ceiling import (
    GOLD,
    chance_corrected,
    extrapolate_ceiling,
    leave_one_out_ceiling,
    spearman_brown_cc,
)
from gazealign.compare.metrics import cc, fixation_map, nss
from gazealign.heatmaps.baselines import centre_bias_map
from gazealign.heatmaps.density import density_values

SHAPE = (30, 24)


def _density(x: np.ndarray, y: np.ndarray, d: np.ndarray) -> np.ndarray:
    return density_values(x, y, SHAPE, sigma_px=2.0)


def _fixations(seed: int, observers: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = observers * 6
    return pd.DataFrame(
        {
            "subject": np.repeat([f"o{k}" for k in range(observers)], 6),
            "x_px": rng.uniform(3, 21, size=n),
            "y_px": rng.uniform(3, 27, size=n),
            "duration_ms": rng.uniform(100, 400, size=n),
        }
    )


def test_gold_standard_equals_a_loop_over_held_out_observers() -> None:
    fix = _fixations(0)
    centre = centre_bias_map(SHAPE)
    model = np.random.default_rng(1).random(SHAPE)
    out = leave_one_out_ceiling(
        fix,
        SHAPE,
        _density,
        baseline_map=centre,
        maps={"net": model},
        metrics=("cc", "nss"),
        seed=0,
    )
    for o, f in fix.groupby("subject"):
        rest = fix[fix["subject"] != o]
        gold = _density(
            rest["x_px"].to_numpy(), rest["y_px"].to_numpy(), rest["duration_ms"].to_numpy()
        )
        own = _density(f["x_px"].to_numpy(), f["y_px"].to_numpy(), f["duration_ms"].to_numpy())
        counts, _ = fixation_map(f["x_px"], f["y_px"], SHAPE)
        got = out[(out["held_out"] == o) & (out["map"] == GOLD)].set_index("metric")["value"]
        assert got["cc"] == pytest.approx(cc(gold, own))
        assert got["nss"] == pytest.approx(nss(gold, counts))
        net = out[(out["held_out"] == o) & (out["map"] == "net")].set_index("metric")["value"]
        assert net["nss"] == pytest.approx(nss(model, counts))  # same held-out fixations
    assert set(out.loc[out["map"] == GOLD, "n_observers"]) == {4}


def test_observer_curve_rows_and_too_few_observers() -> None:
    fix = _fixations(2, observers=6)
    out = leave_one_out_ceiling(
        fix,
        SHAPE,
        _density,
        baseline_map=centre_bias_map(SHAPE),
        metrics=("cc",),
        observer_counts=(1, 2, 5, 9),
        curve_draws=3,
        seed=0,
    )
    gold = out[out["map"] == GOLD]
    # k = 1 and 2: 3 draws per held-out observer; 5 = all others; 9 is not possible.
    assert gold.groupby("n_observers").size().to_dict() == {1: 18, 2: 18, 5: 6}
    one = leave_one_out_ceiling(
        fix[fix["subject"] == "o1"], SHAPE, _density, baseline_map=centre_bias_map(SHAPE), seed=0
    )
    assert one.empty


def test_spearman_brown_recovers_the_reliability_of_a_known_curve() -> None:
    r = 0.3
    k = np.array([1, 2, 4, 8, 16, 27])
    curve = r / np.sqrt(r + (1 - r) / k)
    fitted, limit = spearman_brown_cc(curve, k)
    assert fitted == pytest.approx(r, abs=1e-6) and limit == pytest.approx(np.sqrt(r), abs=1e-6)


def test_extrapolation_of_an_exact_one_over_k_curve_and_chance_correction() -> None:
    k = np.array([1, 2, 4, 8, 16])
    curve = pd.DataFrame({"metric": "nss", "n_observers": k, "value": 2.0 - 1.5 / k})
    ext = extrapolate_ceiling(curve).set_index("metric")
    assert ext.loc["nss", "extrapolated"] == pytest.approx(2.0)
    assert ext.loc["nss", "at_max_observers"] == pytest.approx(2.0 - 1.5 / 16)
    # AUC 0.75 against a 0.92 ceiling over a 0.5 chance map: 60 % of the explainable part.
    assert float(chance_corrected(0.75, 0.92, 0.5)) == pytest.approx(0.25 / 0.42)
    # Lower-is-better KLD: model 0.8, ceiling 0.2, chance 1.4 -> half way.
    assert float(chance_corrected(0.8, 0.2, 1.4)) == pytest.approx(0.5)
    assert np.isnan(chance_corrected(0.5, 0.5, 0.5))


def test_chance_corrected_interval_resamples_identities_and_observers() -> None:
    from gazealign.compare.ceiling import chance_corrected_interval
    from gazealign.stats.resampling import bootstrap_weights

    rng = np.random.default_rng(0)
    ids = np.repeat(np.arange(6), 5)  # 6 identities x 5 held-out observers
    obs = np.tile(np.arange(5), 6)
    chance = rng.normal(1.0, 0.1, size=30)
    ceiling = chance + 1.0 + rng.normal(0, 0.1, size=30)
    model = chance + 0.5 + rng.normal(0, 0.2, size=30)
    est, low, high = chance_corrected_interval(
        model, ceiling, chance, ids, obs, resamples=200, seed=3
    )
    assert est == pytest.approx((model.mean() - chance.mean()) / (ceiling.mean() - chance.mean()))
    # Slow loop: weights W_i V_j on every cell, ratio of weighted means per resample.
    w_r = bootstrap_weights(6, 200, seed=3)
    w_c = bootstrap_weights(5, 200, seed=4)
    boot = []
    for b in range(200):
        w = w_r[b, ids] * w_c[b, obs]
        m, c, z = (np.sum(w * a) / w.sum() for a in (model, ceiling, chance))
        boot.append((m - z) / (c - z))
    assert (low, high) == pytest.approx(tuple(np.quantile(boot, [0.025, 0.975])), abs=1e-12)
    assert low < est < high
    single = chance_corrected_interval(model[:5], ceiling[:5], chance[:5], ids[:5], obs[:5], seed=0)
    assert np.isfinite(single[0]) and np.isnan(single[1])
