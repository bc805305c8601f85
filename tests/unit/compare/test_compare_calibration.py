"""Calibrated maps (Kummerer, Wallis & Bethge 2018): density, fit by simulation, eps independence."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from gazealign.compare.calibration import (
    MIN_CENTRE_WEIGHT,
    blurred_density,
    calibrated_map,
    default_sigmas_px,
    fit_calibration,
    identity_folds,
)
from gazealign.compare.metrics import information_gain, kld
from gazealign.errors import DataError
from gazealign.heatmaps.baselines import centre_bias_map

SHAPE = (40, 32)


def _sharp_map(seed: int) -> np.ndarray:
    """A relevance map that is zero almost everywhere (a few hot pixels and some negatives)."""
    rng = np.random.default_rng(seed)
    m = np.zeros(SHAPE)
    for _ in range(3):
        m[rng.integers(5, 35), rng.integers(5, 27)] = rng.uniform(1, 3)
    m[rng.integers(0, 40, 10), rng.integers(0, 32, 10)] = -1.0
    return m


def test_calibrated_map_is_a_density_with_full_support() -> None:
    centre = centre_bias_map(SHAPE, sigma_fraction=0.25)
    p = calibrated_map(_sharp_map(0), centre, sigma_px=2.0, centre_weight=MIN_CENTRE_WEIGHT)
    assert p.sum() == pytest.approx(1.0) and p.min() > 0
    only_centre = calibrated_map(-np.ones(SHAPE), centre, sigma_px=2.0, centre_weight=0.5)
    np.testing.assert_allclose(only_centre, centre / centre.sum())
    assert blurred_density(np.zeros(SHAPE), 1.0) is None
    with pytest.raises(ValueError, match="centre_weight"):
        calibrated_map(_sharp_map(0), centre, sigma_px=1.0, centre_weight=1.5)


def test_fit_recovers_the_blur_and_weight_fixations_were_drawn_with() -> None:
    """Simulated observers fixate p = 0.7 blur(map, 3 px) + 0.3 centre: the fit finds both."""
    rng = np.random.default_rng(1)
    centre = centre_bias_map(SHAPE, sigma_fraction=0.25)
    maps, counts, centres = [], [], []
    for seed in range(12):
        m = _sharp_map(seed)
        truth = calibrated_map(m, centre, sigma_px=3.0, centre_weight=0.3)
        drawn = rng.choice(truth.size, size=400, p=truth.ravel())
        counts.append(np.bincount(drawn, minlength=truth.size).reshape(SHAPE))
        maps.append(m)
        centres.append(centre)
    fit = fit_calibration(maps, counts, centres, sigmas_px=(0.0, 1.0, 2.0, 3.0, 4.5, 6.0))
    assert fit.sigma_px == 3.0
    assert fit.centre_weight == pytest.approx(0.3, abs=0.05)
    assert fit.fixations == 12 * 400
    # The fitted pair beats the raw map (sigma 0) in log-likelihood per fixation.
    raw = fit_calibration(maps, counts, centres, sigmas_px=(0.0,))
    assert fit.log_likelihood_bits > raw.log_likelihood_bits + 0.5


def test_calibrated_information_gain_does_not_depend_on_epsilon() -> None:
    """A half-zero map's IG moves by bits with eps; its calibrated density's by < 0.01 bit."""
    rng = np.random.default_rng(2)
    centre = centre_bias_map(SHAPE, sigma_fraction=0.25)
    m = ndimage.gaussian_filter(rng.random(SHAPE), 2)
    m[:, :16] = 0.0  # half zeros
    fix = np.zeros(SHAPE)
    fix[rng.integers(0, 40, 30), rng.integers(0, 32, 30)] = 1
    cal = calibrated_map(m, centre, sigma_px=2.0, centre_weight=0.05)

    def gap(s: np.ndarray, metric: str) -> float:
        if metric == "ig":
            a = information_gain(s, fix, centre, eps=1e-12)
            b = information_gain(s, fix, centre, eps=1e-8)
        else:
            human = ndimage.gaussian_filter(fix, 2)
            a, b = kld(s, human, eps=1e-12), kld(s, human, eps=1e-8)
        return abs(a - b)

    assert gap(m, "ig") > 3.0 and gap(cal, "ig") < 0.01
    assert gap(m, "kld") > 1.0 and gap(cal, "kld") < 0.01


def test_identity_folds_and_sigma_grid() -> None:
    folds = identity_folds(["b", "a", "c", "a", "d"], folds=2)
    assert folds == {"a": 0, "b": 1, "c": 0, "d": 1}
    with pytest.raises(DataError, match="at least 2 identities"):
        identity_folds(["a", "a"], folds=2)
    grid = default_sigmas_px((160, 128))
    assert grid[0] == 0.0 and grid[1] == 1.0 and grid[-1] == 32.0 and len(grid) == 10
