"""CSV recordings from other trackers: a sample format and a fixation format.

Both become a :class:`~gazealign.gaze.recording.Recording` with synthesised trial messages, so
they run through the same trials, placement and filters as EyeLink data.

**Sample CSV** (one file per participant; the subject is the file stem unless a ``subject``
column is given), one row per sample, times increasing within a trial:

=============  ========  ========================================================
column         required  meaning
=============  ========  ========================================================
``time_ms``    yes       sample time in ms (any origin)
``x_px``       yes       gaze x on screen in px (empty or NaN: missing)
``y_px``       yes       gaze y on screen in px
``trial``      yes       trial number (integer)
``stimulus_id`` yes      the stimulus shown in that trial
``response``   no        the participant's response label
``pupil``      no        pupil size (any unit)
=============  ========  ========================================================

A trial's viewing window is from its first sample to one interval after its last. Fixations are
detected from samples (I-VT or I-DT).

**Fixation CSV** (one or more files), one row per fixation:

=============  ========  ========================================================
column         required  meaning
=============  ========  ========================================================
``subject``    yes       participant id
``trial``      yes       trial number (integer)
``stimulus_id`` yes      the stimulus shown
``x_px``       yes       fixation x in px (screen frame, or stimulus frame: ``frame``)
``y_px``       yes       fixation y in px
``onset_ms``   yes       fixation start, ms after stimulus onset
``duration_ms`` yes      fixation duration in ms
``response``   no        the participant's response label
``frame``      no        ``screen`` (default) or ``stimulus``
=============  ========  ========================================================
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gazealign.coords import Placement, ScreenGeometry
from gazealign.errors import DataError
from gazealign.gaze.asc import utf16_name
from gazealign.gaze.events import segments
from gazealign.gaze.format_registry import ReadContext, gaze_format
from gazealign.gaze.recording import Recording, events_frame, messages_frame

SAMPLE_REQUIRED = ("time_ms", "x_px", "y_px", "trial", "stimulus_id")
FIXATION_REQUIRED = ("subject", "trial", "stimulus_id", "x_px", "y_px", "onset_ms", "duration_ms")

#: Trials of a fixation CSV are laid out this far apart on a synthetic clock (ms).
_TRIAL_SPACING_MS = 10_000_000.0


def _read(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    try:
        with path.open("rb") as fh:
            utf16 = utf16_name(fh.read(512))
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    if utf16:
        raise DataError(f"{path}: the text is {utf16}; re-save the CSV as UTF-8")
    try:
        table = pd.read_csv(path, dtype={"stimulus_id": str, "subject": str, "response": str})
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({exc})") from None
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; this format needs {list(required)}")
    if table.empty:
        raise DataError(f"{path}: no data rows, only a header (columns {list(table.columns)})")
    for col in ("time_ms", "x_px", "y_px", "onset_ms", "duration_ms", "trial", "pupil"):
        if col in table.columns:
            values = pd.to_numeric(table[col], errors="coerce")
            bad = values.isna() & table[col].notna()
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise DataError(
                    f"{path}:{row + 2}: column {col!r} is not a number ({table[col].iloc[row]!r})"
                )
            table[col] = values
    if table["trial"].isna().any():
        row = int(np.flatnonzero(table["trial"].isna().to_numpy())[0])
        raise DataError(f"{path}:{row + 2}: empty trial number")
    return table


def _trial_messages(
    trial: int, stimulus: str, response: Any, onset: float, offset: float
) -> list[tuple[float, str]]:
    out = [
        (onset, f"TRIALID {trial}"),
        (onset, "STIMULUS_ONSET"),
        (offset, "STIMULUS_OFFSET"),
        (offset, f"!V TRIAL_VAR stimulus {stimulus}"),
    ]
    if isinstance(response, str) and response:
        out.append((offset, f"!V TRIAL_VAR response {response}"))
    return out


def read_samples_csv(path: Path | str, *, sampling_rate_hz: float | None = None) -> Recording:
    """A sample CSV (format above) as a :class:`Recording`, one block per trial."""
    path = Path(path)
    table = _read(path, SAMPLE_REQUIRED)
    subjects: list[str] = (
        [str(s) for s in table["subject"].dropna().unique()] if "subject" in table.columns else []
    )
    if len(subjects) > 1:
        raise DataError(f"{path}: a sample CSV holds one participant, found {len(subjects)}")
    subject = str(subjects[0]) if len(subjects) == 1 else path.stem
    trial = table["trial"].to_numpy(dtype=np.int64)
    time_ms = table["time_ms"].to_numpy(dtype=np.float64)
    # trials in file order; times must increase within each
    starts = np.flatnonzero(np.r_[True, trial[1:] != trial[:-1]])
    if len(np.unique(trial[starts])) != len(starts):
        raise DataError(f"{path}: the rows of a trial must be consecutive")
    steps = np.diff(time_ms)
    same = trial[1:] == trial[:-1]
    if (steps[same] <= 0).any():
        row = int(np.flatnonzero(same & (steps <= 0))[0]) + 1
        raise DataError(f"{path}:{row + 2}: time_ms does not increase within trial {trial[row]}")
    if not sampling_rate_hz and not same.any():
        raise DataError(
            f"{path}: every trial has a single sample, so the sampling interval cannot be "
            "inferred from time_ms steps"
        )
    interval = 1000.0 / sampling_rate_hz if sampling_rate_hz else float(np.median(steps[same]))
    # Put the trials one after another with a gap, so blocks never join.
    shift = np.zeros(len(table))
    clock = 0.0
    msgs: list[tuple[float, str, int]] = []
    bounds = np.r_[starts, len(table)]
    for k in range(len(starts)):
        lo, hi = bounds[k], bounds[k + 1]
        shift[lo:hi] = clock - time_ms[lo]
        onset = clock
        offset = clock + time_ms[hi - 1] - time_ms[lo] + interval
        resp = table["response"].iloc[lo] if "response" in table.columns else None
        for t, text in _trial_messages(
            int(trial[lo]), str(table["stimulus_id"].iloc[lo]), resp, onset, offset
        ):
            msgs.append((t, text, int(lo) + 2))
        clock = offset + 1000.0
    t_ms = np.asarray(time_ms + shift, dtype=np.float64)
    pupil = (
        table["pupil"].to_numpy(dtype=np.float64)
        if "pupil" in table.columns
        else np.full(len(t_ms), np.nan)
    )
    left = np.stack(
        [table["x_px"].to_numpy(dtype=np.float64), table["y_px"].to_numpy(dtype=np.float64), pupil],
        axis=1,
    )
    return Recording(
        source=str(path),
        subject=subject,
        time_ms=t_ms,
        block=segments(t_ms, interval),
        left=left,
        right=np.full_like(left, np.nan),
        events=events_frame([]),
        messages=messages_frame(msgs),
        sampling_rate_hz=1000.0 / interval,
        warnings=Counter(),
    )


def read_fixations_csv(
    path: Path | str,
    *,
    screen: ScreenGeometry | None = None,
    placements: dict[str, Placement] | None = None,
) -> list[Recording]:
    """A fixation CSV (format above) as one :class:`Recording` per subject (events only).

    Rows in the stimulus frame are put on screen with ``placements[stimulus_id]`` (required for
    them), so that every format goes through the same screen -> stimulus mapping.
    """
    path = Path(path)
    table = _read(path, FIXATION_REQUIRED)
    if (table["duration_ms"] < 0).any():
        row = int(np.flatnonzero((table["duration_ms"] < 0).to_numpy())[0])
        raise DataError(f"{path}:{row + 2}: negative duration_ms")
    frame = (
        table["frame"].fillna("screen")
        if "frame" in table.columns
        else pd.Series(["screen"] * len(table))
    )
    bad = ~frame.isin(["screen", "stimulus"])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{path}:{row + 2}: frame must be 'screen' or 'stimulus', got {frame.iloc[row]!r}"
        )
    x = table["x_px"].to_numpy(dtype=np.float64).copy()
    y = table["y_px"].to_numpy(dtype=np.float64).copy()
    for k in np.flatnonzero((frame == "stimulus").to_numpy()):
        sid = str(table["stimulus_id"].iloc[k])
        if placements is None or sid not in placements:
            raise DataError(
                f"{path}:{k + 2}: stimulus-frame fixation on {sid!r}, whose placement is unknown"
            )
        x[k], y[k] = (float(v) for v in placements[sid].stimulus_to_screen(x[k], y[k]))
    table = table.assign(x_screen=x, y_screen=y)
    out: list[Recording] = []
    for subject, rows in table.groupby("subject", sort=True):
        events: list[dict[str, Any]] = []
        msgs: list[tuple[float, str, int]] = []
        for n, (trial, trows) in enumerate(rows.groupby("trial", sort=True)):
            base = n * _TRIAL_SPACING_MS
            end = float((trows["onset_ms"] + trows["duration_ms"]).max()) + 1.0
            stim = trows["stimulus_id"].unique()
            if len(stim) != 1:
                raise DataError(
                    f"{path}: subject {subject!r} trial {trial}: several stimulus_id values {list(stim)}"
                )
            resp = trows["response"].iloc[0] if "response" in trows.columns else None
            for t, text in _trial_messages(
                int(float(str(trial))), str(stim[0]), resp, base, base + end
            ):
                msgs.append((t, text, int(trows.index[0]) + 2))
            for _, r in trows.iterrows():
                start = base + float(r["onset_ms"])
                events.append(
                    {
                        "kind": "fixation",
                        "eye": "L",
                        "start_ms": start,
                        "end_ms": start + float(r["duration_ms"]) - 1.0,
                        "duration_ms": float(r["duration_ms"]),
                        "x_px": float(r["x_screen"]),
                        "y_px": float(r["y_screen"]),
                    }
                )
        empty = np.zeros((0, 3))
        out.append(
            Recording(
                source=str(path),
                subject=str(subject),
                time_ms=np.zeros(0),
                block=np.zeros(0, dtype=np.int64),
                left=empty,
                right=empty.copy(),
                events=events_frame(events),
                messages=messages_frame(msgs),
                sampling_rate_hz=1000.0,
                display_px=(screen.width_px, screen.height_px) if screen else None,
            )
        )
    return out


@gaze_format("csv_samples", description="Sample CSV: one participant's gaze samples", suffix=".csv")
def _read_samples_format(path: Path, context: ReadContext) -> list[Recording]:
    return [read_samples_csv(path)]


@gaze_format(
    "csv_fixations",
    description="Fixation CSV: fixations of one or more subjects (screen or stimulus frame)",
    suffix=".csv",
    samples=False,
)
def _read_fixations_format(path: Path, context: ReadContext) -> list[Recording]:
    return read_fixations_csv(path, screen=context.screen, placements=dict(context.placements))
