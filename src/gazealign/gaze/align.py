"""From a recording to analysed fixations: trials, placement, stimulus frame, correct-trial filter.

For each trial of a recording (:func:`~gazealign.gaze.trials.segment_trials`):

1. the stimulus must be known (in the stimulus table) and have a placement on screen: centred
   at the study's scale, or from the trial's ``!V IMGLOAD`` message;
2. fixations that *start* inside the viewing window ``[onset, offset)`` are the trial's; one
   running past the offset is cut at it; those that started before onset (usually the fixation
   on the cross, which is at the face centre) are counted and left out;
3. samples and fixation events at impossible positions (non-finite, or a screen size past the
   edges: :mod:`gazealign.gaze.quality`) are set aside before fixations are found, and counted;
   positions go from screen px to stimulus px through the placement; fixations off the image
   are counted and dropped;
4. the response (mapped through ``response_labels``) is compared with the true label; with
   ``correct_only`` the incorrect trials are dropped (counted per subject and class).

Every drop is counted in the trials table (``drop_reason``) and the per-subject quality table.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from gazealign.config.base import section_default
from gazealign.config.gaze import DetectionSection, GazeSection
from gazealign.coords import Placement, ScreenGeometry
from gazealign.errors import DataError
from gazealign.gaze.events import detect_fixations
from gazealign.gaze.quality import (
    data_loss,
    drop_impossible,
    fixation_precision,
    validation_before,
    validations,
)
from gazealign.gaze.recording import Recording
from gazealign.gaze.trials import ImageLoad, Trial, TrialRules, segment_trials
from gazealign.types import (
    FIXATION_COLUMNS,
    FIXATION_OPTIONAL_COLUMNS,
    LABELS,
    validate_fixations,
)

#: Why a trial is not analysed, in the order the checks run.
DROP_REASONS: tuple[str, ...] = (
    "no_stimulus",
    "unknown_stimulus",
    "no_onset",
    "no_placement",
    "no_response",
    "unknown_response",
    "incorrect",
    "no_fixations",
)


@dataclass(frozen=True)
class StimulusInfo:
    """What mapping needs to know of a stimulus: its label and size (stimulus frame)."""

    stimulus_id: str
    label: str
    rows: int
    cols: int


@dataclass(frozen=True)
class AlignOptions:
    """How a recording's trials become analysed fixations."""

    screen: ScreenGeometry
    stimulus_scale: float = section_default(GazeSection, "stimulus_scale")
    placement: Literal["centred", "messages"] = section_default(GazeSection, "placement")
    fixations: str = section_default(GazeSection, "fixations")
    eye: Literal["auto", "L", "R"] = section_default(GazeSection, "eye")
    correct_only: bool = section_default(GazeSection, "correct_only")
    response_labels: Mapping[str, str] = field(default_factory=dict)
    rules: TrialRules = field(default_factory=TrialRules)
    detection: DetectionSection = field(default_factory=DetectionSection)


@dataclass(frozen=True)
class Aligned:
    """Fixations (stimulus frame, kept trials only), every trial with its fate, and counts."""

    fixations: pd.DataFrame
    trials: pd.DataFrame
    quality: dict[str, Any]


def placement_from_message(image: ImageLoad, info: StimulusInfo, source: str) -> Placement:
    """The placement an ``!V IMGLOAD`` message describes (size given: scale = width / cols)."""
    if image.width_px is not None and image.height_px is not None:
        scale = image.width_px / info.cols
        scale_y = image.height_px / info.rows
        if not np.isclose(scale, scale_y, rtol=0.01):
            raise DataError(
                f"{source}: IMGLOAD draws {info.stimulus_id!r} at {image.width_px:g}x"
                f"{image.height_px:g} px, which does not keep its {info.cols}x{info.rows} aspect"
            )
    else:
        scale = 1.0
    w, h = info.cols * scale, info.rows * scale
    if image.anchor == "CENTER":
        left, top = image.x_px - w / 2, image.y_px - h / 2
    else:
        left, top = image.x_px, image.y_px
    return Placement(left, top, scale, info.cols, info.rows)


def check_display(recording: Recording, screen: ScreenGeometry, setting: str) -> None:
    """Refuse a recording whose DISPLAY_COORDS disagree with the screen size ``setting`` gives."""
    if recording.display_px is not None and recording.display_px != (
        screen.width_px,
        screen.height_px,
    ):
        raise DataError(
            f"{recording.source}: DISPLAY_COORDS say the screen was {recording.display_px[0]}x"
            f"{recording.display_px[1]} px, but {setting} says {screen.width_px}x{screen.height_px}"
        )


