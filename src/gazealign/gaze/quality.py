"""Samples and events no eye can have produced: found, counted and set aside per recording.

A gaze sample is *impossible* when it is not finite (``inf``; NaN is missing data, counted as
data loss elsewhere) or lies outside the screen by more than ``IMPOSSIBLE_MARGIN`` screen sizes
(trackers report gaze a little past the display's edges; a position a whole screen beyond
them is a corrupt value, not a look). Such samples become missing (NaN) before fixations are
detected, so they can neither move a fixation's mean nor join two fixations; fixation events
(EFIX) whose position is impossible in the same sense are dropped. Both are counted.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

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
