"""Hypothesis strategies for malformed recordings and study files, and the check they share.

A reader *passes* an input when it returns or raises a :class:`~gazealign.errors.GazeAlignError`
(the CLI turns those into one message and exit 2); any other exception is a crash. Inputs are
mutations of valid files (tokens replaced by absurd values, lines dropped, duplicated or cut,
bytes flipped), which reach deeper than random bytes. ``benchmarks/fuzz.py`` runs the same
strategies for longer.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from gazealign.errors import GazeAlignError

#: A valid monocular ASC recording with one trial (the reader's unit tests use the same lines).
VALID_ASC = """\
** CONVERTED FROM D:\\data\\s01.edf using edfapi 4.2.1197.0 Linux
**
MSG\t2000 DISPLAY_COORDS 0 0 1919 1079
MSG\t2001 RECCFG CR 1000 2 1 L
MSG\t2004 !CAL VALIDATION HV9 L LEFT  GOOD ERROR 0.35 avg. 0.71 max  OFFSET 0.20 deg. 5.1,-3.2 pix.
MSG\t2010 TRIALID 7
START\t2020 \tLEFT\tSAMPLES\tEVENTS
SAMPLES\tGAZE\tLEFT\tRATE\t1000.00\tTRACKING\tCR\tFILTER\t2
SFIX L   2020
2020\t  640.0\t  512.0\t 1000.0\t...
2021\t  640.5\t  512.5\t 1001.0\t...
MSG\t2022 STIMULUS_ONSET
2022\t  641.0\t  513.0\t 1002.0\t...
2023\t   .\t   .\t    0.0\t...
EFIX L   2020\t2022\t3\t  640.5\t  512.5\t   1001
SSACC L  2023
SBLINK L 2023
2024\t   .\t   .\t    0.0\t...
EBLINK L 2023\t2024\t2
2025\t  700.0\t  500.0\t  990.0\t...
ESACC L  2023\t2025\t3\t  641.0\t  513.0\t  700.0\t  500.0\t   1.52\t    203
MSG\t2027 STIMULUS_OFFSET
END\t2027 \tSAMPLES\tEVENTS\tRES\t  38.54\t  31.12
MSG\t2030 !V TRIAL_VAR stimulus AF01HAS
MSG\t2030 !V TRIAL_VAR response happy
MSG\t2031 TRIAL_RESULT 1
"""

#: A valid sample CSV (two trials).
VALID_SAMPLES_CSV = "time_ms,x_px,y_px,pupil,trial,stimulus_id,response\n" + "".join(
    f"{t},{900 + t % 7},{500 + t % 5},1000,{1 + t // 60},AF01HAS,happy\n" for t in range(120)
)

#: A valid fixation CSV.
VALID_FIXATIONS_CSV = (
    "subject,trial,stimulus_id,x_px,y_px,onset_ms,duration_ms,response\n"
    "p01,1,AF01HAS,40.5,60.0,120,250,happy\n"
    "p01,1,AF01HAS,60.0,80.0,400,300,happy\n"
    "p02,1,AM02AFS,10.0,20.0,100,200,afraid\n"
)

#: A valid study file touching every table.
VALID_STUDY = """\
[study]
name = "fuzz"
seed = 3
run_dir = "runs/fuzz"

[stimuli]
source = "synthetic"
input_size_px = 64

[stimuli.synthetic]
identities = 4

[model.train]
epochs = 1
batch_size = 8

[gaze]
source = "simulated"

[gaze.screen]
width_px = 1920
height_px = 1080

[heatmap]
sigma_deg = 1.0

[comparison.perturbation]
tile_px = 16
"""

#: Values a careless or unlucky file holds where a number or a word belongs.
ABSURD = (
    "", ".", "nan", "NaN", "inf", "-inf", "1e308", "-1e308", "1e300", "0", "-1", "-0",
    "4294967296", "99999999999999999999999", "0x10", "1,5", "١٢", "\u00a0", "\x00", "é",
    "TRIALID", "MSG", "END", "START", "\t", "  ", "True", "[]", "{}", '"', "'", "\\",
)  # fmt: skip


def _mutate_lines(lines: list[str], draw: Any) -> list[str]:
    out = list(lines)
    for _ in range(draw(st.integers(1, 4))):
        if not out:
            break
        i = draw(st.integers(0, len(out) - 1))
        kind = draw(st.sampled_from(["token", "drop", "duplicate", "cut", "swap", "insert"]))
        if kind == "token":
            parts = out[i].replace("\t", " \t ").split(" ")
            j = draw(st.integers(0, len(parts) - 1))
            parts[j] = draw(st.sampled_from(ABSURD) | st.text(max_size=6))
            out[i] = " ".join(parts).replace(" \t ", "\t")
        elif kind == "drop":
            del out[i]
        elif kind == "duplicate":
            out.insert(i, out[i])
        elif kind == "cut":
            out[i] = out[i][: draw(st.integers(0, len(out[i])))]
        elif kind == "swap" and len(out) > 1:
            j = draw(st.integers(0, len(out) - 1))
            out[i], out[j] = out[j], out[i]
        else:
            out.insert(i, draw(st.sampled_from(ABSURD) | st.text(max_size=20)))
    return out


@st.composite
def mutated_text(draw: Any, valid: str) -> bytes:
    """``valid`` with a few lines mutated, then maybe truncated, re-encoded or bytes flipped."""
    lines = _mutate_lines(valid.split("\n"), draw)
    text = "\n".join(lines)
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8", errors="surrogatepass")
    tail = draw(st.sampled_from(["none", "truncate", "flip", "utf16", "bom"]))
    if tail == "truncate" and data:
        data = data[: draw(st.integers(0, len(data)))]
    elif tail == "flip" and data:
        buf = bytearray(data)
        for _ in range(draw(st.integers(1, 3))):
            buf[draw(st.integers(0, len(buf) - 1))] = draw(st.integers(0, 255))
        data = bytes(buf)
    elif tail == "utf16":
        data = text.encode("utf-16", errors="surrogatepass")
    elif tail == "bom":
        data = b"\xef\xbb\xbf" + data
    return data


def crash_of(call: Callable[[], object]) -> str | None:
    """None when ``call`` returns or raises a user error; else the crash's traceback text."""
    try:
        call()
    except GazeAlignError:
        return None
    except Exception:  # a crash: what the fuzzer looks for
        return traceback.format_exc()
    return None


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def real_edf() -> bytes:
    """eyelinkio's own 1000 Hz test recording (installed with the package)."""
    import eyelinkio

    return (Path(eyelinkio.__file__).parent / "tests" / "data" / "test_raw.edf").read_bytes()


@st.composite
def edf_header_mutation(draw: Any) -> bytes:
    """A real EDF file with bytes of its text header (the first 2 kB) changed or cut short."""
    data = bytearray(real_edf())
    end = data.find(b"ENDP:")  # the text preamble ends at the first ENDP
    end = end if end > 0 else 2048
    kind = draw(st.sampled_from(["flip", "cut", "zero"]))
    if kind == "cut":
        return bytes(data[: draw(st.integers(11, end))])
    for _ in range(draw(st.integers(1, 8))):
        i = draw(st.integers(11, end - 1))
        data[i] = 0 if kind == "zero" else draw(st.integers(0, 255))
    return bytes(data)