def require_fixation_events(recording: Recording, eye: str, setting: str) -> None:
    """Refuse to take fixations from the tracker's events when the file has none but samples.

    A sample file (CSV, or an ASC exported without events) would otherwise give no fixations
    and no hint why.
    """
    ev = recording.events
    if recording.n_samples and not ((ev["kind"] == "fixation") & (ev["eye"] == eye)).any():
        raise DataError(
            f"{recording.source}: no fixation events for eye {eye}, but {recording.n_samples} "
            f"gaze samples; set {setting} to 'ivt' or 'idt' to detect fixations from the samples"
        )


def normalise_response(response: str | None, mapping: Mapping[str, str]) -> str | None:
    if response is None or response == "":
        return None
    mapped = mapping.get(response, response)
    return mapped.strip().lower()


def align_recording(
    recording: Recording,
    stimuli: Mapping[str, StimulusInfo],
    options: AlignOptions,
) -> Aligned:
    """Trials, placement and stimulus-frame fixations of one recording (see module docstring)."""
    screen = options.screen
    check_display(recording, screen, "the study's [gaze.screen] width_px x height_px")
    if options.fixations == "events":
        require_fixation_events(recording, recording.pick_eye(options.eye), "gaze.fixations")
    recording, impossible = drop_impossible(recording, screen)
    trials = segment_trials(recording, options.rules)
    fix = detect_fixations(
        recording,
        screen,
        method=options.fixations,
        eye=options.eye,
        options=options.detection,
    )
    eye = recording.pick_eye(options.eye)
    gaze = recording.gaze(eye)
    interval = recording.sample_interval_ms() if recording.n_samples > 1 else 1.0
    xd, yd = screen.position_px_to_deg(gaze[:, 0], gaze[:, 1])
    signals = _Signals(
        np.asarray(xd, dtype=np.float64),
        np.asarray(yd, dtype=np.float64),
        recording.sampling_rate_hz or 1000.0 / interval,
        validations(recording.messages),
    )
    f_start = fix["start_ms"].to_numpy(dtype=np.float64)
    f_end = fix["end_ms"].to_numpy(dtype=np.float64)
    rows: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    for trial in trials:
        row, table = _align_trial(
            recording, trial, stimuli, options, fix, f_start, f_end, gaze, interval, signals
        )
        rows.append(row)
        if table is not None:
            kept.append(table)
    trials_table = pd.DataFrame(rows, columns=list(TRIAL_COLUMNS))
    trials_table = trials_table.astype(TRIAL_COLUMNS)
    fixations = _fixation_table(kept)
    fixations = validate_fixations(fixations, source=recording.source)
    quality = _quality(recording, trials_table, options, eye)
    quality["samples_impossible"] = impossible.samples
    quality["fixation_events_impossible"] = impossible.fixation_events
    return Aligned(fixations, trials_table, quality)


TRIAL_COLUMNS: dict[str, str] = {
    "subject": "string",
    "trial": "int64",
    "trial_id": "string",
    "stimulus_id": "string",
    "label": "string",
    "response": "string",
    "correct": "boolean",
    "onset_ms": "float64",
    "offset_ms": "float64",
    "samples": "int64",
    "samples_lost": "int64",
    "fixations_in_window": "int64",
    "fixations_before_onset": "int64",
    "fixations_off_stimulus": "int64",
    "fixations_kept": "int64",
    "data_loss_share": "float64",
    "rms_s2s_deg": "float64",
    "bcea_deg2": "float64",
    "validation_error_avg_deg": "float64",
    "validation_error_max_deg": "float64",
    "kept": "bool",
    "drop_reason": "string",
}


#: Columns the gaze stage adds to the fixation schema: where the fixation was on screen.
SCREEN_COLUMNS: dict[str, str] = {
    "screen_x_px": "float64",
    "screen_y_px": "float64",
    "scale": "float64",
}


def _empty_stimulus_fixations() -> pd.DataFrame:
    cols = {**FIXATION_COLUMNS, **FIXATION_OPTIONAL_COLUMNS, **SCREEN_COLUMNS}
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in cols.items()})


def _fixation_table(parts: list[dict[str, Any]]) -> pd.DataFrame:
    """One table from per-trial column dicts (built once: a DataFrame per trial is slow)."""
    empty = _empty_stimulus_fixations()
    if not parts:
        return empty
    columns: dict[str, Any] = {}
    for name in empty.columns:
        chunks = [p[name] for p in parts]
        if isinstance(chunks[0], np.ndarray):
            columns[name] = np.concatenate(chunks)
        else:
            columns[name] = [v for chunk in chunks for v in chunk]
    return pd.DataFrame(columns).astype(empty.dtypes.to_dict())


