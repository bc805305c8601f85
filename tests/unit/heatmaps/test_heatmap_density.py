"""Fixation density: exact against a naive sum of Gaussians, sums to 1, frames and steps."""

from __future__ import annotations

import numpy as np
import pytest

from gazealign.coords import CropResize, ScreenGeometry
from gazealign.errors import DataError
from gazealign.heatmaps.density import (
    density_values,
    fixation_density,
    sigma_stimulus_px,
    to_model_input,
)
from reference.heatmap_naive import density_naive

SCREEN = ScreenGeometry(1920, 1080, 53.0, 30.0, 65.0)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_naive_sum_of_gaussians(seed: int, weighted: bool) -> None:
    rng = np.random.default_rng(seed)
    n = 7
    xs = rng.uniform(-5, 30, n)  # some fixations a little off the image
    ys = rng.uniform(0, 20, n)
    w = rng.uniform(80, 600, n) if weighted else None
    fast = density_values(xs, ys, (19, 26), sigma_px=3.7, weights=w)
    slow = density_naive(xs, ys, (19, 26), 3.7, w)
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-9 * slow.max())
    assert abs(fast.sum() - 1.0) < 1e-12


def test_chunked_products_equal_one_pass() -> None:
    rng = np.random.default_rng(5)
    xs, ys = rng.uniform(0, 40, 9000), rng.uniform(0, 30, 9000)  # more than one chunk
    a = density_values(xs, ys, (30, 40), sigma_px=2.0)
    b = density_values(xs[::-1], ys[::-1], (30, 40), sigma_px=2.0)  # order-independent
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)
    assert abs(a.sum() - 1) < 1e-12


def test_single_fixation_peaks_at_its_pixel() -> None:
    d = density_values([10.5], [4.5], (9, 21), sigma_px=1.5)
    assert np.unravel_index(np.argmax(d), d.shape) == (4, 10)
    # separable and symmetric about the pixel centre
    np.testing.assert_allclose(d[4, 9], d[4, 11], rtol=1e-12)
    np.testing.assert_allclose(d[3, 10], d[5, 10], rtol=1e-12)


def test_duration_weighting_shifts_mass() -> None:
    xs, ys = [5.0, 25.0], [5.0, 5.0]
    d = density_values(xs, ys, (10, 30), sigma_px=2.0, weights=[100.0, 300.0])
    left, right = d[:, :15].sum(), d[:, 15:].sum()
    assert right == pytest.approx(3 * left, rel=1e-6)


def test_sigma_in_stimulus_px_follows_geometry() -> None:
    # SCIENCE.md 6: px/deg = distance * tan(1 deg) * resolution_px / size_cm, mean of x and y
    ppd = 65.0 * np.tan(np.radians(1.0)) * 0.5 * (1920 / 53.0 + 1080 / 30.0)
    assert sigma_stimulus_px(1.0, SCREEN, 1.0) == pytest.approx(ppd, rel=1e-3)
    assert sigma_stimulus_px(1.0, SCREEN, 4.0) == pytest.approx(SCREEN.px_per_deg / 4)


@pytest.mark.parametrize(
    ("xs", "ys", "w", "match"),
    [
        ([], [], None, "at least one fixation"),
        ([1.0, np.nan], [1.0, 2.0], None, "NaN"),
        ([1.0], [1.0], [0.0], "weights"),
        ([1.0], [1.0], [-1.0], "weights"),
        ([1e6], [1e6], None, "no mass on the image"),
    ],
)
def test_bad_input_is_a_clear_error(xs: list, ys: list, w: list | None, match: str) -> None:
    with pytest.raises(DataError, match=match):
        density_values(xs, ys, (10, 10), sigma_px=1.0, weights=w)


def test_map_records_steps_and_moves_to_model_frame() -> None:
    m = fixation_density(
        [30.0, 50.0], [40.0, 60.0], (80, 64), stimulus_id="s1", sigma_deg=1.0, screen=SCREEN,
        scale=4.0, durations_ms=[200.0, 300.0],
    )  # fmt: skip
    assert m.frame == "stimulus" and m.shape == (80, 64)
    step = m.steps[0]
    assert step.name == "fixation_density"
    assert step.params["sigma_px"] == pytest.approx(SCREEN.px_per_deg / 4)
    assert step.params["duration_weighted"] is True and step.params["fixations"] == 2
    crop = CropResize(8, 10, 48, 60, 24, 30, 64, 80)
    mm = to_model_input(m, crop)
    assert mm.frame == "model_input" and mm.shape == (30, 24)
    assert [s.name for s in mm.steps] == ["fixation_density", "crop_resize", "normalise_sum"]
    assert abs(mm.values.sum() - 1) < 1e-12
    # the model map is the stimulus map sampled at model pixel centres, up to the normalisation
    r, c = 15, 12
    sx, sy = crop.model_to_stimulus(c + 0.5, r + 0.5)
    expected = density_values(
        [30.0, 50.0],
        [40.0, 60.0],
        (80, 64),
        sigma_px=step.params["sigma_px"],
        weights=[200.0, 300.0],
    )
    assert mm.values[r, c] * mm.steps[2].params["mass_before"] == pytest.approx(
        expected[int(sy), int(sx)], rel=0.05
    )
