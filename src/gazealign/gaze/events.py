"""Fixations: the tracker's own events, or detected from samples with I-VT or I-DT.

Both detectors work on gaze in degrees of visual angle (exact, from
:meth:`~gazealign.coords.ScreenGeometry.position_px_to_deg`) and never join samples across
missing data (blinks, track loss: NaN) or across time gaps (between recording blocks).

* **I-VT** (Salvucci & Goldberg 2000): samples whose speed is below ``velocity_threshold_deg_s``
  are fixation samples; runs of them lasting at least ``min_duration_ms`` are fixations. The
  speed is the Savitzky-Golay first derivative (``scipy.signal.savgol_filter``, polynomial
  order 2, ``velocity_window_ms``) as in Nyström & Holmqvist (2010), which keeps measurement
  noise from crossing the threshold.
* **I-DT** (Salvucci & Goldberg 2000): a window of ``min_duration_ms`` whose dispersion
  ``(max x - min x) + (max y - min y)`` is at most ``dispersion_threshold_deg`` starts a fixation,
  which grows sample by sample while the dispersion stays under the threshold.

Both return index runs ``[start, stop)`` into the sample arrays; :func:`runs_to_fixations`
turns runs into a fixation table in the EyeLink convention (``end_ms`` is the last sample's time,
``duration_ms = end_ms - start_ms + sample interval``).

The vectorised versions here are tested against naive per-sample loops (``tests/reference``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.ndimage import maximum_filter1d, minimum_filter1d
from scipy.signal import savgol_filter

from gazealign.coords import ScreenGeometry
from gazealign.gaze.recording import Recording
from gazealign.registry import Registry

if TYPE_CHECKING:
    from gazealign.config.gaze import DetectionSection

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Shortest fixation when ``min_duration_ms`` is not set (Salvucci & Goldberg 2000).
IVT_MIN_DURATION_MS = 60.0
IDT_MIN_DURATION_MS = 100.0

DetectFn = Callable[[Recording, ScreenGeometry, str, "DetectionSection"], pd.DataFrame]
D = TypeVar("D", bound=DetectFn)

#: Columns of a detected-fixation table (screen frame).
DETECTED_COLUMNS = ("eye", "start_ms", "end_ms", "duration_ms", "x_px", "y_px")


def segments(time_ms: FloatArray, interval_ms: float) -> IntArray:
    """Segment number of each sample: a new segment starts after a gap > 1.5 intervals.

    Parameters
    ----------
    time_ms
        (n,) sample times.
    interval_ms
        The sampling interval.

    Returns
    -------
    numpy.ndarray
        (n,) int segment numbers, from 0.
    """
    gaps = np.diff(time_ms) > 1.5 * interval_ms
    return np.concatenate([[0], np.cumsum(gaps)]).astype(np.int64)


def velocity_deg_s(
    time_ms: FloatArray,
    x_deg: FloatArray,
    y_deg: FloatArray,
    *,
    interval_ms: float,
    window_ms: float = 20.0,
) -> FloatArray:
    """(n,) gaze speed in deg/s: Savitzky-Golay derivative (order 2) within each segment.

    Samples in a segment shorter than the window, and samples whose window holds a NaN, get NaN.

    Parameters
    ----------
    time_ms, x_deg, y_deg
        (n,) sample times and gaze positions in degrees.
    interval_ms
        The sampling interval.
    window_ms
        Length of the Savitzky-Golay window.

    Returns
    -------
    numpy.ndarray
        (n,) speeds.
    """
    n = time_ms.shape[0]
    window = max(3, round(window_ms / interval_ms) | 1)  # odd, >= 3
    half = window // 2
    speed = np.full(n, np.nan)
    nan = ~(np.isfinite(x_deg) & np.isfinite(y_deg))
    # savgol's edge fits cannot take NaN: fit zeros there and mark the result NaN below
    xf = np.where(nan, 0.0, x_deg)
    yf = np.where(nan, 0.0, y_deg)
    delta_s = interval_ms / 1000.0
    seg = segments(time_ms, interval_ms)
    bounds = np.flatnonzero(np.diff(seg)) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, n], strict=True):
        if hi - lo < window:
            continue
        vx = savgol_filter(xf[lo:hi], window, 2, deriv=1, delta=delta_s, mode="interp")
        vy = savgol_filter(yf[lo:hi], window, 2, deriv=1, delta=delta_s, mode="interp")
        sp = np.hypot(vx, vy)
        # the first and last `half` samples are fitted on the segment's edge window
        if nan[lo : lo + window].any():
            sp[:half] = np.nan
        if nan[hi - window : hi].any():
            sp[-half:] = np.nan
        speed[lo:hi] = sp
    if nan.any():
        # any NaN within a sample's centred window makes its speed unknown
        spread = maximum_filter1d(nan.astype(np.uint8), size=window, mode="constant") > 0
        speed[spread] = np.nan
    return speed


def _runs(mask: BoolArray, seg: IntArray) -> tuple[IntArray, IntArray]:
    """[start, stop) of runs of True in ``mask`` that do not cross a segment boundary."""
    m = mask.astype(np.int8)
    edges = np.diff(np.concatenate([[0], m, [0]]))
    # a segment change inside a run splits it
    split = np.concatenate([[False], (np.diff(seg) != 0) & mask[1:] & mask[:-1]])
    starts = np.flatnonzero((edges[:-1] == 1) | split)
    stops = np.flatnonzero((edges[1:] == -1) | np.concatenate([split[1:], [False]]))
    return starts.astype(np.int64), (stops + 1).astype(np.int64)


def ivt(
    time_ms: FloatArray,
    x_deg: FloatArray,
    y_deg: FloatArray,
    *,
    interval_ms: float,
    velocity_threshold_deg_s: float = 30.0,
    min_duration_ms: float = IVT_MIN_DURATION_MS,
    velocity_window_ms: float = 20.0,
) -> tuple[IntArray, IntArray]:
    """I-VT fixation runs ``(starts, stops)`` (sample indices, stop exclusive).

    Parameters
    ----------
    time_ms, x_deg, y_deg
        (n,) sample times and gaze positions in degrees.
    interval_ms
        The sampling interval.
    velocity_threshold_deg_s
        Samples slower than this are fixation samples (Salvucci & Goldberg 2000).
    min_duration_ms
        Shorter runs are not fixations.
    velocity_window_ms
        The speed's Savitzky-Golay window (:func:`velocity_deg_s`).

    Returns
    -------
    (starts, stops)
        Index arrays of the runs.
    """
    speed = velocity_deg_s(
        time_ms, x_deg, y_deg, interval_ms=interval_ms, window_ms=velocity_window_ms
    )
    slow = np.isfinite(speed) & (speed < velocity_threshold_deg_s)
    starts, stops = _runs(slow, segments(time_ms, interval_ms))
    dur = time_ms[stops - 1] - time_ms[starts] + interval_ms
    keep = dur >= min_duration_ms - 1e-9
    return starts[keep], stops[keep]


def idt(
    time_ms: FloatArray,
    x_deg: FloatArray,
    y_deg: FloatArray,
    *,
    interval_ms: float,
    dispersion_threshold_deg: float = 1.0,
    min_duration_ms: float = IDT_MIN_DURATION_MS,
) -> tuple[IntArray, IntArray]:
    """I-DT fixation runs ``(starts, stops)`` (sample indices, stop exclusive).

    Vectorised where it matters: whether a minimum window may start at each sample is found
    for all samples at once with running max/min filters; the Python loop runs once per
    fixation (growing it), not once per sample.

    Parameters
    ----------
    time_ms, x_deg, y_deg
        (n,) sample times and gaze positions in degrees.
    interval_ms
        The sampling interval.
    dispersion_threshold_deg
        Largest (x range + y range) of a fixation's samples (Salvucci & Goldberg 2000).
    min_duration_ms
        The smallest window a fixation grows from (its shortest duration).

    Returns
    -------
    (starts, stops)
        Index arrays of the runs.
    """
    n = time_ms.shape[0]
    k = max(1, math.ceil(min_duration_ms / interval_ms - 1e-9))
    if n < k:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    valid = np.isfinite(x_deg) & np.isfinite(y_deg)
    seg = segments(time_ms, interval_ms)
    # bad[i]: sample i cannot join the sample before it (NaN, or a time gap before it)
    breaks = np.concatenate([[False], np.diff(seg) != 0])
    xs_hi = np.where(valid, x_deg, -np.inf)
    xs_lo = np.where(valid, x_deg, np.inf)
    ys_hi = np.where(valid, y_deg, -np.inf)
    ys_lo = np.where(valid, y_deg, np.inf)
    disp = _forward_range(xs_hi, xs_lo, k) + _forward_range(ys_hi, ys_lo, k)
    n_bad = np.cumsum(~valid)
    n_break = np.cumsum(breaks)
    i = np.arange(n - k + 1)
    win_valid = (n_bad[i + k - 1] - np.r_[0, n_bad][i]) == 0
    win_contig = (n_break[i + k - 1] - n_break[i]) == 0
    ok = np.flatnonzero(win_valid & win_contig & (disp[: n - k + 1] <= dispersion_threshold_deg))
    starts: list[int] = []
    stops: list[int] = []
    pos = 0
    while True:
        q = int(np.searchsorted(ok, pos))
        if q >= ok.size:
            break
        s = int(ok[q])
        e = _grow(x_deg, y_deg, valid, breaks, s, s + k, dispersion_threshold_deg)
        starts.append(s)
        stops.append(e)
        pos = e
    return np.asarray(starts, np.int64), np.asarray(stops, np.int64)


def _forward_range(hi: FloatArray, lo: FloatArray, k: int) -> FloatArray:
    """out[i] = max(hi[i:i+k]) - min(lo[i:i+k]) (windows running past the end are clipped)."""
    n = hi.shape[0]
    # A centred filter's output at j covers [j - k//2, j - k//2 + k): the forward window of i
    # is the centred output at i + k//2. Pad the tail with neutral values.
    mx = maximum_filter1d(np.r_[hi, np.full(k, -np.inf)], size=k, mode="nearest")
    mn = minimum_filter1d(np.r_[lo, np.full(k, np.inf)], size=k, mode="nearest")
    h = k // 2
    return np.asarray((mx - mn)[h : h + n], dtype=np.float64)


def _grow(
    x: FloatArray,
    y: FloatArray,
    valid: BoolArray,
    breaks: BoolArray,
    start: int,
    stop: int,
    threshold: float,
) -> int:
    """Largest stop' >= stop such that [start, stop') stays valid, contiguous and compact."""
    n = x.shape[0]
    chunk = max(64, 4 * (stop - start))
    while True:
        hi = min(n, stop + chunk)
        if hi == stop:
            return stop
        xs = x[start:hi]
        ys = y[start:hi]
        span = (np.maximum.accumulate(xs) - np.minimum.accumulate(xs)) + (
            np.maximum.accumulate(ys) - np.minimum.accumulate(ys)
        )
        fail = (span > threshold) | ~valid[start:hi] | breaks[start:hi]
        fail[0] = False  # the start sample is not joined to anything before it
        # NaN spans compare False: the ~valid term catches them
        bad = np.flatnonzero(fail[stop - start :])
        if bad.size:
            return stop + int(bad[0])
        stop = hi
        chunk *= 2


def runs_to_fixations(
    time_ms: FloatArray,
    x_px: FloatArray,
    y_px: FloatArray,
    starts: IntArray,
    stops: IntArray,
    *,
    interval_ms: float,
    eye: str,
) -> pd.DataFrame:
    """A fixation table (screen px) from sample runs: mean position, EyeLink time convention.

    Each run's mean is computed from that run's own samples (NaN samples left out), so one
    absurd value changes the mean of its own fixation only; a running (prefix) sum over the
    recording would carry its rounding error into every later fixation.

    Parameters
    ----------
    time_ms, x_px, y_px
        (n,) sample times and screen positions.
    starts, stops
        The runs (sample indices, stop exclusive).
    interval_ms
        The sampling interval (a fixation's duration counts its last sample).
    eye
        ``L`` or ``R``, written in the table.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DETECTED_COLUMNS`.
    """
    x_mean = run_means(x_px, starts, stops)
    y_mean = run_means(y_px, starts, stops)
    start_ms = time_ms[starts] if starts.size else np.zeros(0)
    end_ms = time_ms[stops - 1] if stops.size else np.zeros(0)
    return pd.DataFrame(
        {
            "eye": pd.Series([eye] * starts.size, dtype="string"),
            "start_ms": start_ms,
            "end_ms": end_ms,
            "duration_ms": end_ms - start_ms + interval_ms,
            "x_px": x_mean,
            "y_px": y_mean,
        }
    )


def run_means(values: FloatArray, starts: IntArray, stops: IntArray) -> FloatArray:
    """(k,) mean of the finite ``values[start:stop]`` of each run; NaN for a run without any.

    Exact to rounding for any finite input: ``math.fsum`` per run (the runs are few, their
    samples are each visited once). A sum that overflows float64 (values near 1e308) is taken
    on the values scaled by 2**-64, which is exact for all but subnormal values.

    Parameters
    ----------
    values
        (n,) values.
    starts, stops
        The runs (indices, stop exclusive).

    Returns
    -------
    numpy.ndarray
        (k,) means.
    """
    out = np.full(starts.shape[0], np.nan)
    for i, (a, b) in enumerate(zip(starts.tolist(), stops.tolist(), strict=True)):
        chunk = values[a:b]
        chunk = chunk[np.isfinite(chunk)]
        if chunk.size == 0:
            continue
        try:
            out[i] = math.fsum(chunk.tolist()) / chunk.size
        except OverflowError:
            out[i] = math.fsum((chunk * 2.0**-64).tolist()) / chunk.size * 2.0**64
    return out


@dataclass(frozen=True)
class Detector:
    """One fixation detector: ``detect(recording, screen, eye, options) -> fixation table``.

    The table has :data:`DETECTED_COLUMNS` (screen px); ``eye`` is the eye already chosen
    (``L``/``R``); ``options`` the ``[gaze.detection]`` table.
    """

    name: str
    description: str
    detect: DetectFn
    extra: str | None = None


#: Every fixation detector (``gaze.fixations``).
DETECTORS: Registry[Detector] = Registry("fixation detector", ("gazealign.gaze",))


def detector(name: str, *, description: str, extra: str | None = None) -> Callable[[D], D]:
    """Register the decorated ``detect(recording, screen, eye, options)`` as detector ``name``.

    Named in ``gaze.fixations``; returns the function unchanged.

    Parameters
    ----------
    name
        The name a study file uses.
    description
        One line for ``gazealign list``.
    extra
        The gazealign extra it needs (``None``: the core).

    Returns
    -------
    Callable
        The decorator.
    """

    def decorate(fn: D) -> D:
        DETECTORS.add(Detector(name, description, fn, extra))
        return fn

    return decorate


def samples_deg(
    recording: Recording, screen: ScreenGeometry, eye: str
) -> tuple[FloatArray, FloatArray]:
    """(x_deg, y_deg) of the eye's gaze samples: degrees of visual angle from the screen centre.

    Parameters
    ----------
    recording
        The recording.
    screen
        Its screen geometry.
    eye
        ``L`` or ``R``.

    Returns
    -------
    (x_deg, y_deg)
        (n,) float arrays (NaN where the tracker lost the eye).
    """
    xy = recording.gaze(eye)  # type: ignore[arg-type]
    xd, yd = screen.position_px_to_deg(xy[:, 0], xy[:, 1])
    return np.asarray(xd, dtype=np.float64), np.asarray(yd, dtype=np.float64)


def fixations_from_runs(
    recording: Recording, eye: str, starts: IntArray, stops: IntArray
) -> pd.DataFrame:
    """The fixation table of sample runs ``[start, stop)`` of ``eye`` (see :func:`runs_to_fixations`).

    Parameters
    ----------
    recording
        The recording.
    eye
        ``L`` or ``R``.
    starts, stops
        The runs (sample indices).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DETECTED_COLUMNS`.
    """
    xy = recording.gaze(eye)  # type: ignore[arg-type]
    return runs_to_fixations(
        recording.time_ms,
        xy[:, 0],
        xy[:, 1],
        starts,
        stops,
        interval_ms=recording.sample_interval_ms(),
        eye=eye,
    )


@detector("events", description="The tracker's own fixation events (EyeLink EFIX, fixation CSV)")
def tracker_events(
    recording: Recording, screen: ScreenGeometry, eye: str, options: DetectionSection
) -> pd.DataFrame:
    ev = recording.events
    fix = ev[(ev["kind"] == "fixation") & (ev["eye"] == eye)]
    return fix[list(DETECTED_COLUMNS)].reset_index(drop=True)


def detect_on_samples(
    detect: Callable[..., tuple[IntArray, IntArray]],
    recording: Recording,
    screen: ScreenGeometry,
    eye: str,
    *,
    min_duration_ms: float,
    **params: float,
) -> pd.DataFrame:
    """Run a sample-based detector (:func:`ivt`, :func:`idt`) on ``eye``'s samples in degrees.

    Parameters
    ----------
    detect
        ``detect(time_ms, x_deg, y_deg, *, interval_ms, min_duration_ms, **params)`` returning
        the ``[start, stop)`` sample runs of the fixations.
    recording, screen, eye
        The recording, its screen geometry and the eye.
    min_duration_ms, params
        The detector's options.

    Returns
    -------
    pandas.DataFrame
        The fixation table (:func:`fixations_from_runs`).
    """
    x_deg, y_deg = samples_deg(recording, screen, eye)
    starts, stops = detect(
        recording.time_ms,
        x_deg,
        y_deg,
        interval_ms=recording.sample_interval_ms(),
        min_duration_ms=min_duration_ms,
        **params,
    )
    return fixations_from_runs(recording, eye, starts, stops)


@detector(
    "ivt", description="I-VT: Savitzky-Golay speed below a threshold (Salvucci & Goldberg 2000)"
)
def ivt_detector(
    recording: Recording, screen: ScreenGeometry, eye: str, options: DetectionSection
) -> pd.DataFrame:
    params = {
        "min_duration_ms": _or(options.min_duration_ms, IVT_MIN_DURATION_MS),
        "velocity_threshold_deg_s": options.velocity_threshold_deg_s,
        "velocity_window_ms": options.velocity_window_ms,
    }
    return detect_on_samples(ivt, recording, screen, eye, **params)


@detector("idt", description="I-DT: windows of small dispersion (Salvucci & Goldberg 2000)")
def idt_detector(
    recording: Recording, screen: ScreenGeometry, eye: str, options: DetectionSection
) -> pd.DataFrame:
    return detect_on_samples(
        idt,
        recording,
        screen,
        eye,
        min_duration_ms=_or(options.min_duration_ms, IDT_MIN_DURATION_MS),
        dispersion_threshold_deg=options.dispersion_threshold_deg,
    )


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def detect_fixations(
    recording: Recording,
    screen: ScreenGeometry,
    *,
    method: str,
    eye: str = "auto",
    options: DetectionSection | None = None,
    **overrides: float | None,
) -> pd.DataFrame:
    """Fixations of ``recording`` (screen px) by the registered detector ``method``.

    Parameters
    ----------
    recording, screen
        The recording and its screen geometry.
    method
        A registered detector: ``events`` (the tracker's EFIX events of the chosen eye),
        ``ivt``, ``idt``, or a plug-in's.
    eye
        ``auto`` (the eye with more valid samples), ``L`` or ``R``.
    options
        The ``[gaze.detection]`` table (default: its defaults; ``min_duration_ms`` unset means
        60 ms for I-VT and 100 ms for I-DT, Salvucci & Goldberg 2000).
    **overrides
        Keys of ``options`` to replace (e.g. ``velocity_window_ms=10.0``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DETECTED_COLUMNS`, screen frame.
    """
    from gazealign.config.gaze import DetectionSection

    opts = (options or DetectionSection()).model_copy(update=overrides)
    entry = DETECTORS.get(method)
    which = recording.pick_eye(eye)  # type: ignore[arg-type]
    return entry.detect(recording, screen, which, opts)
