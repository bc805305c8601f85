"""A run folder shared by people and runs: files readable under the umask, one run at a time.

Two runs on one run folder: the second is refused naming the first; leftovers are cleaned.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from gazealign.config import load_study
from gazealign.pipeline.store import write_arrays, write_text

sys.path.insert(0, str(Path(__file__).parent))
from pipeline_toy import make_runner
from test_pipeline_resume import TOY, artifact_bytes, write_study


def _stray(run_dir: Path) -> list[str]:
    return sorted(
        str(p.relative_to(run_dir))
        for p in run_dir.rglob("*")
        if p.name.endswith((".partial", ".discard", ".tmp"))
    )


def test_second_concurrent_run_is_refused_and_the_first_finishes_intact(tmp_path: Path) -> None:
    n = 8
    ref_study = write_study(tmp_path / "ref", n=n)
    subprocess.run(
        [sys.executable, str(TOY), str(ref_study), str(tmp_path / "ref.log")], check=True
    )

    study = write_study(tmp_path / "both", n=n)
    log = tmp_path / "first.log"
    gate = tmp_path / "gate"  # the first run holds its first item until the gate opens
    env = {**os.environ, "TOY_GATE": str(gate)}
    first = subprocess.Popen([sys.executable, str(TOY), str(study), str(log)], env=env)
    try:
        deadline = time.monotonic() + 60
        while not (log.exists() and log.read_text().split()) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert first.poll() is None, "the first run must still be running"
        status = {s.name: s for s in make_runner(load_study(study), tmp_path / "x").status()}
        assert status["numbers"].state == "interrupted"
        assert f"running now: process {first.pid} on host" in status["numbers"].reasons[0]
        second = subprocess.run(
            [sys.executable, str(TOY), str(study), str(tmp_path / "second.log")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        gate.write_text("open")
        assert first.wait(timeout=120) == 0
        assert second.returncode == 2
        assert "Traceback" not in second.stderr
        message = " ".join(second.stderr.split())
        assert "another run is using this run folder" in message
        assert f"process {first.pid} on host" in message and "started 20" in message
        assert not (tmp_path / "second.log").exists(), "the refused run computed nothing"
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()

    run_dir = tmp_path / "both" / "run"
    assert _stray(run_dir) == []
    ref = artifact_bytes(tmp_path / "ref" / "run")
    got = artifact_bytes(run_dir)
    assert ref.keys() == got.keys()
    assert all(ref[k] == got[k] for k in ref), "artifacts differ from a single run's"


def test_leftovers_of_a_dead_run_are_cleaned_and_its_current_partial_resumed(
    tmp_path: Path,
) -> None:
    study_path = write_study(tmp_path, n=3)
    config = load_study(study_path)
    runner = make_runner(config, tmp_path / "log")
    run_dir = config.run_dir
    numbers = run_dir / "stages" / "numbers"
    # what a dead run leaves: an old key's partial, a discard folder, a temporary file, and a
    # partial of today's key with one finished item
    (numbers / "0ldkey.partial" / "items").mkdir(parents=True)
    (numbers / "0ldkey.discard").mkdir()
    current = runner.partial_dir("numbers")
    (current / "items").mkdir(parents=True)
    write_arrays(current / "items" / "img000.npz", {"values": np.zeros((8, 8)), "id": 0})
    (current / "items" / ".img001.npz.x1y2.tmp").write_bytes(b"half")
    (run_dir / ".manifest.json.abcd.tmp").write_bytes(b"half")
    status = {s.name: s for s in runner.status()}
    assert status["numbers"].state == "interrupted"
    assert status["numbers"].reasons == (
        "a run stopped inside this stage; 1 finished item(s) kept; the next run resumes it",
    )
    runner.run()
    assert _stray(run_dir) == []
    assert sorted(p.name for p in numbers.iterdir()) == [runner.keys["numbers"]]
    assert (tmp_path / "log").read_text().split() == ["img001", "img002"]  # img000 resumed
    assert (run_dir / ".lock").exists()


def _modes(folder: Path) -> set[str]:
    return {oct(p.stat().st_mode & 0o777) for p in folder.rglob("*") if p.is_file()}


def test_run_files_get_the_umask_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        config = load_study(write_study(tmp_path / "shared", n=3))
        make_runner(config, tmp_path / "log").run()
        write_text(tmp_path / "shared" / "report.html", "<html></html>")
        os.umask(0o077)
        private = load_study(write_study(tmp_path / "private", n=3))
        make_runner(private, tmp_path / "log2").run()
    finally:
        os.umask(old)
    files = [p for p in config.run_dir.rglob("*") if p.is_file()]
    assert len(files) > 10  # manifest, study, stage records, items, tables, lock
    assert _modes(config.run_dir) == {"0o644"}  # readable by others, as a plain open() gives
    assert _modes(tmp_path / "shared") == {"0o644"}
    assert _modes(private.run_dir) == {"0o600"}  # and never more than the umask allows
