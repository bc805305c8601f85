"""Read binary EyeLink EDF files with ``eyelinkio`` (the ``edf`` extra).

``eyelinkio`` gives times in seconds from the first sample; they become milliseconds on that
clock here (messages and events alike, so trials segment as in an ASC file). Recording blocks
are found from time gaps. Its fixation/saccade/blink events become :attr:`Recording.events`
with EyeLink's duration convention (end - start + one sample).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from gazealign.errors import DataError
from gazealign.gaze.events import segments
from gazealign.gaze.format_registry import ReadContext, gaze_format
from gazealign.gaze.recording import Recording, events_frame, messages_frame

_EYES = {0: "L", 1: "R"}


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence file descriptor 1: eyelinkio's C reader prints progress there."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _eyelinkio_child(path: str) -> dict[str, Any]:
    """Run in a child process: eyelinkio's reader, its result as plain picklable parts."""
    import eyelinkio

    with _quiet_stdout():
        edf = eyelinkio.read_edf(path)
    return {
        "info": dict(edf["info"]),
        "samples": np.asarray(edf["samples"]),
        "times": np.asarray(edf["times"]),
        "discrete": {k: v for k, v in edf["discrete"].items()},
    }


def _read_isolated(path: Path) -> dict[str, Any]:
    """eyelinkio's C reader in a child process, so a damaged file cannot take this one down.

    Fuzzing found EDF files whose damaged header makes the C reader (SR Research's edfapi)
    crash with a segmentation fault; in a child, that is one message naming the file.
    The child is forked from a forkserver (started once, with eyelinkio imported), so each
    file costs a fork, not a new interpreter.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["eyelinkio", "numpy"])
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        try:
            return pool.submit(_eyelinkio_child, str(path)).result()
        except BrokenProcessPool:
            raise DataError(
                f"{path}: eyelinkio's reader crashed on this file (a damaged or truncated EDF); "
                "convert it with edf2asc and read the ASC file instead"
            ) from None
        except Exception as exc:  # the C reader raises assorted types for damaged files
            raise DataError(f"{path}: eyelinkio could not read it ({exc})") from None


def _event(kind: str, ev: Any, interval: float, **values: Any) -> dict[str, Any]:
    """One event row: kind, eye, start, end and duration (ms; the end sample counted), values."""
    start, end = float(ev["stime"]) * 1000, float(ev["etime"]) * 1000
    return {
        "kind": kind,
        "eye": _EYES.get(int(ev["eye"]), "L"),
        "start_ms": start,
        "end_ms": end,
        "duration_ms": end - start + interval,
        **{k: float(v) for k, v in values.items()},
    }


def read_edf(path: Path | str, *, subject: str | None = None) -> Recording:
    """Read an EDF file into a :class:`Recording` (requires ``pip install gazealign[edf]``)."""
    path = Path(path)
    try:
        import eyelinkio
    except ImportError:  # pragma: no cover - the extra is installed in development
        raise DataError(
            "reading EDF files needs the 'edf' extra: pip install 'gazealign[edf]'"
        ) from None
    if not path.exists():
        raise DataError(f"{path}: no such file")
    with path.open("rb") as fh:
        if not fh.read(11).startswith(b"SR_RESEARCH"):
            raise DataError(f"{path}: not an EyeLink EDF file (no SR_RESEARCH signature)")
    del eyelinkio  # read in a child process: see _read_isolated
    edf = _read_isolated(path)
    info: dict[str, Any] = edf["info"]
    fields: list[str] = list(info["sample_fields"])
    samples = np.asarray(edf["samples"], dtype=np.float64)
    time_ms = np.asarray(edf["times"], dtype=np.float64) * 1000.0
    n = time_ms.shape[0]
    left = np.full((n, 3), np.nan)
    right = np.full((n, 3), np.nan)
    eye_info = str(info.get("eye", ""))
    for k, name in enumerate(fields):
        base, _, side = name.partition("_")
        col = {"xpos": 0, "ypos": 1, "ps": 2}.get(base)
        if col is None:
            continue
        if side == "right" or (not side and eye_info.startswith("RIGHT")):
            right[:, col] = samples[k]
        else:
            left[:, col] = samples[k]
    rate = float(info["sfreq"]) if info.get("sfreq") else None
    interval = 1000.0 / rate if rate else 1.0
    discrete = edf["discrete"]
    rows: list[dict[str, Any]] = []
    for ev in discrete.get("fixations", []):
        rows.append(_event("fixation", ev, interval, x_px=ev["axp"], y_px=ev["ayp"]))
    for ev in discrete.get("saccades", []):
        ends = {"end_x_px": ev["exp"], "end_y_px": ev["eyp"], "peak_velocity_deg_s": ev["pv"]}
        rows.append(_event("saccade", ev, interval, x_px=ev["sxp"], y_px=ev["syp"], **ends))
    for ev in discrete.get("blinks", []):
        rows.append(_event("blink", ev, interval))
    warnings: Counter[str] = Counter()
    messages: list[tuple[float, str, int]] = []
    validation: list[float] = []
    display: tuple[int, int] | None = None
    for k, msg in enumerate(discrete.get("messages", [])):
        raw = bytes(msg["msg"])
        text = raw.decode("utf-8", errors="replace").strip().rstrip("\x00")
        if "\ufffd" in text:
            warnings["undecodable_text"] += 1
        messages.append((float(msg["stime"]) * 1000.0, text, k + 1))
        words = text.split()
        if words and words[0] in ("DISPLAY_COORDS", "GAZE_COORDS") and len(words) >= 5:
            with contextlib.suppress(ValueError):
                x0, y0, x1, y1 = (float(w) for w in words[1:5])
                w, h = x1 - x0 + 1, y1 - y0 + 1
                sane = np.isfinite([w, h]).all() and min(w, h) >= 1
                if sane and (words[0] == "DISPLAY_COORDS" or display is None):
                    display = (round(w), round(h))
        if "VALIDATION" in text and "ERROR" in text:
            parts = text.split()
            with contextlib.suppress(ValueError, IndexError):
                validation.append(float(parts[parts.index("ERROR") + 1]))
    if display is None and info.get("screen_coords") is not None:
        sc = np.asarray(info["screen_coords"]).ravel()
        if sc.size == 2:
            display = (int(sc[0]), int(sc[1]))
    if display is None:
        warnings["no_display_coords"] += 1
    return Recording(
        source=str(path),
        subject=subject if subject is not None else path.stem,
        time_ms=time_ms,
        block=segments(time_ms, interval),
        left=left,
        right=right,
        events=events_frame(rows),
        messages=messages_frame(messages),
        sampling_rate_hz=rate,
        display_px=display,
        header={k: str(v) for k, v in info.items() if isinstance(v, str)},
        validation_error_deg=tuple(validation),
        warnings=warnings,
    )


@gaze_format(
    "edf",
    description="EyeLink EDF, read with eyelinkio: samples, events, messages",
    suffix=".edf",
    extra="edf",
)
def _read_edf_format(path: Path, context: ReadContext) -> list[Recording]:
    return [read_edf(path)]
