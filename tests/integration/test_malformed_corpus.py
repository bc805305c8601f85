"""A corpus of malformed inputs, generated here, through the command line.

Every case must end in exit 0 with its problem counted in the output, or exit 2 with one
message naming the file, line or key; never a traceback, and never an output file left that
looks complete. The cases are the ones a careless or unlucky user makes (the robustness issue's
list), built from valid files in the test.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gazealign.cli import main

sys.path.insert(0, str(Path(__file__).parents[1] / "property"))
from fuzz_inputs import VALID_ASC, VALID_SAMPLES_CSV, VALID_STUDY, real_edf


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path], list[str]]  # writes the input, returns the CLI arguments
    code: int  # 0: read, problem counted; 2: refused with one message
    says: str  # text the output must hold (the file/line/key, or the count)


def _fix(folder: Path, name: str, data: bytes | str, *extra: str) -> list[str]:
    path = folder / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return ["gaze", "fixations", str(path), "--out", str(folder / "out.csv"), *extra]


def _status(folder: Path, text: str | None) -> list[str]:
    path = folder / "study.toml"
    if text is None:
        path.mkdir()
    else:
        path.write_text(text)
    return ["status", str(path)]


def _jpeg(size: tuple[int, int] = (40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((*size, 3), 120, np.uint8)).save(buf, format="JPEG")
    return buf.getvalue()


def _scan(folder: Path, damage: str) -> list[str]:
    (folder / "img").mkdir()
    rows = ["path,label,subject,session"]
    for i, label in enumerate(["happy", "sad", "angry", "afraid"]):
        (folder / "img" / f"{i}.jpg").write_bytes(_jpeg())
        rows.append(f"img/{i}.jpg,{label},s{i},")
    bad = folder / "img" / "0.jpg"
    if damage == "zero":
        bad.write_bytes(b"")
    elif damage == "truncated":
        bad.write_bytes(_jpeg()[:100])
    elif damage == "tiny":
        bad.write_bytes(_jpeg((1, 1)))
    else:
        rows.append("img/missing.jpg,happy,s9,")
    (folder / "list.csv").write_text("\n".join(rows) + "\n")
    return ["faces", "scan", str(folder / "list.csv"), "--source", "manifest", "--crop", "none"]


ASC_1E300 = VALID_ASC.replace("2021\t  640.5", "2021\t  1e300")
ASC_EFIX_1E308 = VALID_ASC.replace(
    "EFIX L   2020\t2022\t3\t  640.5", "EFIX L   2020\t2022\t3\t  1e308"
)
CSV_TEXT = VALID_SAMPLES_CSV.replace("\n5,", "\nfive,", 1)

CASES = [
    Case("asc x = 1e300", lambda d: _fix(d, "s.asc", ASC_1E300, "--method", "ivt"), 0,
         "impossible positions set aside: 1 samples"),
    Case("asc EFIX x = 1e308", lambda d: _fix(d, "s.asc", ASC_EFIX_1E308), 0,
         "set aside: 0 samples, 1 fixation events"),
    Case("asc truncated", lambda d: _fix(d, "s.asc", VALID_ASC[:700], "--method", "idt"), 0,
         "truncated_last_line=1"),
    Case("asc empty", lambda d: _fix(d, "s.asc", ""), 2, "s.asc"),
    Case("asc binary", lambda d: _fix(d, "s.asc", bytes(range(256))), 2, "s.asc: binary data"),
    Case("asc UTF-16", lambda d: _fix(d, "s.asc", VALID_ASC.encode("utf-16")), 2,
         "s.asc: the text is UTF-16 LE"),
    Case("edf renamed asc", lambda d: _fix(d, "s.asc", real_edf()[:4000]), 2,
         "s.asc: this is a binary EyeLink EDF file"),
    Case("edf cut at 50 bytes", lambda d: _fix(d, "s.edf", real_edf()[:50]), 2,
         "s.edf: eyelinkio's reader crashed on this file"),
    Case("edf not an edf", lambda d: _fix(d, "s.edf", b"hello"), 2, "s.edf: not an EyeLink EDF"),
    Case("csv header only", lambda d: _fix(d, "s.csv", VALID_SAMPLES_CSV.split("\n")[0] + "\n",
                                           "--method", "ivt"), 2, "s.csv: no data rows"),
    Case("csv text in a number", lambda d: _fix(d, "s.csv", CSV_TEXT, "--method", "ivt"), 2,
         "s.csv:7"),
    Case("csv UTF-16", lambda d: _fix(d, "s.csv", VALID_SAMPLES_CSV.encode("utf-16"), "--method",
                                      "ivt"), 2, "s.csv: the text is UTF-16"),
    Case("csv default events method", lambda d: _fix(d, "s.csv", VALID_SAMPLES_CSV), 2,
         "set --method to 'ivt' or 'idt'"),
    Case("folder as recording", lambda d: ["gaze", "fixations", str(d), "--out",
                                           str(d / "out.csv")], 2, str(Path("."))),
    Case("missing recording", lambda d: ["gaze", "fixations", str(d / "no.asc"), "--out",
                                         str(d / "out.csv")], 2, "no.asc"),
    Case("study is a folder", lambda d: _status(d, None), 2, "study.toml"),
    Case("study bad TOML", lambda d: _status(d, "[study\nseed = 1\n"), 2, "study.toml"),
    Case("study unknown key", lambda d: _status(d, VALID_STUDY + "colour = 3\n"), 2, "colour"),
    Case("study string for an int", lambda d: _status(
        d, VALID_STUDY.replace("identities = 4", 'identities = "96"')), 2, "identities"),
    Case("study yes for a bool", lambda d: _status(d, "[gaze]\ncorrect_only = \"yes\"\n"), 2,
         "correct_only"),
    Case("scan zero-byte jpeg", lambda d: _scan(d, "zero"), 0, "corrupt_image: 1 files"),
    Case("scan truncated jpeg", lambda d: _scan(d, "truncated"), 0, "corrupt_image: 1 files"),
    Case("scan 1x1 image", lambda d: _scan(d, "tiny"), 0, "too_small: 1 files"),
    Case("scan missing path", lambda d: _scan(d, "missing"), 0, "no such image file"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_malformed_input_ends_in_a_message_or_a_count(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = case.make(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(args)
    captured = capsys.readouterr()
    out = " ".join((captured.out + captured.err).split())
    assert exit_.value.code == case.code, out
    assert "Traceback" not in out
    assert case.says in out, out
    if case.code == 2:
        assert out.count("error:") == 1
        assert not (tmp_path / "out.csv").exists(), "a refused input left an output behind"
