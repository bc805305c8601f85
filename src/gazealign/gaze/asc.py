"""Read EyeLink ASC files (the text export of an EDF made by ``edf2asc``).

Line types (SR Research, EyeLink 1000 Plus user manual, "ASC file format"):

* ``** ...`` header lines (converter, date, tracker version);
* ``MSG <time> [<offset>] <text>``: the message time is ``time - offset`` when an integer offset
  precedes the text (Data Viewer's convention), e.g. ``MSG 1000 -8 !V IMGLOAD ...`` is at 1008;
* ``START <time> <eyes> SAMPLES EVENTS`` .. ``END <time> ...``: a recording block;
* ``SAMPLES`` / ``EVENTS`` lines: the sample layout (``GAZE``, eyes, ``RATE``, ``VEL``, ``RES``);
* samples ``<time> <x> <y> <pupil> [<x> <y> <pupil>] [velocities] [resolution] [flags]``,
  binocular as left then right, ``.`` for missing; times may be fractional (2000 Hz);
* events ``SFIX/SSACC/SBLINK <eye> <start>`` and ``EFIX <eye> <start> <end> <dur> <x> <y> <pupil>``,
  ``ESACC <eye> <start> <end> <dur> <sx> <sy> <ex> <ey> <ampl> <peak_vel>``,
  ``EBLINK <eye> <start> <end> <dur>``;
* ``INPUT``, ``BUTTON``, ``PRESCALER``, ``VPRESCALER``, ``PUPIL`` lines;
* continuation lines of multi-line messages (calibration reports: lines starting with
  whitespace or ``>>>``), appended to the message before them.

What is an error and what is a counted skip (``Recording.warnings``):

* **Errors** (:class:`~gazealign.errors.DataError` naming file and line): binary data (an EDF
  renamed ``.asc``, NUL bytes), a sample line whose fields are not numbers or ``.``, or that has
  fewer fields than its block's layout, an event or message line whose times or values are not
  numbers, a file with no samples, events or messages at all, samples going back in time
  (inside a block or from one block to the next).
* **Counted skips** (safe: they carry no data we use): an incomplete last line of a truncated
  file (``truncated_last_line``), an unknown line type (``unknown_line``), a continuation line
  with no message before it (``orphan_continuation``), samples before any ``START``
  (``samples_outside_block``: kept, in a block of their own), a start event with no end event
  (``open_events``), ``START`` without ``END`` (``unclosed_block``), undecodable bytes in a
  message (``undecodable_text``), ``nan`` written as a sample value (``nan_sample_values``:
  treated as missing, like ``.``). A missing ``DISPLAY_COORDS``/``GAZE_COORDS`` or sampling
  rate is counted too (``no_display_coords``, ``no_sampling_rate``): callers that need them
  fall back to the study file or the median sample step.
"""

from __future__ import annotations

import io
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from gazealign.errors import DataError
from gazealign.gaze.format_registry import ReadContext, gaze_format
from gazealign.gaze.recording import Recording, events_frame, messages_frame

_INT_OFFSET = re.compile(r"^(-?\d+)\s+(\S.*)$")
_VALIDATION = re.compile(r"VALIDATION\b.*?\bERROR\s+([0-9.]+)\s+avg\.", re.IGNORECASE)
_IGNORED = frozenset({"INPUT", "BUTTON", "PRESCALER", "VPRESCALER", "PUPIL"})
_STARTS = frozenset({"SFIX", "SSACC", "SBLINK"})
_ENDS = {"EFIX": "SFIX", "ESACC": "SSACC", "EBLINK": "SBLINK"}
_MIN_FIELDS = {"EFIX": 7, "ESACC": 11, "EBLINK": 5}


@dataclass
class _Block:
    first_line: int
    eyes: tuple[str, ...] = ()
    vel: bool = False
    res: bool = False
    rate_hz: float | None = None
    sample_lines: list[int] = field(default_factory=list)
    closed: bool = False


