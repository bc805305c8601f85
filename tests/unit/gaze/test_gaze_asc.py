"""The ASC reader on hand-written snippets of every line type, and on broken files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gazealign.errors import DataError
from gazealign.gaze.asc import read_asc

# Every line type an edf2asc export holds (EyeLink 1000 Plus manual, "ASC file format").
MONO = """\
** CONVERTED FROM D:\\data\\s01.edf using edfapi 4.2.1197.0 Linux
** DATE: Tue Mar 14 14:03:21 2023
** TYPE: EDF_FILE BINARY EVENT SAMPLE TAGGED
** VERSION: EYELINK II 1
**

MSG\t2000 DISPLAY_COORDS 0 0 1279 1023
MSG\t2001 RECCFG CR 1000 2 1 L
MSG\t2001 GAZE_COORDS 0.00 0.00 1279.00 1023.00
MSG\t2002 !CAL
>>>>>>> CALIBRATION (HV9,P-CR) FOR LEFT: <<<<<<<<<
MSG\t2003 !CAL eye check box: (L,R,T,B)
\t  -57    16  -109   -76
MSG\t2004 !CAL VALIDATION HV9 L LEFT  GOOD ERROR 0.35 avg. 0.71 max  OFFSET 0.20 deg. 5.1,-3.2 pix.
MSG\t2010 TRIALID 7
START\t2020 \tLEFT\tSAMPLES\tEVENTS
PRESCALER\t1
VPRESCALER\t1
PUPIL\tAREA
EVENTS\tGAZE\tLEFT\tRATE\t1000.00\tTRACKING\tCR\tFILTER\t2
SAMPLES\tGAZE\tLEFT\tRATE\t1000.00\tTRACKING\tCR\tFILTER\t2
SFIX L   2020
2020\t  640.0\t  512.0\t 1000.0\t...
2021\t  640.5\t  512.5\t 1001.0\t...
INPUT\t2021\t127
2022\t  641.0\t  513.0\t 1002.0\t...
MSG\t2025 -3 STIMULUS_ONSET
2023\t   .\t   .\t    0.0\t...
EFIX L   2020\t2022\t3\t  640.5\t  512.5\t   1001
SSACC L  2023
SBLINK L 2023
2024\t   .\t   .\t    0.0\t...
EBLINK L 2023\t2024\t2
2025\t  700.0\t  500.0\t  990.0\t...
ESACC L  2023\t2025\t3\t  641.0\t  513.0\t  700.0\t  500.0\t   1.52\t    203
2026\t  700.2\t  500.1\t  991.0\t...
BUTTON\t2026\t1\t1
FROBNICATE 2026 this line type does not exist
MSG\t2027 STIMULUS_OFFSET
END\t2027 \tSAMPLES\tEVENTS\tRES\t  38.54\t  31.12
MSG\t2030 !V TRIAL_VAR stimulus AF01HAS
MSG\t2030 !V TRIAL_VAR response happy
MSG\t2031 TRIAL_RESULT 1
"""


def _write(tmp_path: Path, text: str | bytes, name: str = "s01.asc") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_every_line_type(tmp_path: Path) -> None:
    rec = read_asc(_write(tmp_path, MONO))
    assert rec.subject == "s01"
    assert rec.display_px == (1280, 1024)
    assert rec.sampling_rate_hz == 1000.0
    assert rec.validation_error_deg == (0.35,)
    assert rec.header["DATE"] == "Tue Mar 14 14:03:21 2023"
    assert rec.time_ms.tolist() == [2020, 2021, 2022, 2023, 2024, 2025, 2026]
    np.testing.assert_array_equal(rec.left[:3, 0], [640.0, 640.5, 641.0])
    np.testing.assert_array_equal(rec.left[:, 2], [1000, 1001, 1002, 0, 0, 990, 991])
    assert np.isnan(rec.left[3:5, :2]).all() and np.isfinite(rec.left[5:, :2]).all()
    assert np.isnan(rec.right).all()
    assert rec.eyes == ("L",)
    # unknown line counted; INPUT/BUTTON/PRESCALER/... and continuation lines are not warnings
    assert dict(rec.warnings) == {"unknown_line": 1}
    ev = rec.events
    fix = ev[ev["kind"] == "fixation"].iloc[0]
    assert (fix["start_ms"], fix["end_ms"], fix["duration_ms"]) == (2020, 2022, 3)
    assert (fix["x_px"], fix["y_px"], fix["pupil"]) == (640.5, 512.5, 1001)
    sac = ev[ev["kind"] == "saccade"].iloc[0]
    assert (sac["end_x_px"], sac["amplitude_deg"], sac["peak_velocity_deg_s"]) == (700.0, 1.52, 203)
    blink = ev[ev["kind"] == "blink"].iloc[0]
    assert (blink["start_ms"], blink["end_ms"], blink["eye"]) == (2023, 2024, "L")
    # the offset form: MSG 2025 -3 STIMULUS_ONSET happened at 2028; messages are sorted by time
    texts = rec.messages["text"].tolist()
    times = rec.messages["time_ms"].tolist()
    assert times[texts.index("STIMULUS_ONSET")] == 2028.0
    assert times == sorted(times)
    # a continuation line joins its message
    box = next(t for t in texts if t.startswith("!CAL eye check box"))
    assert box.endswith("-57    16  -109   -76")


BINO_2000 = """\
MSG\t100 DISPLAY_COORDS 0 0 1919 1079
START\t100 \tLEFT\tRIGHT\tSAMPLES\tEVENTS
SAMPLES\tGAZE\tLEFT\tRIGHT\tRATE\t2000.00\tTRACKING\tCR\tFILTER\t2\tVEL\tRES
100\t  10.0\t  20.0\t 900.0\t  11.0\t  21.0\t 910.0\t   1.0\t   2.0\t   3.0\t   4.0\t  38.0\t  31.0\t.....
100.5\t  10.5\t  20.5\t 901.0\t   .\t   .\t    0.0\t   1.0\t   2.0\t   .\t   .\t  38.0\t  31.0\t.....
101\t  11.0\t  21.0\t 902.0\t  12.0\t  22.0\t 912.0\t   1.0\t   2.0\t   3.0\t   4.0\t  38.0\t  31.0\t.....
EFIX R   100\t101\t1.5\t  11.5\t  21.5\t    911
END\t101.5 \tSAMPLES\tEVENTS
"""


def test_binocular_2000hz_fractional_times_with_velocity_and_resolution(tmp_path: Path) -> None:
    rec = read_asc(_write(tmp_path, BINO_2000))
    assert rec.sampling_rate_hz == 2000.0
    assert rec.time_ms.tolist() == [100.0, 100.5, 101.0]
    np.testing.assert_array_equal(rec.left[:, 0], [10.0, 10.5, 11.0])
    assert np.isnan(rec.right[1, :2]).all() and rec.right[2, 0] == 12.0
    assert rec.eyes == ("L", "R")
    assert rec.pick_eye() == "L"  # more valid samples
    assert rec.events.iloc[0]["eye"] == "R" and rec.events.iloc[0]["duration_ms"] == 1.5
    assert rec.sample_interval_ms() == 0.5


def test_multiple_blocks_are_numbered(tmp_path: Path) -> None:
    text = (
        "START\t10 \tLEFT\tSAMPLES\tEVENTS\nSAMPLES\tGAZE\tLEFT\tRATE\t500.00\n"
        "10\t1.0\t1.0\t1.0\t...\n12\t1.0\t1.0\t1.0\t...\nEND\t14\n"
        "START\t90 \tRIGHT\tSAMPLES\tEVENTS\nSAMPLES\tGAZE\tRIGHT\tRATE\t500.00\n"
        "90\t2.0\t2.0\t2.0\t...\nEND\t92\n"
    )
    rec = read_asc(_write(tmp_path, text))
    assert rec.block.tolist() == [0, 0, 1]
    assert np.isnan(rec.left[2, 0]) and rec.right[2, 0] == 2.0
    assert rec.sampling_rate_hz == 500.0


def test_truncated_file_drops_its_cut_last_line(tmp_path: Path) -> None:
    cut = MONO[: MONO.index("2026\t  700.2") + len("2026\t  70")]  # cut inside a number
    rec = read_asc(_write(tmp_path, cut))
    assert rec.warnings["truncated_last_line"] == 1
    assert rec.warnings["unclosed_block"] == 1
    assert rec.time_ms[-1] == 2025  # the cut sample (x would read 70 instead of 700.2) is gone
    assert rec.left[-1, 0] == 700.0


def test_truncated_file_with_open_events(tmp_path: Path) -> None:
    cut = MONO[: MONO.index("EFIX L")]
    rec = read_asc(_write(tmp_path, cut))
    assert rec.warnings["open_events"] == 1  # the SFIX never got its EFIX
    assert (rec.events["kind"] == "fixation").sum() == 0


def test_edf_renamed_to_asc_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path, b"SR_RESEARCH_1000FILE\nDATE: x\n\x00\x01\x02binary")
    with pytest.raises(DataError, match="binary EyeLink EDF file"):
        read_asc(path)


def test_other_binary_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path, bytes(range(256)) * 4)
    with pytest.raises(DataError, match="NUL byte at offset 0"):
        read_asc(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        read_asc(tmp_path / "nope.asc")


def test_not_an_asc_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not an EyeLink ASC file"):
        read_asc(_write(tmp_path, "hello\nworld\n"))


def test_missing_header_lines_are_counted_and_inferred(tmp_path: Path) -> None:
    text = "".join(f"{t}\t{t / 10:.1f}\t5.0\t900.0\t...\n" for t in range(1000, 1010, 2))
    rec = read_asc(_write(tmp_path, text))
    assert rec.warnings["no_display_coords"] == 1
    assert rec.warnings["no_sampling_rate"] == 1
    assert rec.warnings["samples_outside_block"] == 1
    assert rec.warnings["sample_layout_inferred"] == 1
    assert rec.display_px is None and rec.sampling_rate_hz is None
    assert rec.sample_interval_ms() == 2.0  # from the median time step
    assert rec.n_samples == 5


def test_nan_text_counts_as_missing(tmp_path: Path) -> None:
    text = MONO.replace("2021\t  640.5\t  512.5", "2021\t  nan\t  NaN")
    rec = read_asc(_write(tmp_path, text))
    assert rec.warnings["nan_sample_values"] == 2
    assert np.isnan(rec.left[1, :2]).all()


@pytest.mark.parametrize(
    ("old", "new", "what"),
    [
        ("2021\t  640.5", "2021\t  64x.5", "sample field 2 is not a number"),
        ("2021\t  640.5", "2021\t  inf", "sample field 2 is not a number"),
        ("2022\t  641.0\t  513.0\t 1002.0\t...", "2022\t  641.0", "fewer than 4 fields"),
        ("2024\t   .", "2019\t   .", "sample time does not increase"),
        ("EFIX L   2020\t2022", "EFIX L   2020\tabc", "EFIX end time is not a number"),
        ("EFIX L   2020\t2022\t3\t  640.5\t  512.5\t   1001", "EFIX L 2020", "EFIX needs"),
        ("EBLINK L 2023", "EBLINK X 2023", "eye must be L or R"),
        ("MSG\t2027 STIMULUS_OFFSET", "MSG\tnoon STIMULUS_OFFSET", "message time"),
    ],
)
def test_garbled_lines_name_file_and_line(tmp_path: Path, old: str, new: str, what: str) -> None:
    assert old in MONO
    line_no = MONO[: MONO.index(old)].count("\n") + 1
    path = _write(tmp_path, MONO.replace(old, new, 1))
    with pytest.raises(DataError) as info:
        read_asc(path)
    message = str(info.value)
    assert f"{path}:{line_no}:" in message and what in message


def test_undecodable_bytes_in_a_message_are_counted(tmp_path: Path) -> None:
    data = MONO.encode().replace(b"TRIAL_RESULT 1", b"TRIAL_RESULT \xff\xfe")
    rec = read_asc(_write(tmp_path, data))
    assert rec.warnings["undecodable_text"] == 1


def test_windows_line_endings(tmp_path: Path) -> None:
    crlf = read_asc(_write(tmp_path, MONO.replace("\n", "\r\n").encode(), "crlf.asc"))
    lf = read_asc(_write(tmp_path, MONO, "lf.asc"))
    np.testing.assert_array_equal(crlf.left, lf.left)
    assert crlf.messages["text"].tolist() == lf.messages["text"].tolist()
    assert crlf.events.equals(lf.events) and dict(crlf.warnings) == dict(lf.warnings)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_text_is_named_as_such(tmp_path: Path, encoding: str) -> None:
    path = _write(tmp_path, MONO.encode(encoding))
    with pytest.raises(
        DataError, match=r"s01\.asc: the text is UTF-16 (LE|BE), not ASCII or UTF-8"
    ):
        read_asc(path)


def test_utf16_sample_csv_is_named_as_such(tmp_path: Path) -> None:
    from gazealign.gaze.csvfmt import read_samples_csv

    path = tmp_path / "s01.csv"
    path.write_bytes("time_ms,x_px,y_px,trial,stimulus_id\n0,1,2,1,a\n".encode("utf-16"))
    with pytest.raises(
        DataError, match=r"s01\.csv: the text is UTF-16 LE; re-save the CSV as UTF-8"
    ):
        read_samples_csv(path)
