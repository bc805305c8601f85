"""One absurd gaze sample changes its own fixation only (I-VT and I-DT, up to 1e300 px).

The signal: fixations (noise 0.02 deg) joined by 20 ms saccades of at least 3 deg, at 1000 Hz,
on a 1920 x 1080 screen. One sample is replaced by +-10**k px (k up to 300, x, y or both) or
by inf. Fixations that do not overlap that sample's fixation (or, outside fixations, the
velocity window around the sample) must be identical with and without it, to the last bit.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from gazealign.coords import ScreenGeometry
from gazealign.gaze.events import detect_fixations, ivt, runs_to_fixations
from gazealign.gaze.quality import drop_impossible
from gazealign.gaze.recording import Recording, empty_events, messages_frame

SCREEN = ScreenGeometry(1920, 1080, 53.0, 30.0, 65.0)
WINDOW_MS = 20.0


def _signal(seed: int, n_fix: int) -> np.ndarray:
    """(n, 2) screen px: fixations of 80-300 samples, 20-sample saccades of >= 3 deg."""
    rng = np.random.default_rng(seed)
    ppd = SCREEN.px_per_deg
    parts = []
    pos = np.array([960.0, 540.0])
    for _ in range(n_fix):
        length = int(rng.integers(80, 300))
        parts.append(pos + rng.normal(0, 0.02 * ppd, (length, 2)))
        angle = rng.uniform(0, 2 * np.pi)
        step = rng.uniform(3, 6) * ppd * np.array([np.cos(angle), np.sin(angle)])
        target = np.clip(pos + step, [200, 150], [1720, 930])
        parts.append(pos + np.linspace(0, 1, 22)[1:-1, None] * (target - pos))
        pos = target
    return np.concatenate(parts)


def _recording(xy: np.ndarray) -> Recording:
    n = xy.shape[0]
    left = np.column_stack([xy, np.full(n, 1000.0)])
    return Recording(
        source="synthetic.asc",
        subject="p01",
        time_ms=np.arange(n, dtype=np.float64),
        block=np.zeros(n, np.int64),
        left=left,
        right=np.full((n, 3), np.nan),
        events=empty_events(),
        messages=messages_frame([]),
        sampling_rate_hz=1000.0,
        warnings=Counter(),
    )


def _fixations(xy: np.ndarray, method: str, drop: bool) -> pd.DataFrame:
    rec = _recording(xy)
    if drop:
        rec, _ = drop_impossible(rec, SCREEN)
    return detect_fixations(rec, SCREEN, method=method, velocity_window_ms=WINDOW_MS)


def _outside(table: pd.DataFrame, lo: float, hi: float) -> pd.DataFrame:
    keep = (table["end_ms"] < lo) | (table["start_ms"] > hi)
    return table[keep].reset_index(drop=True)


@settings(max_examples=60)
@given(
    seed=st.integers(0, 2**16),
    where=st.floats(0.02, 0.98),
    exponent=st.integers(4, 300),
    negative=st.booleans(),
    axis=st.sampled_from(["x", "y", "both", "inf"]),
    method=st.sampled_from(["ivt", "idt"]),
    drop=st.booleans(),
)
def test_one_absurd_sample_changes_only_its_fixation(
    seed: int, where: float, exponent: int, negative: bool, axis: str, method: str, drop: bool
) -> None:
    """With the sample set aside (as the gaze stage does) and without (the detectors alone)."""
    clean = _signal(seed, n_fix=8)
    j = int(where * (clean.shape[0] - 1))
    value = (-1.0 if negative else 1.0) * (np.inf if axis == "inf" else 10.0**exponent)
    dirty = clean.copy()
    dirty[j, [0] if axis == "x" else [1] if axis == "y" else [0, 1]] = value
    before = _fixations(clean, method, drop)
    after = _fixations(dirty, method, drop)
    assert len(before) >= 4  # the signal does hold fixations
    # the absurd sample's fixation (or the velocity window around it) is the affected span
    hit = before[(before["start_ms"] <= j) & (before["end_ms"] >= j)]
    lo = float(hit["start_ms"].min()) if len(hit) else j
    hi = float(hit["end_ms"].max()) if len(hit) else j
    lo, hi = lo - WINDOW_MS, hi + WINDOW_MS
    pd.testing.assert_frame_equal(
        _outside(before, lo, hi), _outside(after, lo, hi), check_exact=True
    )
    assert np.isfinite(after[["x_px", "y_px"]].to_numpy()).all()
    assert (after["x_px"].between(0, 1920) & after["y_px"].between(0, 1080)).all()


def test_drop_impossible_counts_samples_and_events() -> None:
    xy = _signal(3, n_fix=4)
    xy[10, 0] = 1e300
    xy[20, 1] = -np.inf
    xy[30, 0] = 1920 * 2.5  # more than a screen width past the right edge
    xy[40, 0] = 1920 * 1.5  # off screen, but within the margin: kept
    xy[50, 0] = np.nan  # missing, not impossible
    rec = _recording(xy)
    events = pd.concat(
        [
            empty_events(),
            pd.DataFrame(
                {
                    "kind": ["fixation", "fixation", "saccade"],
                    "eye": ["L", "L", "L"],
                    "start_ms": [0.0, 100.0, 200.0],
                    "end_ms": [50.0, 150.0, 210.0],
                    "duration_ms": [51.0, 51.0, 11.0],
                    "x_px": [1e308, 500.0, 1e308],
                    "y_px": [400.0, 400.0, 400.0],
                }
            ),
        ],
        ignore_index=True,
    ).astype(empty_events().dtypes.to_dict())
    rec = Recording(**{**rec.__dict__, "events": events})
    cleaned, counts = drop_impossible(rec, SCREEN)
    assert (counts.samples, counts.fixation_events) == (3, 1)
    assert np.isnan(cleaned.left[[10, 20, 30], :]).all()
    assert cleaned.left[40, 0] == 1920 * 1.5
    assert cleaned.events["x_px"].tolist() == [500.0, 1e308]  # the saccade row is not a fixation


def test_run_means_are_exact_after_a_huge_value() -> None:
    """Regression: a prefix sum made every fixation after x = 1e300 read (0, 0)."""
    t = np.arange(400, dtype=np.float64)
    x = np.full(400, 700.0)
    y = np.full(400, 300.0)
    x[50] = 1e300
    starts, stops = np.array([0, 100, 250]), np.array([80, 200, 400])
    table = runs_to_fixations(t, x, y, starts, stops, interval_ms=1.0, eye="L")
    assert table["x_px"].tolist()[1:] == [700.0, 700.0]
    assert table["x_px"].iloc[0] == (1e300 + 79 * 700.0) / 80
    big = runs_to_fixations(t, np.full(400, 1.7e308), y, starts, stops, interval_ms=1.0, eye="L")
    assert big["x_px"].tolist() == [1.7e308] * 3
    # and the detectors themselves are unmoved by it, before any sample is set aside
    xd, yd = SCREEN.position_px_to_deg(x, y)
    s, e = ivt(t, np.asarray(xd), np.asarray(yd), interval_ms=1.0, min_duration_ms=20.0)
    assert [(a, b) for a, b in zip(s.tolist(), e.tolist(), strict=True) if a <= 50 < b] == []
    assert s.size == 2 and e[-1] == 400