class _Parser:
    def __init__(self, path: Path, lines: list[str], truncated: bool) -> None:
        self.path = path
        self.lines = lines
        self.truncated = truncated
        self.last = len(lines)  # 1-based number of the last line
        self.warnings: Counter[str] = Counter()
        self.blocks: list[_Block] = []
        self.block: _Block | None = None
        self.messages: list[tuple[float, str, int]] = []
        self.events: list[dict[str, Any]] = []
        self.open: Counter[tuple[str, str]] = Counter()
        self.header: dict[str, str] = {}
        self.rate_hz: float | None = None
        self.display: tuple[int, int] | None = None
        self.validation: list[float] = []

    # -- errors ---------------------------------------------------------------------------------
    def fail(self, lineno: int, what: str) -> NoReturn:
        """Raise a :class:`DataError` naming the file, line ``lineno`` and the line's text."""
        text = self.lines[lineno - 1]
        shown = text if len(text) <= 120 else text[:117] + "..."
        raise DataError(f"{self.path}:{lineno}: {what}: {shown!r}")

    def number(self, token: str, lineno: int, what: str) -> float:
        if token == ".":
            return float("nan")
        try:
            return float(token)
        except ValueError:
            self.fail(lineno, f"{what} is not a number ({token!r})")

    # -- line types -----------------------------------------------------------------------------
    def parse(self) -> None:
        lines = self.lines
        if self.truncated:
            # A file cut mid-line: its last line may hold a cut number (388.0 -> 38), so it is
            # never trusted, whatever it parses as.
            self.warnings["truncated_last_line"] += 1
            lines = lines[:-1]
        for i, raw in enumerate(lines, start=1):
            if raw[:1].isdigit():  # samples are nearly every line: keep their path short
                block = self.block
                if block is None:
                    block = self.outside_block(i)
                block.sample_lines.append(i)
                continue
            line = raw.rstrip("\r")
            if not line.strip():
                continue
            self.parse_line(i, line)
        if self.block is not None and not self.block.closed:
            self.warnings["unclosed_block"] += 1
        if self.open:
            self.warnings["open_events"] += sum(self.open.values())

    def outside_block(self, i: int) -> _Block:
        """A block for samples that come before any START (or after an END): counted, kept."""
        self.warnings["samples_outside_block"] += 1
        self.block = _Block(first_line=i, rate_hz=self.rate_hz, closed=True)
        self.blocks.append(self.block)
        return self.block

    def parse_line(self, i: int, line: str) -> None:
        if line.startswith("**"):
            key, _, value = line[2:].partition(":")
            if value:
                self.header[key.strip()] = value.strip()
            return
        if line[0] in " \t" or line.startswith(">>>"):
            self.continuation(line)
            return
        tokens = line.split()
        kind = tokens[0]
        if kind == "MSG":
            self.message(i, line)
        elif kind in _ENDS:
            self.event(i, kind, tokens)
        elif kind in _STARTS:
            if len(tokens) < 3:
                self.fail(i, f"{kind} needs an eye and a start time")
            self.open[(kind, tokens[1])] += 1
        elif kind == "START":
            self.start(i, tokens)
        elif kind == "END":
            if self.block is not None:
                self.block.closed = True
                self.block = None
        elif kind in ("SAMPLES", "EVENTS"):
            self.layout(tokens)
        elif kind in _IGNORED:
            return
        else:
            self.warnings["unknown_line"] += 1

    def continuation(self, line: str) -> None:
        if not self.messages:
            self.warnings["orphan_continuation"] += 1
            return
        t, text, n = self.messages[-1]
        self.messages[-1] = (t, text + "\n" + line.strip(), n)

    def message(self, i: int, line: str) -> None:
        parts = line.split(None, 2)
        if len(parts) < 2:
            self.fail(i, "MSG line without a time")
        t = self.number(parts[1], i, "message time")
        if not np.isfinite(t):
            self.fail(i, "MSG line without a time")
        text = parts[2].strip() if len(parts) > 2 else ""
        m = _INT_OFFSET.match(text)
        if m:
            t -= float(m.group(1))
            text = m.group(2)
        if "\ufffd" in text:
            self.warnings["undecodable_text"] += 1
        self.messages.append((t, text, i))
        self.header_message(text)

    def header_message(self, text: str) -> None:
        words = text.split()
        if not words:
            return
        if words[0] in ("DISPLAY_COORDS", "GAZE_COORDS") and len(words) >= 5:
            try:
                x0, y0, x1, y1 = (float(w) for w in words[1:5])
            except ValueError:
                return
            width, height = x1 - x0 + 1, y1 - y0 + 1
            if not (math.isfinite(width) and math.isfinite(height) and min(width, height) >= 1):
                self.warnings["bad_display_coords"] += 1  # e.g. 1e308 or a reversed box
                return
            # DISPLAY_COORDS wins over GAZE_COORDS: it is what the experiment drew on.
            if words[0] == "DISPLAY_COORDS" or self.display is None:
                self.display = (round(width), round(height))
        elif words[0] in ("RECCFG", "!MODE") and self.rate_hz is None:
            nums = [w for w in words if w.replace(".", "", 1).isdigit()]
            if nums:
                self.rate_hz = float(nums[0])
        elif words[0] == "!CAL":
            m = _VALIDATION.search(text)
            if m:
                self.validation.append(float(m.group(1)))

    def start(self, i: int, tokens: list[str]) -> None:
        if self.block is not None and not self.block.closed:
            self.warnings["unclosed_block"] += 1
        eyes = tuple(e[0] for e in tokens[2:] if e in ("LEFT", "RIGHT"))
        self.block = _Block(first_line=i, eyes=eyes, rate_hz=self.rate_hz)
        self.blocks.append(self.block)

    def layout(self, tokens: list[str]) -> None:
        if tokens[0] != "SAMPLES" and self.block is not None and self.block.eyes:
            return  # EVENTS line: the SAMPLES line decides the sample layout
        eyes = tuple(e[0] for e in tokens[1:] if e in ("LEFT", "RIGHT"))
        rate = None
        if "RATE" in tokens:
            k = tokens.index("RATE")
            if k + 1 < len(tokens):
                try:
                    rate = float(tokens[k + 1])
                except ValueError:
                    rate = None
        if rate is not None:
            self.rate_hz = rate
        if self.block is not None:
            if eyes:
                self.block.eyes = eyes
            if tokens[0] == "SAMPLES":
                self.block.vel = "VEL" in tokens
                self.block.res = "RES" in tokens
            if rate is not None:
                self.block.rate_hz = rate

    def event(self, i: int, kind: str, tokens: list[str]) -> None:
        if len(tokens) < _MIN_FIELDS[kind]:
            self.fail(i, f"{kind} needs at least {_MIN_FIELDS[kind] - 1} fields")
        eye = tokens[1]
        if eye not in ("L", "R"):
            self.fail(i, f"{kind} eye must be L or R, got {eye!r}")
        key = (_ENDS[kind], eye)
        if self.open[key] > 0:
            self.open[key] -= 1
            if self.open[key] == 0:
                del self.open[key]
        start = self.number(tokens[2], i, f"{kind} start time")
        end = self.number(tokens[3], i, f"{kind} end time")
        dur = self.number(tokens[4], i, f"{kind} duration")
        if not (np.isfinite(start) and np.isfinite(end)) or end < start:
            self.fail(i, f"{kind} needs start <= end times")
        row: dict[str, Any] = {
            "eye": eye,
            "start_ms": start,
            "end_ms": end,
            "duration_ms": dur,
        }
        if kind == "EFIX":
            row["kind"] = "fixation"
            row["x_px"] = self.number(tokens[5], i, "EFIX x")
            row["y_px"] = self.number(tokens[6], i, "EFIX y")
            if len(tokens) > 7:
                row["pupil"] = self.number(tokens[7], i, "EFIX pupil")
        elif kind == "ESACC":
            row["kind"] = "saccade"
            vals = [self.number(t, i, "ESACC value") for t in tokens[5:11]]
            row["x_px"], row["y_px"], row["end_x_px"], row["end_y_px"] = vals[:4]
            row["amplitude_deg"], row["peak_velocity_deg_s"] = vals[4:6]
        else:
            row["kind"] = "blink"
        self.events.append(row)

    # -- samples --------------------------------------------------------------------------------
    def samples(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        # Consecutive blocks with one layout (usually all of them: a block per trial) are
        # parsed in one go; the time check across them also catches a block that starts
        # before the previous one ended.
        groups: list[tuple[tuple[tuple[str, ...], bool, bool], list[tuple[int, list[int]]]]] = []
        for b, block in enumerate(self.blocks):
            if not block.sample_lines:
                continue
            if not block.eyes:
                block.eyes = self.infer_eyes(block.sample_lines[0])
            key = (block.eyes, block.vel, block.res)
            if groups and groups[-1][0] == key:
                groups[-1][1].append((b, block.sample_lines))
            else:
                groups.append((key, [(b, block.sample_lines)]))
        times, blocks, lefts, rights = [], [], [], []
        last = -np.inf
        for (eyes, vel, res), members in groups:
            numbers = [n for _, nums in members for n in nums]
            starts = frozenset(nums[0] for _, nums in members)
            t, left, right = self.parse_samples(eyes, vel, res, numbers, starts)
            if t[0] <= last:
                self.fail(numbers[0], "recording block starts before the previous one ends")
            last = float(t[-1])
            times.append(t)
            blocks.append(
                np.repeat(
                    np.array([b for b, _ in members], dtype=np.int64),
                    [len(nums) for _, nums in members],
                )
            )
            lefts.append(left)
            rights.append(right)
        if not times:
            empty = np.zeros((0, 3))
            return np.zeros(0), np.zeros(0, dtype=np.int64), empty, empty.copy()
        return (
            np.concatenate(times),
            np.concatenate(blocks),
            np.concatenate(lefts),
            np.concatenate(rights),
        )

    def parse_samples(
        self,
        eyes: tuple[str, ...],
        vel: bool,
        res: bool,
        numbers: list[int],
        block_starts: frozenset[int] = frozenset(),
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Samples on lines ``numbers`` (1-based) laid out as ``eyes`` (+ velocity, resolution)."""
        n_eyes = len(eyes)
        n_num = 1 + 3 * n_eyes + (2 * n_eyes if vel else 0) + (2 if res else 0)
        text = "\n".join(self.lines[k - 1] for k in numbers)
        n_pos = 1 + 3 * n_eyes  # time, then x, y, pupil per eye: the fields we use
        try:
            # Fast path: C float parsing, "." as missing. Any other token raises, and the
            # slow path below finds the line to name.
            table = pd.read_csv(  # type: ignore[call-overload]
                io.StringIO(text),
                sep=r"\s+",
                header=None,
                names=list(range(n_num + 4)),
                dtype={j: np.float64 for j in range(n_pos)},
                keep_default_na=False,
                na_values={j: ["."] for j in range(n_pos)},
                engine="c",
            )
            values = table.iloc[:, :n_pos].to_numpy(dtype=np.float64)
        except (ValueError, pd.errors.ParserError):
            values = self.slow_samples(text, numbers, n_num, n_pos)
        # Rows with a NaN are few (blinks): check them one by one. A field may be "." or
        # "nan" (counted), but never absent (a short line) nor infinite.
        odd = np.flatnonzero(~np.isfinite(values).all(axis=1))
        for r in odd.tolist():
            tokens = self.lines[numbers[r] - 1].split()
            if len(tokens) < n_pos:
                self.fail(numbers[r], f"sample line has fewer than {n_pos} fields")
            for j in range(n_pos):
                if np.isfinite(values[r, j]):
                    continue
                if j == 0 or tokens[j].lower() not in (".", "nan"):
                    self.fail(numbers[r], f"sample field {j + 1} is not a number or '.'")
                if tokens[j] != ".":
                    self.warnings["nan_sample_values"] += 1
        t = values[:, 0]
        back = np.flatnonzero(np.diff(t) <= 0)
        if back.size:
            k = int(back[0]) + 1
            if numbers[k] in block_starts:
                self.fail(numbers[k], "recording block starts before the previous one ends")
            self.fail(numbers[k], "sample time does not increase")
        nan = np.full((t.shape[0], 3), np.nan)
        left, right = nan, nan.copy()
        for e, eye in enumerate(eyes):
            arr = values[:, 1 + 3 * e : 4 + 3 * e]
            if eye == "L":
                left = arr
            else:
                right = arr
        return t, left, right

    def slow_samples(self, text: str, numbers: list[int], n_num: int, n_pos: int) -> np.ndarray:
        """Parse as text to name the first bad line; returns the values if none is bad."""
        try:
            table = pd.read_csv(
                io.StringIO(text),
                sep=r"\s+",
                header=None,
                names=list(range(n_num + 4)),
                dtype=str,
                keep_default_na=False,
                na_values=[],
                engine="c",
            )
        except pd.errors.ParserError as exc:
            row = _row_from_parser_error(str(exc))
            lineno = numbers[row] if row is not None and row < len(numbers) else numbers[0]
            self.fail(lineno, f"cannot read sample line ({exc})")
        values = np.empty((len(table), n_pos), dtype=np.float64)
        for j in range(n_pos):
            strings = table[j].to_numpy(dtype=object)
            for r, tok in enumerate(strings.tolist()):
                if tok == ".":
                    values[r, j] = np.nan
                    continue
                if tok == "":
                    self.fail(numbers[r], f"sample line has fewer than {n_pos} fields")
                try:
                    values[r, j] = float(tok)
                except (TypeError, ValueError):
                    self.fail(numbers[r], f"sample field {j + 1} is not a number or '.'")
        return values

    def infer_eyes(self, lineno: int) -> tuple[str, ...]:
        """Eyes of a block with no START/SAMPLES line, from the field count of its first sample."""
        tokens = self.lines[lineno - 1].split()
        numeric = 0
        for tok in tokens[1:]:
            if tok == "." or _is_float(tok):
                numeric += 1
            else:
                break
        self.warnings["sample_layout_inferred"] += 1
        return ("L", "R") if numeric >= 6 else ("L",)


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _row_from_parser_error(message: str) -> int | None:
    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) - 1 if m else None


def utf16_name(data: bytes) -> str | None:
    """``"UTF-16 LE"``/``"UTF-16 BE"`` when ``data`` looks like UTF-16 text, else None.

    By its byte-order mark, or (no mark) by ASCII text with a NUL after, or before, every
    character in its first bytes, which is how a text editor's "Unicode" export looks.
    """
    if data.startswith(b"\xff\xfe"):
        return "UTF-16 LE"
    if data.startswith(b"\xfe\xff"):
        return "UTF-16 BE"
    head = data[:512]
    if len(head) >= 8 and len(head) % 2 == 0:
        if head[1::2].count(0) == len(head) // 2 and 0 not in head[0::2]:
            return "UTF-16 LE"
        if head[0::2].count(0) == len(head) // 2 and 0 not in head[1::2]:
            return "UTF-16 BE"
    return None


def read_text_checked(path: Path) -> tuple[list[str], bool]:
    """The lines of a text recording and whether its last line is incomplete.

    Raises :class:`DataError` for a missing file or binary content (an EDF renamed ``.asc``).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    if data.startswith(b"SR_RESEARCH"):
        raise DataError(
            f"{path}: this is a binary EyeLink EDF file, not an ASC text export; "
            "read it with the EDF reader (gaze.source = 'edf') or convert it with edf2asc"
        )
    utf16 = utf16_name(data)
    if utf16:
        raise DataError(
            f"{path}: the text is {utf16}, not ASCII or UTF-8 as edf2asc writes it; "
            "re-save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)"
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        raise DataError(f"{path}: binary data (NUL byte at offset {nul}); expected a text file")
    text = data.decode("utf-8", errors="replace")
    truncated = bool(text) and not text.endswith("\n")
    lines = text.split("\n")
    if not truncated and lines and lines[-1] == "":
        lines.pop()
    return lines, truncated


def read_asc(path: Path | str, *, subject: str | None = None) -> Recording:
    """Read an EyeLink ASC file into a :class:`Recording`.

    ``subject`` defaults to the file name stem. See the module docstring for which problems
    raise and which are counted in ``Recording.warnings``.
    """
    path = Path(path)
    lines, truncated = read_text_checked(path)
    parser = _Parser(path, lines, truncated)
    parser.parse()
    time_ms, block, left, right = parser.samples()
    if time_ms.size == 0 and not parser.events and not parser.messages:
        raise DataError(
            f"{path}: not an EyeLink ASC file (no sample, event or MSG lines in {len(lines)} lines)"
        )
    if parser.display is None:
        parser.warnings["no_display_coords"] += 1
    rate = parser.rate_hz
    block_rates = {b.rate_hz for b in parser.blocks if b.rate_hz}
    if len(block_rates) == 1:
        rate = block_rates.pop()
    if rate is None:
        parser.warnings["no_sampling_rate"] += 1
    return Recording(
        source=str(path),
        subject=subject if subject is not None else path.stem,
        time_ms=time_ms,
        block=block,
        left=left,
        right=right,
        events=events_frame(parser.events),
        messages=messages_frame(parser.messages),
        sampling_rate_hz=rate,
        display_px=parser.display,
        header=parser.header,
        validation_error_deg=tuple(parser.validation),
        warnings=parser.warnings,
    )


@gaze_format(
    "asc", description="EyeLink ASC (edf2asc output): samples, events, messages", suffix=".asc"
)
def _read_asc_format(path: Path, context: ReadContext) -> list[Recording]:
    return [read_asc(path)]
