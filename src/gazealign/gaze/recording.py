"""One eye-tracking recording in memory, whatever file it came from (ASC, EDF, CSV, simulated).

Times are in milliseconds on the tracker clock; positions are screen pixels (x right, y down),
the frame of the tracker's ``DISPLAY_COORDS``. Missing data (blinks, track loss) is NaN.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from gazealign.errors import DataError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Columns of :attr:`Recording.events`. ``kind`` is ``fixation``, ``saccade`` or ``blink``.
#: Fixations carry the mean position (``x_px``, ``y_px``) and ``pupil``; saccades their start
#: (``x_px``, ``y_px``) and end (``end_x_px``, ``end_y_px``), ``amplitude_deg`` and
#: ``peak_velocity_deg_s``. Unknown values are NaN.
EVENT_COLUMNS: dict[str, str] = {
    "kind": "string",
    "eye": "string",
    "start_ms": "float64",
    "end_ms": "float64",
    "duration_ms": "float64",
    "x_px": "float64",
    "y_px": "float64",
    "end_x_px": "float64",
    "end_y_px": "float64",
    "amplitude_deg": "float64",
    "peak_velocity_deg_s": "float64",
    "pupil": "float64",
}

#: Columns of :attr:`Recording.messages`: message time (offset applied), text, source line.
MESSAGE_COLUMNS: dict[str, str] = {"time_ms": "float64", "text": "string", "line": "int64"}

Eye = Literal["L", "R"]


def empty_events() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in EVENT_COLUMNS.items()})


def events_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """An events table from row dicts (missing keys -> NaN), sorted by start time."""
    if not rows:
        return empty_events()
    table = pd.DataFrame(rows).reindex(columns=list(EVENT_COLUMNS))
    table = table.astype(EVENT_COLUMNS)
    return table.sort_values(["start_ms", "kind"], kind="stable").reset_index(drop=True)


def messages_frame(rows: list[tuple[float, str, int]]) -> pd.DataFrame:
    """A messages table sorted by time (stable: equal times keep file order)."""
    table = pd.DataFrame(rows, columns=list(MESSAGE_COLUMNS))
    table = table.astype(MESSAGE_COLUMNS)
    return table.sort_values("time_ms", kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class Recording:
    """Samples, events and messages of one participant's session.

    ``time_ms`` is (n,) float64, strictly increasing within a recording block; ``block`` (n,)
    int64 numbers the START..END blocks (time gaps between blocks are not track loss).
    ``left`` and ``right`` are (n, 3) float64 arrays of x_px, y_px, pupil; an eye that was not
    recorded is all NaN. ``warnings`` counts lines or values that were skipped on purpose
    (see the reader's documentation for which), keyed by reason.
    """

    source: str
    subject: str
    time_ms: FloatArray
    block: IntArray
    left: FloatArray
    right: FloatArray
    events: pd.DataFrame
    messages: pd.DataFrame
    sampling_rate_hz: float | None = None
    display_px: tuple[int, int] | None = None  # (width, height) from DISPLAY_COORDS/GAZE_COORDS
    header: dict[str, str] = field(default_factory=dict)
    validation_error_deg: tuple[float, ...] = ()  # mean error of each validation, in order
    warnings: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        n = self.time_ms.shape[0]
        if self.block.shape != (n,) or self.left.shape != (n, 3) or self.right.shape != (n, 3):
            raise ValueError(
                f"{self.source}: inconsistent sample arrays: time {self.time_ms.shape}, "
                f"block {self.block.shape}, left {self.left.shape}, right {self.right.shape}"
            )

    @property
    def n_samples(self) -> int:
        return int(self.time_ms.shape[0])

    @property
    def eyes(self) -> tuple[str, ...]:
        """Eyes with at least one sample or event ("L", "R")."""
        out = []
        for eye, arr in (("L", self.left), ("R", self.right)):
            if np.isfinite(arr[:, 0]).any() or (self.events["eye"] == eye).any():
                out.append(eye)
        return tuple(out)

    def pick_eye(self, eye: Literal["auto", "L", "R"] = "auto") -> Eye:
        """The eye to analyse: as asked, or (``auto``) the one with more valid samples."""
        have = self.eyes
        if eye != "auto":
            if eye not in have:
                raise DataError(f"{self.source}: eye {eye!r} was not recorded (have {have})")
            return eye
        if not have:
            raise DataError(f"{self.source}: no gaze samples or events for either eye")
        if len(have) == 1:
            return "L" if have[0] == "L" else "R"
        n_left = int(np.isfinite(self.left[:, 0]).sum())
        n_right = int(np.isfinite(self.right[:, 0]).sum())
        return "L" if n_left >= n_right else "R"

    def gaze(self, eye: Eye) -> FloatArray:
        """(n, 2) x_px, y_px of ``eye`` (NaN where missing)."""
        arr = self.left if eye == "L" else self.right
        return arr[:, :2]

    def sample_interval_ms(self) -> float:
        """Sampling interval: from the header's rate, else the median time step."""
        if self.sampling_rate_hz:
            return 1000.0 / self.sampling_rate_hz
        if self.n_samples < 2:
            raise DataError(f"{self.source}: sampling rate unknown and fewer than 2 samples")
        steps = np.diff(self.time_ms)
        return float(np.median(steps[steps > 0]))