def _align_trial(
    recording: Recording,
    trial: Trial,
    stimuli: Mapping[str, StimulusInfo],
    options: AlignOptions,
    fix: pd.DataFrame,
    f_start: np.ndarray,
    f_end: np.ndarray,
    gaze: np.ndarray,
    interval: float,
    signals: _Signals,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    info = stimuli.get(trial.stimulus_id) if trial.stimulus_id else None
    response = normalise_response(trial.response, options.response_labels)
    row: dict[str, Any] = {
        "subject": recording.subject,
        "trial": trial.index + 1,
        "trial_id": trial.trial_id,
        "stimulus_id": trial.stimulus_id or pd.NA,
        "label": info.label if info else pd.NA,
        "response": response if response is not None else pd.NA,
        "correct": (response == info.label) if (info and response in LABELS) else pd.NA,
        "onset_ms": trial.onset_ms if trial.onset_ms is not None else np.nan,
        "offset_ms": trial.offset_ms if trial.offset_ms is not None else np.nan,
        "samples": 0,
        "samples_lost": 0,
        "fixations_in_window": 0,
        "fixations_before_onset": 0,
        "fixations_off_stimulus": 0,
        "fixations_kept": 0,
        "data_loss_share": np.nan,
        "rms_s2s_deg": np.nan,
        "bcea_deg2": np.nan,
        "validation_error_avg_deg": np.nan,
        "validation_error_max_deg": np.nan,
        "kept": False,
        "drop_reason": pd.NA,
    }
    when = trial.onset_ms if trial.onset_ms is not None else trial.start_ms
    avg, worst = validation_before(signals.validations, when)
    row["validation_error_avg_deg"], row["validation_error_max_deg"] = avg, worst

    def drop(reason: str) -> tuple[dict[str, Any], None]:
        row["drop_reason"] = reason
        return row, None

    if not trial.stimulus_id:
        return drop("no_stimulus")
    if info is None:
        return drop("unknown_stimulus")
    if trial.onset_ms is None or trial.offset_ms is None:
        return drop("no_onset")
    onset, offset = trial.onset_ms, trial.offset_ms
    lo, hi = _window(recording.time_ms, onset, offset)
    row["samples"] = hi - lo
    row["samples_lost"] = int((~np.isfinite(gaze[lo:hi, 0])).sum())
    if options.placement == "messages":
        if trial.image is None:
            return drop("no_placement")
        place = placement_from_message(trial.image, info, recording.source)
    else:
        place = Placement.centred(options.screen, info.cols, info.rows, options.stimulus_scale)
    # fixations that overlap the window: counted as before-onset or in-window
    overlap = (f_end + interval > onset) & (f_start < offset)
    before = overlap & (f_start < onset)
    inside = overlap & (f_start >= onset)
    row["fixations_before_onset"] = int(before.sum())
    row["fixations_in_window"] = int(inside.sum())
    sel = fix[inside]
    lost, expected = data_loss(
        recording.time_ms[lo:hi], gaze[lo:hi, 0], gaze[lo:hi, 1],
        sampling_rate_hz=signals.rate_hz, start_ms=onset, end_ms=offset - interval,
    )  # fmt: skip
    row["data_loss_share"] = lost / expected if expected else np.nan
    rms, area = fixation_precision(
        recording.time_ms, signals.x_deg, signals.y_deg,
        sel["start_ms"].to_numpy(dtype=np.float64), sel["end_ms"].to_numpy(dtype=np.float64),
    )  # fmt: skip
    row["rms_s2s_deg"] = _median(rms)
    row["bcea_deg2"] = _median(area)
    sx, sy = place.screen_to_stimulus(
        sel["x_px"].to_numpy(dtype=np.float64), sel["y_px"].to_numpy(dtype=np.float64)
    )
    on = place.contains(sx, sy)
    row["fixations_off_stimulus"] = int((~on).sum())
    row["fixations_kept"] = int(on.sum())
    if response is None:
        if options.correct_only:
            return drop("no_response")
    elif response not in LABELS:
        if options.correct_only:
            return drop("unknown_response")
    elif options.correct_only and response != info.label:
        return drop("incorrect")
    if not on.any():
        return drop("no_fixations")
    start = sel["start_ms"].to_numpy(dtype=np.float64)[on]
    end = np.minimum(sel["end_ms"].to_numpy(dtype=np.float64)[on] + interval, offset)
    n = int(on.sum())
    table: dict[str, Any] = {
        "subject": [recording.subject] * n,
        "trial": np.full(n, trial.index + 1, dtype=np.int64),
        "stimulus_id": [info.stimulus_id] * n,
        "x_px": sx[on],
        "y_px": sy[on],
        "onset_ms": start - onset,
        "duration_ms": end - start,
        "frame": ["stimulus"] * n,
        "eye": sel["eye"].to_numpy(dtype=object)[on].tolist(),
        "label": [info.label] * n,
        "response": [response] * n,
        "correct": [row["correct"]] * n,
        "screen_x_px": sel["x_px"].to_numpy(dtype=np.float64)[on],
        "screen_y_px": sel["y_px"].to_numpy(dtype=np.float64)[on],
        "scale": np.full(n, place.scale),
    }
    row["kept"] = True
    return row, table


@dataclass(frozen=True)
class _Signals:
    """A recording's gaze in degrees, its sampling rate and its validations (for quality)."""

    x_deg: np.ndarray
    y_deg: np.ndarray
    rate_hz: float
    validations: pd.DataFrame


def _median(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else math.nan


def _window(time_ms: np.ndarray, onset: float, offset: float) -> tuple[int, int]:
    """Sample index range [lo, hi) of the window [onset, offset); times increase in ASC/EDF."""
    lo = int(np.searchsorted(time_ms, onset, side="left"))
    hi = int(np.searchsorted(time_ms, offset, side="left"))
    return lo, max(lo, hi)


def _quality(
    recording: Recording, trials: pd.DataFrame, options: AlignOptions, eye: str
) -> dict[str, Any]:
    reasons = Counter(trials.loc[~trials["kept"], "drop_reason"].tolist())
    samples = int(trials["samples"].sum())
    lost = int(trials["samples_lost"].sum())
    out: dict[str, Any] = {
        "subject": recording.subject,
        "source": Path(recording.source).name,
        "eye": eye,
        "sampling_rate_hz": recording.sampling_rate_hz or np.nan,
        "fixation_method": options.fixations,
        "validation_error_deg": (
            recording.validation_error_deg[-1] if recording.validation_error_deg else np.nan
        ),
        "trials": len(trials),
        "trials_kept": int(trials["kept"].sum()),
        "samples_in_windows": samples,
        "samples_lost": lost,
        "samples_lost_share": lost / samples if samples else np.nan,
        # pymovements' measures, over the trials' viewing windows (see gaze.quality)
        "data_loss_share": _duration_weighted(trials, "data_loss_share"),
        "rms_s2s_deg": _median(trials["rms_s2s_deg"].to_numpy(dtype=np.float64)),
        "bcea_deg2": _median(trials["bcea_deg2"].to_numpy(dtype=np.float64)),
        "validation_error_max_deg": _last_validation_max(recording),
        "fixations_kept": int(trials.loc[trials["kept"], "fixations_kept"].sum()),
        "fixations_off_stimulus": int(trials["fixations_off_stimulus"].sum()),
        "fixations_before_onset": int(trials["fixations_before_onset"].sum()),
        "reader_warnings": "; ".join(f"{k}={v}" for k, v in sorted(recording.warnings.items())),
    }
    for reason in DROP_REASONS:
        out[f"dropped_{reason}"] = int(reasons.get(reason, 0))
    return out


def _duration_weighted(trials: pd.DataFrame, column: str) -> float:
    """Mean of ``column`` over trials weighted by their viewing time (NaN rows left out)."""
    v = trials[column].to_numpy(dtype=np.float64)
    w = (trials["offset_ms"] - trials["onset_ms"]).to_numpy(dtype=np.float64)
    ok = np.isfinite(v) & (w > 0)
    return float(np.average(v[ok], weights=w[ok])) if ok.any() else math.nan


def _last_validation_max(recording: Recording) -> float:
    table = validations(recording.messages)
    return float(table["error_max_deg"].iloc[-1]) if len(table) else math.nan


def trial_counts(trials: pd.DataFrame) -> pd.DataFrame:
    """Per subject and class: trials, correct, kept (the correct-trial filter's counts)."""
    known = trials[trials["label"].notna()]
    if known.empty:
        return pd.DataFrame(columns=["subject", "label", "trials", "correct", "kept"])
    grouped = known.groupby(["subject", "label"], sort=True)
    return pd.DataFrame(
        {
            "trials": grouped.size(),
            "correct": grouped["correct"].apply(lambda s: int(s.fillna(False).sum())),
            "kept": grouped["kept"].sum().astype("int64"),
        }
    ).reset_index()
