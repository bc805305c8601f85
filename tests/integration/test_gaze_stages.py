"""The gaze and human_maps stages end to end, on a fake stimuli stage (rectangle AOIs)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "gaze"))
from gaze_fakes import COLS, ROWS, face_aois

from gazealign.cli import main
from gazealign.config import study_from_dict
from gazealign.coords import CropResize
from gazealign.pipeline import Runner
from gazealign.pipeline.registry import get_stage
from gazealign.pipeline.stage import Stage, StageContext
from gazealign.pipeline.store import read_arrays, read_table, write_arrays, write_table
from gazealign.stimuli.artifacts import item_arrays
from gazealign.types import LABELS

CROP = CropResize(8, 10, 112, 140, 32, 40, COLS, ROWS)


def _fake_stimuli(ctx: StageContext) -> None:
    rows = []
    for i, split in enumerate(("train", "test", "test")):
        for label in LABELS:
            sid = f"X{i}{label[:2].upper()}"
            rows.append((sid, label, f"X{i}", "A", split, "", ROWS, COLS))
            image = np.full((ROWS, COLS, 3), 128, dtype=np.uint8)
            model_image = np.zeros((40, 32, 3), dtype=np.uint8)
            arrays = item_arrays(image, model_image, CROP, face_aois())
            write_arrays(ctx.out_dir / "items" / f"{sid}.npz", arrays)
    cols = ["stimulus_id", "label", "subject", "session", "split", "source_path", "rows", "cols"]
    write_table(ctx.out_dir / "stimuli.parquet", pd.DataFrame(rows, columns=cols))


FAKE_STIMULI = Stage("stimuli", "fake stimuli", reads=(), run=_fake_stimuli)


def _run(tmp_path: Path, gaze: dict) -> Path:
    data = {
        "study": {"name": "t", "seed": 3, "run_dir": "run", "synthetic": True},
        "gaze": {"stimulus_scale": 4.0, **gaze},
        "heatmap": {"sigma_deg": 1.0},
    }
    config = study_from_dict(data, base_dir=tmp_path, source=str(tmp_path / "t.toml"))
    stages = [FAKE_STIMULI, get_stage("gaze"), get_stage("human_maps")]
    runner = Runner(config, stages, show_progress=False)
    runner.run()
    return runner.run_dir


def _stage_dir(run_dir: Path, name: str) -> Path:
    (path,) = (run_dir / "stages" / name).iterdir()
    return path


@pytest.mark.slow
def test_simulated_gaze_and_human_maps(tmp_path: Path) -> None:
    run_dir = _run(tmp_path, {"simulation": {"participants": 3}})
    gaze = _stage_dir(run_dir, "gaze")
    assert sorted(p.name for p in (gaze / "recordings").glob("*.asc")) == [
        "p01.asc", "p02.asc", "p03.asc",
    ]  # fmt: skip
    trials = read_table(gaze / "trials.parquet")
    assert len(trials) == 3 * 14  # 3 observers x the 14 test stimuli (train ones not shown)
    fix = read_table(gaze / "fixations.parquet")
    kept = trials[trials["kept"]]
    assert len(fix) == kept["fixations_kept"].sum() and fix["correct"].all()
    assert (fix["frame"] == "stimulus").all()
    assert ((fix["x_px"] >= 0) & (fix["x_px"] < COLS) & (fix["y_px"] < ROWS)).all()
    quality = read_table(gaze / "quality.parquet")
    assert quality["trials"].tolist() == [14, 14, 14]
    assert (quality["trials_kept"] + quality.filter(like="dropped_").sum(axis=1) == 14).all()
    counts = read_table(gaze / "trial_counts.parquet")
    assert counts["trials"].sum() == 42 and counts["kept"].sum() == len(kept)
    screen = json.loads((gaze / "screen.json").read_text())
    assert screen["synthetic"] and screen["stimulus_scale"] == 4.0
    maps = _stage_dir(run_dir, "human_maps")
    items = sorted(p.stem for p in (maps / "items").glob("*.npz"))
    assert items == sorted(fix["stimulus_id"].unique())
    one = read_arrays(maps / "items" / f"{items[0]}.npz")
    assert one["density"].shape == (ROWS, COLS) and one["density_model"].shape == (40, 32)
    assert abs(one["density"].sum() - 1) < 1e-12 and abs(one["density_model"].sum() - 1) < 1e-12
    steps = [s["name"] for s in json.loads(str(one["steps"]))]
    assert steps == ["fixation_density", "crop_resize", "normalise_sum"]
    assert int(one["fixations"]) == (fix["stimulus_id"] == items[0]).sum()
    table = read_table(maps / "maps.parquet")
    assert table["fixations"].sum() == len(fix)
    notes = json.loads((run_dir / "manifest.json").read_text())["stages"]["human_maps"]["notes"]
    assert notes["human_maps_splits"] == ["test"] and notes["human_maps_test_stimuli"] == 14
    classes = read_arrays(maps / "class_maps.npz")
    assert set(classes) <= set(LABELS) and all(abs(v.sum() - 1) < 1e-9 for v in classes.values())

    # the same recordings read as a user's ASC folder give the same fixations
    run2 = _run(tmp_path / "asc", {"source": "asc", "path": str(gaze / "recordings")})
    fix2 = read_table(_stage_dir(run2, "gaze") / "fixations.parquet")
    pd.testing.assert_frame_equal(fix.reset_index(drop=True), fix2.reset_index(drop=True))


def test_cli_fixations_and_simulate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stim = tmp_path / "stimuli"
    _fake_stimuli(StageContext(config=None, stage="stimuli", out_dir=stim, inputs={}))  # type: ignore[arg-type]
    out = tmp_path / "sim"
    with pytest.raises(SystemExit) as code:
        main(["gaze", "simulate", "--stimuli", str(stim), "--participants", "1", "--out",
              str(out), "--seed", "4", "--split", "all"])  # fmt: skip
    assert code.value.code in (0, None)
    assert (out / "p01.asc").exists() and (out / "screen.json").exists()
    csv = tmp_path / "fix.csv"
    with pytest.raises(SystemExit) as code:
        main(["gaze", "fixations", str(out / "p01.asc"), "--out", str(csv), "--method", "ivt"])
    assert code.value.code in (0, None)
    table = pd.read_csv(csv)
    assert len(table) > 21 and set(table["frame"]) == {"screen"}
    assert table["stimulus_id"].notna().all()
    assert "21 trials" in capsys.readouterr().out
    with pytest.raises(SystemExit) as code:
        main(["gaze", "fixations", str(tmp_path / "nope.asc")])
    assert code.value.code == 2
