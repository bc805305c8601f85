"""A resumed per-item stage records the same seeds and notes as an uninterrupted one."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gazealign.config import load_study

sys.path.insert(0, str(Path(__file__).parent))
from pipeline_toy import make_runner
from test_pipeline_resume import write_study


def _record(run_dir: Path, stage: str) -> dict:
    (path,) = (run_dir / "stages" / stage).glob("*/_stage.json")
    return json.loads(path.read_text())


def test_seeds_and_notes_survive_a_resume_with_every_item_cached(tmp_path: Path) -> None:
    config = load_study(write_study(tmp_path, n=5))
    runner = make_runner(config, tmp_path / "log")
    runner.run()
    before = _record(config.run_dir, "numbers")
    manifest_before = json.loads((config.run_dir / "manifest.json").read_text())
    assert before["seeds"] and before["notes"]["items_computed"] == 5
    # a run killed after the last item but before the stage finished: every item cached
    done = runner.stage_dir("numbers")
    (done / "_stage.json").unlink()
    done.rename(runner.partial_dir("numbers"))
    again = make_runner(config, tmp_path / "log2")
    again.run(force=[])
    after = _record(config.run_dir, "numbers")
    assert after["items_resumed"] == 5 and not (tmp_path / "log2").exists()
    assert after["seeds"] == before["seeds"]
    assert after["notes"] == before["notes"]
    manifest = json.loads((config.run_dir / "manifest.json").read_text())
    assert manifest["stages"]["numbers"]["seeds"] == manifest_before["stages"]["numbers"]["seeds"]
