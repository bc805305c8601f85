"""Fixation detection: vectorised I-VT / I-DT against naive per-sample loops (tests/reference)."""

from __future__ import annotations

import numpy as np
import pytest

from gazealign.gaze.events import idt, ivt, runs_to_fixations, segments, velocity_deg_s
from reference import gaze_naive as naive


def _signal(seed: int, n: int = 360) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaze in degrees: drift + steps (saccades), a time gap (new block) and NaN (track loss)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    t[n // 2 :] += 40.0
    x = np.cumsum(rng.normal(0, 0.01, n))
    y = np.cumsum(rng.normal(0, 0.01, n))
    for s in rng.integers(10, n - 10, 6):
        x[s:] += rng.uniform(1, 4)
        y[s:] += rng.uniform(-1, 1)
    x[rng.integers(0, n, 4)] = np.nan
    y[rng.integers(0, n, 2)] = np.nan
    return t, x, y


@pytest.mark.parametrize("seed", range(4))
def test_speed_matches_quadratic_fit_per_window(seed: int) -> None:
    t, x, y = _signal(seed)
    fast = velocity_deg_s(t, x, y, interval_ms=1.0, window_ms=7.0)
    slow = naive.speed_naive(t, x, y, 1.0, 7.0)
    assert np.array_equal(np.isnan(fast), np.isnan(slow))
    np.testing.assert_allclose(fast[~np.isnan(fast)], slow[~np.isnan(slow)], rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_ivt_matches_naive_loop(seed: int) -> None:
    t, x, y = _signal(seed)
    starts, stops = ivt(
        t, x, y, interval_ms=1.0, velocity_threshold_deg_s=30.0, min_duration_ms=20.0,
        velocity_window_ms=7.0,
    )  # fmt: skip
    expected = naive.ivt_naive(t, x, y, 1.0, 30.0, 20.0, 7.0)
    assert list(zip(starts.tolist(), stops.tolist(), strict=True)) == expected
    assert len(expected) >= 3  # the test signal does hold fixations


@pytest.mark.parametrize("seed", range(4))
def test_idt_matches_naive_loop(seed: int) -> None:
    t, x, y = _signal(seed)
    starts, stops = idt(
        t, x, y, interval_ms=1.0, dispersion_threshold_deg=0.5, min_duration_ms=30.0
    )
    expected = naive.idt_naive(t, x, y, 1.0, 0.5, 30.0)
    assert list(zip(starts.tolist(), stops.tolist(), strict=True)) == expected
    assert len(expected) >= 3


def test_detectors_never_join_across_a_gap_or_nan() -> None:
    t = np.arange(200, dtype=np.float64)
    t[100:] += 500.0  # a second recording block
    x = np.zeros(200)
    y = np.zeros(200)
    x[150] = np.nan
    for starts, stops in (
        ivt(t, x, y, interval_ms=1.0, min_duration_ms=10.0),
        idt(t, x, y, interval_ms=1.0, min_duration_ms=10.0),
    ):
        for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
            assert not (a < 100 <= b - 1), "joined across the block gap"
            assert not (a <= 150 < b), "joined across a missing sample"


def test_runs_to_fixations_uses_eyelink_time_convention() -> None:
    t = np.arange(10, dtype=np.float64) * 2.0 + 100.0  # 500 Hz
    x = np.arange(10, dtype=np.float64)
    y = np.full(10, 5.0)
    table = runs_to_fixations(t, x, y, np.array([2]), np.array([6]), interval_ms=2.0, eye="L")
    row = table.iloc[0]
    assert (row["start_ms"], row["end_ms"], row["duration_ms"]) == (104.0, 110.0, 8.0)
    assert row["x_px"] == pytest.approx(3.5) and row["y_px"] == 5.0


def test_segments_split_at_gaps() -> None:
    t = np.array([0.0, 1.0, 2.0, 10.0, 11.0, 30.0])
    assert segments(t, 1.0).tolist() == [0, 0, 0, 1, 1, 2]
