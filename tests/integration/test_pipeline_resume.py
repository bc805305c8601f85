"""Pipeline caching, invalidation and resume after a hard kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gazealign.config import load_study

sys.path.insert(0, str(Path(__file__).parent))
from pipeline_toy import make_runner

TOY = Path(__file__).parent / "pipeline_toy.py"

STUDY = """
[study]
seed = 3
run_dir = "run"

[stimuli.synthetic]
identities = {n}

[heatmap]
sigma_deg = {sigma}
"""


def write_study(folder: Path, n: int = 6, sigma: float = 1.0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "study.toml"
    path.write_text(STUDY.format(n=n, sigma=sigma))
    return path


def artifact_bytes(run_dir: Path) -> dict[str, bytes]:
    """Every artifact of a run, except the bookkeeping files (timestamps, absolute paths, pid)."""
    return {
        str(p.relative_to(run_dir)): p.read_bytes()
        for p in sorted(run_dir.rglob("*"))
        if p.is_file() and p.name not in {"_stage.json", "manifest.json", "study.toml", ".lock"}
    }


def test_rerun_skips_done_stages(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    config = load_study(write_study(tmp_path / "a"))
    make_runner(config, log).run()
    assert log.read_text().split() == [f"img{i:03d}" for i in range(6)]
    runner = make_runner(config, log)
    assert [s.state for s in runner.status()] == ["done"] * 5
    runner.run()
    assert len(log.read_text().split()) == 6  # nothing recomputed


def test_changing_one_key_invalidates_exactly_its_stages_and_those_after(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    folder = tmp_path / "a"
    make_runner(load_study(write_study(folder, sigma=1.0)), log).run()
    changed = make_runner(load_study(write_study(folder, sigma=1.5)), log)
    states = {s.name: s.state for s in changed.status()}
    assert states == {
        "numbers": "done",
        "train": "done",
        "gaze": "done",
        "human_maps": "stale",
        "compare": "stale",
    }
    changed.run()
    assert len(log.read_text().split()) == 6  # the per-item stage was not rerun
    assert {s.state for s in changed.status()} == {"done"}


def test_force_reruns_stage_and_descendants(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    config = load_study(write_study(tmp_path / "a", n=2))
    make_runner(config, log).run()
    make_runner(config, log).run(force=["numbers"])
    assert len(log.read_text().split()) == 4


def test_until_runs_only_ancestors(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    config = load_study(write_study(tmp_path / "a", n=2))
    runner = make_runner(config, log)
    runner.run(until="human_maps")
    assert {s.name: s.state for s in runner.status()} == {
        "numbers": "missing",
        "train": "missing",
        "gaze": "done",
        "human_maps": "done",
        "compare": "missing",
    }


def test_manifest_records_seeds_durations_and_files(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    config = load_study(write_study(tmp_path / "a", n=2))
    make_runner(config, log).run()
    manifest = json.loads((config.run_dir / "manifest.json").read_text())
    numbers = manifest["stages"]["numbers"]
    assert "noise" in numbers["seeds"]
    assert "summary.parquet" in numbers["files"]
    assert numbers["notes"]["items"] == 2
    assert numbers["notes"]["items_computed"] == 2  # per-item notes add up
    assert manifest["seed"] == 3


def test_killed_run_resumes_to_identical_artifacts(tmp_path: Path) -> None:
    n = 12
    # Uninterrupted reference run.
    ref_study = write_study(tmp_path / "ref", n=n)
    subprocess.run(
        [sys.executable, str(TOY), str(ref_study), str(tmp_path / "ref.log")], check=True
    )

    # A run killed with SIGKILL in the middle of the per-item stage.
    study = write_study(tmp_path / "killed", n=n)
    log = tmp_path / "killed.log"
    proc = subprocess.Popen([sys.executable, str(TOY), str(study), str(log), "0.25"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done_items = len(log.read_text().split()) if log.exists() else 0
        if done_items >= 4:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    computed_before = log.read_text().split()
    assert 4 <= len(computed_before) < n, "the kill must land mid-stage"
    partial = list((tmp_path / "killed" / "run" / "stages" / "numbers").glob("*.partial"))
    assert len(partial) == 1
    finished_before = {p.stem for p in (partial[0] / "items").glob("*.npz")}
    assert len(finished_before) >= 3

    subprocess.run([sys.executable, str(TOY), str(study), str(log)], check=True)
    computed = log.read_text().split()
    redone = computed[len(computed_before) :]
    # Items finished before the kill are not computed again; all others are, once.
    assert finished_before.isdisjoint(redone)
    assert sorted(finished_before | set(redone)) == [f"img{i:03d}" for i in range(n)]
    assert len(redone) == n - len(finished_before)

    ref = artifact_bytes(tmp_path / "ref" / "run")
    got = artifact_bytes(tmp_path / "killed" / "run")
    assert ref.keys() == got.keys()
    for name in ref:
        assert ref[name] == got[name], f"{name} differs after resume"


@pytest.mark.parametrize("bad", ["missing_stage"])
def test_unknown_until_stage_is_a_clear_error(tmp_path: Path, bad: str) -> None:
    from gazealign.errors import PipelineError

    runner = make_runner(load_study(write_study(tmp_path / "a", n=1)), tmp_path / "log")
    with pytest.raises(PipelineError, match="unknown stage 'missing_stage'; stages are: numbers"):
        runner.run(until=bad)


def test_dask_executor_gives_identical_artifacts(tmp_path: Path) -> None:
    from pipeline_toy import toy_stages

    from gazealign.pipeline import Runner
    from gazealign.pipeline.executors import DaskExecutor

    local_cfg = load_study(write_study(tmp_path / "local", n=5))
    make_runner(local_cfg, tmp_path / "l.log").run()
    dask_cfg = load_study(write_study(tmp_path / "dask", n=5))
    executor = DaskExecutor("local")
    try:
        runner = Runner(
            dask_cfg, toy_stages(tmp_path / "d.log"), show_progress=False, executor=executor
        )
        runner.run()
    finally:
        executor.close()
    assert artifact_bytes(tmp_path / "local" / "run") == artifact_bytes(tmp_path / "dask" / "run")
    manifest = json.loads((tmp_path / "dask" / "run" / "manifest.json").read_text())
    assert manifest["stages"]["numbers"]["notes"]["items_computed"] == 5
    assert "noise" in manifest["stages"]["numbers"]["seeds"]
    assert sorted((tmp_path / "d.log").read_text().split()) == [f"img{i:03d}" for i in range(5)]


def test_new_package_versions_change_every_key(tmp_path: Path) -> None:
    from pipeline_toy import toy_stages

    from gazealign.pipeline import Runner, package_versions

    config = load_study(write_study(tmp_path / "a", n=1))
    versions = package_versions()
    assert "gazealign" not in versions  # gazealign is keyed by each stage's own code
    old = Runner(config, toy_stages(tmp_path / "log"), versions=versions).keys
    changed = {**versions, "numpy": "0.0"}
    new = Runner(config, toy_stages(tmp_path / "log"), versions=changed).keys
    assert all(old[name] != new[name] for name in old)


def test_new_files_under_an_input_path_rerun_the_stages_that_read_it(tmp_path: Path) -> None:
    from gazealign.config import study_from_dict
    from gazealign.pipeline import Runner, Stage

    data = tmp_path / "faces"
    data.mkdir()
    (data / "a.png").write_bytes(b"a")

    def noop(ctx: object) -> None:
        return None

    stages = [
        Stage("stimuli", "reads the dataset", reads=("stimuli",), run=noop),
        Stage("gaze", "does not", reads=("gaze.screen",), run=noop),
    ]
    config = study_from_dict({"stimuli": {"source": "folder", "path": "faces"}}, base_dir=tmp_path)
    before = Runner(config, stages).keys
    assert Runner(config, stages).keys == before  # stable while the files are unchanged
    (data / "b.png").write_bytes(b"b")
    after = Runner(config, stages).keys
    assert after["stimuli"] != before["stimuli"]
    assert after["gaze"] == before["gaze"]


def test_run_folder_study_file_reloads_from_the_run_folder(tmp_path: Path) -> None:
    from gazealign.config import study_from_dict

    (tmp_path / "faces").mkdir()
    config = study_from_dict(
        {"study": {"run_dir": "run"}, "stimuli": {"source": "folder", "path": "faces"}},
        base_dir=tmp_path,
    )
    make_runner(config, tmp_path / "log").run(until="gaze")
    again = load_study(tmp_path / "run" / "study.toml")
    assert again.resolve(again.stimuli.path) == tmp_path / "faces"  # type: ignore[arg-type]
    assert again.run_dir == tmp_path / "run"
