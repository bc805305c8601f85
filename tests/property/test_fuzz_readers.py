"""Fuzzing (brief): the ASC, CSV and EDF readers and the study loader never crash.

Every mutated input must be read, or refused with a :class:`~gazealign.errors.GazeAlignError`
(one message, exit 2 at the command line). ``benchmarks/fuzz.py`` runs the same strategies for
longer; each crash it found is a regression test at the end of this file.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gazealign.config import load_study
from gazealign.gaze.asc import read_asc
from gazealign.gaze.csvfmt import read_fixations_csv, read_samples_csv

sys.path.insert(0, str(Path(__file__).parent))
from fuzz_inputs import (
    VALID_ASC,
    VALID_FIXATIONS_CSV,
    VALID_SAMPLES_CSV,
    VALID_STUDY,
    crash_of,
    edf_header_mutation,
    mutated_text,
    write,
)

BRIEF = settings(max_examples=30)


def _check(name: str, data: bytes, reader) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder), name, data)
        crash = crash_of(lambda: reader(path))
    assert crash is None, crash


@BRIEF
@given(mutated_text(VALID_ASC))
def test_asc_reader_never_crashes(data: bytes) -> None:
    _check("s01.asc", data, read_asc)


@BRIEF
@given(mutated_text(VALID_SAMPLES_CSV))
def test_sample_csv_reader_never_crashes(data: bytes) -> None:
    _check("s01.csv", data, read_samples_csv)


@BRIEF
@given(mutated_text(VALID_FIXATIONS_CSV))
def test_fixation_csv_reader_never_crashes(data: bytes) -> None:
    _check("fix.csv", data, read_fixations_csv)


@BRIEF
@given(mutated_text(VALID_STUDY))
def test_study_loader_never_crashes(data: bytes) -> None:
    _check("study.toml", data, load_study)


@settings(max_examples=6)
@given(edf_header_mutation())
def test_edf_reader_never_crashes_on_a_damaged_header(data: bytes) -> None:
    from gazealign.gaze.edf import read_edf

    _check("s01.edf", data, read_edf)


@given(st.binary(max_size=64))
@settings(max_examples=20)
def test_readers_on_random_bytes(data: bytes) -> None:
    for name, reader in (("a.asc", read_asc), ("a.csv", read_samples_csv), ("a.toml", load_study)):
        _check(name, data, reader)


# --- crashes the fuzzers found, kept as regression tests ------------------------------------------


def test_edf_cut_inside_its_header_is_a_message_not_a_segfault(tmp_path: Path) -> None:
    """eyelinkio's C reader died (SIGSEGV) on an EDF cut to its first 50 bytes."""
    import pytest
    from fuzz_inputs import real_edf

    from gazealign.errors import DataError
    from gazealign.gaze.edf import read_edf

    path = write(tmp_path, "cut.edf", real_edf()[:50])
    with pytest.raises(DataError, match=r"cut\.edf: eyelinkio's reader crashed on this file"):
        read_edf(path)


def test_infinite_display_coords_are_counted_not_a_crash(tmp_path: Path) -> None:
    """benchmarks/fuzz.py: 'DISPLAY_COORDS 0 0 1e308 ...' raised OverflowError in round()."""
    text = VALID_ASC.replace("DISPLAY_COORDS 0 0 1919 1079", "DISPLAY_COORDS 0 0 inf 1079")
    rec = read_asc(write(tmp_path, "s.asc", text.encode()))
    assert rec.display_px is None and rec.warnings["bad_display_coords"] == 1


def test_sample_csv_with_one_sample_per_trial_is_a_message(tmp_path: Path) -> None:
    import pytest

    from gazealign.errors import DataError

    text = "time_ms,x_px,y_px,trial,stimulus_id\n0,1,2,1,a\n5,1,2,2,a\n"
    with pytest.raises(DataError, match="every trial has a single sample"):
        read_samples_csv(write(tmp_path, "s.csv", text.encode()))
