"""Every user-reachable failure of the command line: one message on stderr, exit code 2, no traceback.

The commands run in-process through :func:`gazealign.cli.main` (as the ``gazealign`` script),
so a full disk can be simulated by making ``os.fsync`` fail with ENOSPC. A read-only folder is
real: a folder without write permission (as a normal user), or a read-only tmpfs (as root, who
ignores permissions).
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gazealign.cli import main

MINIMAL_STUDY = '[study]\nseed = 1\nrun_dir = "{run_dir}"\n'


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    err = capsys.readouterr().err
    return int(exit_.value.code or 0), " ".join(err.split())


def _one_message(code: int, err: str) -> None:
    assert code == 2
    assert "Traceback" not in err
    assert err.startswith("error:") and err.count("error:") == 1


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"root cannot mount a read-only tmpfs here: {mounted.stderr.decode()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_run_in_a_read_only_run_folder(
    tmp_path: Path, read_only_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = tmp_path / "study.toml"
    study.write_text(MINIMAL_STUDY.format(run_dir=read_only_dir / "run"))
    code, err = _cli(["run", str(study), "--no-progress"], capsys)
    _one_message(code, err)
    assert str(read_only_dir / "run") in err
    assert "Read-only file system" in err or "Permission denied" in err


def test_run_on_a_full_disk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    study = tmp_path / "study.toml"
    study.write_text(MINIMAL_STUDY.format(run_dir=tmp_path / "run"))
    monkeypatch.setattr(os, "fsync", full)
    code, err = _cli(["run", str(study), "--no-progress"], capsys)
    _one_message(code, err)
    assert f"{tmp_path / 'run'}/.lock: No space left on device (the disk is full" in err
    # the atomic write left no temporary file behind, and nothing looks finished
    assert [p.name for p in (tmp_path / "run").iterdir()] == [".lock"]


@pytest.mark.parametrize("command", ["run", "status"])
def test_a_folder_as_the_study_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    code, err = _cli([command, str(tmp_path)], capsys)
    _one_message(code, err)
    assert str(tmp_path) in err and "folder" in err


def _samples_csv(path: Path, rows: int) -> Path:
    lines = ["time_ms,x_px,y_px,trial,stimulus_id"]
    lines += [f"{t},{900 + t % 3},{500 + t % 2},1,AF01HAS" for t in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_header_only_sample_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _samples_csv(tmp_path / "s01.csv", 0)
    code, err = _cli(["gaze", "fixations", str(path), "--method", "ivt"], capsys)
    _one_message(code, err)
    assert f"{path}: no data rows, only a header" in err


def test_sample_csv_with_the_default_events_method_gives_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _samples_csv(tmp_path / "s01.csv", 300)
    code, err = _cli(["gaze", "fixations", str(path), "--out", str(tmp_path / "f.csv")], capsys)
    _one_message(code, err)
    assert "no fixation events" in err and "set --method to 'ivt' or 'idt'" in err
    assert not (tmp_path / "f.csv").exists()


def test_an_unknown_fixation_method(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _samples_csv(tmp_path / "s01.csv", 10)
    code, err = _cli(["gaze", "fixations", str(path), "--method", "foo"], capsys)
    assert code == 2 and "Traceback" not in err
    text = "".join(c for c in err if not c.isspace() and c not in "│╭╮╰╯─")  # boxed, wrapped
    assert "Invalidvaluefor'--method':unknownfixationdetector'foo'" in text
    assert "available:events,idt,ivt" in text


@pytest.mark.parametrize(
    ("option", "value"),
    [("--screen-width-px", "0"), ("--screen-height-cm", "-3"), ("--distance-cm", "nan")],
)
def test_a_non_positive_screen_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    path = _samples_csv(tmp_path / "s01.csv", 10)
    code, err = _cli(["gaze", "fixations", str(path), "--method", "ivt", option, value], capsys)
    assert code == 2 and "Traceback" not in err
    assert f"Invalid value for '{option}': must be > 0" in err


def test_display_coords_disagreeing_with_the_screen_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asc = tmp_path / "s01.asc"
    asc.write_text(
        "MSG\t1 DISPLAY_COORDS 0 0 1279 1023\nSTART\t2 \tLEFT\tSAMPLES\tEVENTS\n"
        "SAMPLES\tGAZE\tLEFT\tRATE\t1000.00\n2\t640.0\t512.0\t1000.0\n"
        "3\t640.0\t512.0\t1000.0\nEND\t4 \tSAMPLES\tEVENTS\n"
    )
    code, err = _cli(["gaze", "fixations", str(asc), "--method", "ivt"], capsys)
    _one_message(code, err)
    assert "DISPLAY_COORDS say the screen was 1280x1024 px" in err
    assert "--screen-width-px x --screen-height-px says 1920x1080" in err


def test_gaze_fixations_out_on_a_full_disk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _samples_csv(tmp_path / "s01.csv", 300)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    out = tmp_path / "out" / "f.csv"
    code, err = _cli(["gaze", "fixations", str(path), "--method", "ivt", "--out", str(out)], capsys)
    _one_message(code, err)
    assert f"{out}: No space left on device (the disk is full" in err
    assert list(out.parent.iterdir()) == []


def test_messages_keep_their_bracketed_table_names(capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: rich read "[gaze.screen]" as markup and printed "the study's  says"."""
    from gazealign.cli import user_errors
    from gazealign.errors import DataError

    with pytest.raises(SystemExit) as exit_, user_errors():
        raise DataError("s01.asc: but the study's [gaze.screen] width_px x height_px says 1x1")
    assert exit_.value.code == 2
    assert "the study's [gaze.screen] width_px x height_px says" in capsys.readouterr().err
