"""Quality of gaze data: impossible samples set aside, and the measures eye trackers report.

Data quality (end of module): data loss, RMS sample-to-sample precision and BCEA within
fixations, validation accuracy from ``!CAL VALIDATION`` messages.

Impossible samples and events, which no eye can have produced, are found, counted and set
aside per recording.

A gaze sample is *impossible* when it is not finite (``inf``; NaN is missing data, counted as
data loss elsewhere) or lies outside the screen by more than ``IMPOSSIBLE_MARGIN`` screen sizes
(trackers report gaze a little past the display's edges; a position a whole screen beyond
them is a corrupt value, not a look). Such samples become missing (NaN) before fixations are
detected, so they can neither move a fixation's mean nor join two fixations; fixation events
(EFIX) whose position is impossible in the same sense are dropped. Both are counted.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from gazealign.coords import ScreenGeometry
from gazealign.gaze.recording import Recording

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: How far past the screen's edges (in screen widths / heights) a position is still possible.
IMPOSSIBLE_MARGIN = 1.0


def impossible_positions(
    x_px: FloatArray, y_px: FloatArray, screen: ScreenGeometry, *, margin: float = IMPOSSIBLE_MARGIN
) -> BoolArray:
    """(n,) True where (x_px, y_px) is infinite or beyond the screen by more than ``margin``.

    NaN (missing) positions are not impossible: they are data loss.
    """
    x = np.asarray(x_px, dtype=np.float64)
    y = np.asarray(y_px, dtype=np.float64)
    w, h = float(screen.width_px), float(screen.height_px)
    with np.errstate(invalid="ignore"):
        off_x = (x < -margin * w) | (x > (1.0 + margin) * w)
        off_y = (y < -margin * h) | (y > (1.0 + margin) * h)
    return np.isinf(x) | np.isinf(y) | off_x | off_y


@dataclass(frozen=True)
class Impossible:
    """What :func:`drop_impossible` set aside: samples (per eye, summed) and fixation events."""

    samples: int
    fixation_events: int


def drop_impossible(
    recording: Recording, screen: ScreenGeometry, *, margin: float = IMPOSSIBLE_MARGIN
) -> tuple[Recording, Impossible]:
    """``recording`` with impossible samples set to NaN and impossible fixation events removed.

    A sample's x, y and pupil all become NaN when its position is impossible (the pupil of a
    corrupt sample is not trusted either). Returns the recording unchanged when nothing is.
    """
    eyes = {}
    n_samples = 0
    for name in ("left", "right"):
        arr = getattr(recording, name)
        bad = impossible_positions(arr[:, 0], arr[:, 1], screen, margin=margin)
        n_samples += int(bad.sum())
        if bad.any():
            arr = arr.copy()
            arr[bad] = np.nan
        eyes[name] = arr
    ev = recording.events
    is_fix = (ev["kind"] == "fixation").to_numpy(dtype=bool)
    bad_fix = is_fix & impossible_positions(
        ev["x_px"].to_numpy(dtype=np.float64), ev["y_px"].to_numpy(dtype=np.float64), screen,
        margin=margin,
    )  # fmt: skip
    n_fix = int(bad_fix.sum())
    if n_samples == 0 and n_fix == 0:
        return recording, Impossible(0, 0)
    events = ev[~bad_fix].reset_index(drop=True) if n_fix else ev
    cleaned = dataclasses.replace(recording, events=events, **eyes)
    return cleaned, Impossible(n_samples, n_fix)


# --- data quality of a recording ---------------------------------------------------------------
# The measures of pymovements (``pymovements.measure``: ``data_loss``, ``s2s_rms``, ``bcea``) on
# numpy arrays: the formulas are the standard ones (Holmqvist, Nyström & Mulvey 2012; Crossland &
# Rubin 2002; Niehorster et al. 2020), written out here because pymovements works on polars
# frames and is not a dependency.

#: Share of samples a BCEA ellipse holds (68.27 %: +-1 sigma in one dimension), as pymovements.
BCEA_CONFIDENCE = 68.27


def data_loss(
    time_ms: FloatArray,
    x: FloatArray,
    y: FloatArray,
    *,
    sampling_rate_hz: float,
    start_ms: float | None = None,
    end_ms: float | None = None,
) -> tuple[int, int]:
    """(lost, expected) samples over ``[start_ms, end_ms]`` (default: first to last time).

    Expected samples: ``floor(span_ms * rate / 1000) + 1``; lost: the rows missing from the
    time axis (``expected - observed``, at least 0) plus the rows whose x or y is not finite,
    as ``pymovements.measure.data_loss``.
    """
    n = int(time_ms.shape[0])
    if n == 0 and (start_ms is None or end_ms is None):
        return 0, 0
    start = float(time_ms[0]) if start_ms is None else start_ms
    end = float(time_ms[-1]) if end_ms is None else end_ms
    if end < start:
        return 0, 0
    expected = math.floor((end - start) * sampling_rate_hz / 1000.0 + 1e-9) + 1
    invalid = int((~(np.isfinite(x) & np.isfinite(y))).sum())
    return max(expected - n, 0) + invalid, expected


def s2s_rms(x_deg: FloatArray, y_deg: FloatArray) -> float:
    """RMS of sample-to-sample displacements (deg): ``sqrt(mean(dx^2 + dy^2))``.

    Pairs with a missing sample are left out; NaN with fewer than one valid pair.
    """
    d2 = np.diff(x_deg) ** 2 + np.diff(y_deg) ** 2
    d2 = d2[np.isfinite(d2)]
    return float(np.sqrt(d2.mean())) if d2.size else math.nan


def bcea(x_deg: FloatArray, y_deg: FloatArray, *, confidence: float = BCEA_CONFIDENCE) -> float:
    """Bivariate contour ellipse area (deg^2): ``k pi sx sy sqrt(1 - rho^2)``, ``k = -2 ln(1-P)``.

    Sample standard deviations (ddof 1) over the finite samples; NaN for fewer than 2 samples
    or a zero variance (as pymovements).
    """
    ok = np.isfinite(x_deg) & np.isfinite(y_deg)
    x, y = x_deg[ok], y_deg[ok]
    if x.size < 2:
        return math.nan
    vx, vy = float(np.var(x, ddof=1)), float(np.var(y, ddof=1))
    if vx <= 0 or vy <= 0:
        return math.nan
    cov = float(np.cov(x, y, ddof=1)[0, 1])
    rho2 = min(cov * cov / (vx * vy), 1.0)
    k = -2.0 * math.log(1.0 - confidence / 100.0)
    return k * math.pi * math.sqrt(vx * vy) * math.sqrt(1.0 - rho2)


def fixation_precision(
    time_ms: FloatArray,
    x_deg: FloatArray,
    y_deg: FloatArray,
    start_ms: FloatArray,
    end_ms: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """(RMS-S2S, BCEA) of the samples inside each fixation ``[start_ms, end_ms]``.

    Precision is measured where the eye is meant to be still (Niehorster et al. 2020): within
    fixations, not across saccades.
    """
    lo = np.searchsorted(time_ms, start_ms, side="left")
    hi = np.searchsorted(time_ms, end_ms, side="right")
    rms = np.full(lo.shape[0], np.nan)
    area = np.full(lo.shape[0], np.nan)
    for i, (a, b) in enumerate(zip(lo.tolist(), hi.tolist(), strict=True)):
        rms[i] = s2s_rms(x_deg[a:b], y_deg[a:b])
        area[i] = bcea(x_deg[a:b], y_deg[a:b])
    return rms, area


_VALIDATION = re.compile(
    r"!CAL VALIDATION\b.*?\bERROR\s+([-+0-9.eE]+)\s+avg\.\s+([-+0-9.eE]+)\s+max"
)


def validations(messages: pd.DataFrame) -> pd.DataFrame:
    """Every ``!CAL VALIDATION ... ERROR <avg> avg. <max> max`` message: time, avg and max (deg).

    EyeLink writes one such line per validation (per eye for binocular ones).
    """
    rows = []
    for t, text in zip(messages["time_ms"].tolist(), messages["text"].tolist(), strict=True):
        m = _VALIDATION.search(str(text))
        if m:
            try:
                rows.append((float(t), float(m.group(1)), float(m.group(2))))
            except ValueError:
                continue
    return pd.DataFrame(rows, columns=["time_ms", "error_avg_deg", "error_max_deg"])


def validation_before(table: pd.DataFrame, time_ms: float) -> tuple[float, float]:
    """(avg, max) error of the last validation at or before ``time_ms``; NaN if none."""
    before = table[table["time_ms"] <= time_ms]
    if before.empty:
        return math.nan, math.nan
    last = before.iloc[-1]
    return float(last["error_avg_deg"]), float(last["error_max_deg"])
