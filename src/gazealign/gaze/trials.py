"""Trials of a recording, found from its messages.

A trial spans from one trial-start message (default ``TRIALID <id>``) to the next (or the end of
the file), so trial variables written after the recording block (Experiment Builder writes
``!V TRIAL_VAR`` just before ``TRIAL_RESULT``) still belong to their trial. Within a trial:

* the viewing window starts at the first stimulus-onset message and ends at the first
  stimulus-offset message after it, else at the end of the recording block holding the onset,
  and never later than the next trial's start;
* trial variables come from ``!V TRIAL_VAR <name> <value>`` messages (the value may hold spaces);
* the stimulus is the variable ``stimulus_variable``, else the file stem of ``!V IMGLOAD``;
* the response is the variable ``response_variable``, else the ``response`` group of the
  optional ``response_message`` pattern;
* the placement on screen comes from ``!V IMGLOAD CENTER|TOP_LEFT <file> <x> <y> [<w> <h>]``
  (Data Viewer's message) when present.

Messages are sorted by time first, so out-of-order messages land in the right trial.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PureWindowsPath

import numpy as np

from gazealign.config.base import section_default
from gazealign.config.gaze import TrialsSection
from gazealign.errors import DataError
from gazealign.gaze.recording import Recording

_TRIAL_VAR = re.compile(r"^!V\s+TRIAL_VAR\s+(\S+)\s*(.*)$")
_IMGLOAD = re.compile(
    r"^!V\s+IMGLOAD\s+(CENTER|TOP_LEFT)\s+(\S+)\s+(-?[0-9.]+)\s+(-?[0-9.]+)"
    r"(?:\s+([0-9.]+)\s+([0-9.]+))?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class TrialRules:
    """Regular expressions (matched against message text) that segment a recording."""

    start: str = section_default(TrialsSection, "start")
    onset: str = section_default(TrialsSection, "onset")
    offset: str = section_default(TrialsSection, "offset")
    stimulus_variable: str = section_default(TrialsSection, "stimulus_variable")
    response_variable: str = section_default(TrialsSection, "response_variable")
    # e.g. r"^RESPONSE\s+(?P<response>\S+)"
    response_message: str = section_default(TrialsSection, "response_message")

    def compiled(self) -> dict[str, re.Pattern[str] | None]:
        out: dict[str, re.Pattern[str] | None] = {}
        for name in ("start", "onset", "offset", "response_message"):
            pattern = getattr(self, name)
            try:
                out[name] = re.compile(pattern) if pattern else None
            except re.error as exc:
                raise DataError(
                    f"trial rule {name!r}: bad regular expression {pattern!r}: {exc}"
                ) from None
        return out


@dataclass(frozen=True)
class ImageLoad:
    """An ``!V IMGLOAD`` message: image file, anchor position and optional drawn size (px)."""

    file: str
    anchor: str  # "CENTER" or "TOP_LEFT"
    x_px: float
    y_px: float
    width_px: float | None
    height_px: float | None


@dataclass(frozen=True)
class Trial:
    """One trial: its id, message span, viewing window and variables."""

    subject: str
    index: int  # 0-based order in the file
    trial_id: str
    start_ms: float
    onset_ms: float | None  # stimulus onset (None: no onset message)
    offset_ms: float | None  # end of the viewing window (None: unknown)
    variables: dict[str, str] = field(default_factory=dict)
    stimulus_id: str | None = None
    response: str | None = None
    image: ImageLoad | None = None


def _stem(file: str) -> str:
    # Windows paths are common in IMGLOAD messages; PureWindowsPath splits on both / and \.
    return PureWindowsPath(file).stem


def segment_trials(recording: Recording, rules: TrialRules | None = None) -> list[Trial]:
    """Split ``recording`` into trials by its messages (see the module docstring)."""
    rules = rules or TrialRules()
    pats = rules.compiled()
    start_pat = pats["start"]
    assert start_pat is not None
    msgs = recording.messages
    times = msgs["time_ms"].to_numpy(dtype=np.float64)
    texts = [str(t) for t in msgs["text"].to_numpy(dtype=object)]
    starts = [k for k, text in enumerate(texts) if start_pat.search(text)]
    block_ends = _block_ends(recording)
    trials: list[Trial] = []
    for n, k in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else len(texts)
        m = start_pat.search(texts[k])
        assert m is not None
        trial_id = (m.groupdict().get("trial") or "").strip() or str(n + 1)
        variables: dict[str, str] = {}
        onset = offset = None
        image: ImageLoad | None = None
        response_msg: str | None = None
        for j in range(k + 1, stop):
            text = texts[j]
            var = _TRIAL_VAR.match(text)
            if var:
                variables[var.group(1)] = var.group(2).strip()
                continue
            img = _IMGLOAD.match(text)
            if img and image is None:
                w, h = img.group(5), img.group(6)
                image = ImageLoad(
                    file=img.group(2),
                    anchor=img.group(1).upper(),
                    x_px=float(img.group(3)),
                    y_px=float(img.group(4)),
                    width_px=float(w) if w else None,
                    height_px=float(h) if h else None,
                )
            if onset is None and pats["onset"] is not None and pats["onset"].search(text):
                onset = float(times[j])
            elif (
                onset is not None
                and offset is None
                and pats["offset"] is not None
                and pats["offset"].search(text)
            ):
                offset = float(times[j])
            rm = pats["response_message"]
            if rm is not None and response_msg is None:
                hit = rm.search(text)
                if hit:
                    response_msg = hit.groupdict().get("response") or hit.group(0)
        if onset is not None and offset is None:
            offset = _end_of_block(block_ends, onset)
            if offset is not None:
                offset += recording_interval(recording)  # END follows the last sample
        if onset is not None and stop < len(texts):
            # a window never runs into the next trial (EDFs without END or offset messages)
            nxt = float(times[stop])
            offset = nxt if offset is None else min(offset, nxt)
        stimulus = variables.get(rules.stimulus_variable) or (
            _stem(image.file) if image is not None else None
        )
        response = variables.get(rules.response_variable) or response_msg
        trials.append(
            Trial(
                subject=recording.subject,
                index=n,
                trial_id=trial_id,
                start_ms=float(times[k]),
                onset_ms=onset,
                offset_ms=offset,
                variables=variables,
                stimulus_id=stimulus,
                response=response,
                image=image,
            )
        )
    return trials


def recording_interval(recording: Recording) -> float:
    """Sampling interval in ms, or 1 ms for a recording without samples."""
    return recording.sample_interval_ms() if recording.n_samples > 1 else 1.0


def _block_ends(recording: Recording) -> list[tuple[float, float]]:
    """(first, last) sample time of each recording block, in order."""
    if recording.n_samples == 0:
        return []
    out = []
    for b in np.unique(recording.block):
        t = recording.time_ms[recording.block == b]
        out.append((float(t[0]), float(t[-1])))
    return out


def _end_of_block(blocks: list[tuple[float, float]], t: float) -> float | None:
    for first, last in blocks:
        if first <= t <= last:
            return last
    return None
