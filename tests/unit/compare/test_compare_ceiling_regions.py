"""Baselines, the split-half noise ceiling, one-call scoring and region shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gazealign.compare import metrics as m
from gazealign.compare.ceiling import split_half_ceiling
from gazealign.compare.regions import fixation_shares, relevance_shares
from gazealign.compare.scoring import metric_names, score_map
from gazealign.heatmaps.baselines import centre_bias_map, mean_of_others, uniform_map

SHAPE = (30, 40)


def gaussian_density(x: np.ndarray, y: np.ndarray, duration_ms: np.ndarray) -> np.ndarray:
    """A plain sum of isotropic Gaussians (sigma 3 px) at the fixations, for the tests."""
    rr, cc = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]] + 0.5
    out = np.zeros(SHAPE)
    for xi, yi in zip(x, y, strict=True):
        out += np.exp(-((cc - xi) ** 2 + (rr - yi) ** 2) / (2 * 3.0**2))
    return out + 1e-12


def observers(n_subjects: int, seed: int) -> pd.DataFrame:
    """Every subject looks at the same two spots (with noise): a high ceiling."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_subjects):
        for _ in range(8):
            cx, cy = (10, 10) if rng.random() < 0.6 else (30, 20)
            rows.append((f"s{s}", cx + rng.normal(0, 1.5), cy + rng.normal(0, 1.5), 250.0))
    return pd.DataFrame(rows, columns=["subject", "x_px", "y_px", "duration_ms"])


def test_baselines() -> None:
    u = uniform_map(SHAPE)
    assert u.sum() == pytest.approx(1) and u.std() == 0
    c = centre_bias_map(SHAPE, sigma_fraction=0.2)
    assert c.sum() == pytest.approx(1)
    assert np.unravel_index(c.argmax(), SHAPE) in {(14, 19), (14, 20), (15, 19), (15, 20)}
    assert np.allclose(c, c[::-1, ::-1])  # symmetric about the centre
    maps = [np.ones(SHAPE), 2 * np.ones(SHAPE), np.arange(1200.0).reshape(SHAPE) + 1]
    assert np.allclose(mean_of_others(maps, 2), uniform_map(SHAPE))


def test_score_map_matches_individual_metrics_and_handles_signed_maps() -> None:
    fix = observers(4, 0)
    counts, _ = m.fixation_map(fix.x_px, fix.y_px, SHAPE)
    ref = gaussian_density(fix.x_px.to_numpy(), fix.y_px.to_numpy(), fix.duration_ms.to_numpy())
    signed = ref - ref.mean()
    base = centre_bias_map(SHAPE)
    got = score_map(signed, counts, ref, baseline_map=base, other_fixations=counts, n_splits=5)
    assert list(got) == metric_names()
    assert metric_names()[:9] == [
        "nss",
        "cc",
        "sim",
        "kld",
        "auc_judd",
        "auc_borji",
        "auc_shuffled",
        "information_gain",
        "emd",
    ]
    assert got["nss"] == m.nss(signed, counts)
    assert got["sim"] == m.sim(np.maximum(signed, 0), ref)
    assert got["information_gain"] == m.information_gain(np.maximum(signed, 0), counts, base)
    negative = score_map(-np.ones(SHAPE), counts, ref, baseline_map=base, metrics=["kld", "cc"])
    assert np.isnan(negative["kld"]) and negative["cc"] == 0.0


def test_split_half_ceiling_beats_baselines_on_consistent_observers() -> None:
    fix = observers(6, 1)
    base = centre_bias_map(SHAPE)
    ceiling = split_half_ceiling(
        fix,
        SHAPE,
        gaussian_density,
        baseline_map=base,
        n_splits=3,
        seed=0,
        metrics=["nss", "cc", "auc_judd", "information_gain"],
    )
    assert len(ceiling) == 3 * 2 * 4
    assert set(ceiling.n_subjects_a) == {3}
    mean = ceiling.groupby("metric")["value"].mean()
    counts, _ = m.fixation_map(fix.x_px, fix.y_px, SHAPE)
    ref = gaussian_density(fix.x_px.to_numpy(), fix.y_px.to_numpy(), fix.duration_ms.to_numpy())
    assert mean["nss"] > m.nss(base, counts) + 1
    assert mean["cc"] > 0.8 and mean["cc"] > m.cc(base, ref)
    assert mean["information_gain"] > 0
    # Same seed, same splits.
    again = split_half_ceiling(
        fix,
        SHAPE,
        gaussian_density,
        baseline_map=base,
        n_splits=3,
        seed=0,
        metrics=["nss", "cc", "auc_judd", "information_gain"],
    )
    pd.testing.assert_frame_equal(ceiling, again)
    one = split_half_ceiling(
        fix[fix.subject == "s0"], SHAPE, gaussian_density, baseline_map=base, seed=0
    )
    assert one.empty


def test_region_shares_golden() -> None:
    aois = {r: np.zeros((4, 4), dtype=bool) for r in ("eyes", "brows", "nose", "mouth")}
    aois["eyes"][0, :] = True
    aois["mouth"][3, :] = True
    relevance = np.zeros((4, 4))
    relevance[0, 0] = 3.0  # eyes
    relevance[3, 3] = 1.0  # mouth
    relevance[1, 1] = -5.0  # negative relevance is not counted
    shares = relevance_shares(relevance, aois)
    assert shares == {"eyes": 0.75, "brows": 0.0, "nose": 0.0, "mouth": 0.25}
    # Three fixations: eyes 100 ms, mouth 300 ms, off the image 100 ms (counted in the total).
    count, dwell = fixation_shares([0.5, 2.5, 9.0], [0.5, 3.2, 0.0], [100, 300, 100], aois)
    assert count["eyes"] == pytest.approx(1 / 3) and count["mouth"] == pytest.approx(1 / 3)
    assert dwell["eyes"] == pytest.approx(0.2) and dwell["mouth"] == pytest.approx(0.6)
    assert np.isnan(relevance_shares(-np.ones((4, 4)), aois)["eyes"])
