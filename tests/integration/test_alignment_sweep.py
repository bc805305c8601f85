"""The alignment sweep on a tiny synthetic study: what it writes, and resume after a kill."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from gazealign.config import study_from_dict
from gazealign.pipeline import Runner
from gazealign.pipeline.artifacts import read_table_artifact
from gazealign.pipeline.store import read_arrays, read_json, read_table
from gazealign.report.build import report_from_run
from gazealign.stages import study_stages

STUDY: dict[str, Any] = {
    "study": {"seed": 5, "run_dir": "run", "synthetic": True},
    "stimuli": {
        "source": "synthetic",
        "crop": "none",
        "input_size_px": 32,
        "synthetic": {"identities": 6, "sessions": 1, "image_rows": 80, "image_cols": 64},
        "split": {"test_fraction": 0.34, "val_fraction": 0.25},
    },
    "model": {
        "architecture": "small_vgg",
        "depth": 11,
        "width": 0.125,
        "batchnorm": True,
        "dropout": 0.0,
        "train": {"epochs": 1, "batch_size": 8, "learning_rate": 1e-3},
    },
    "explain": {"methods": ["lrp_epsilon_plus_flat"], "batch_size": 8},
    "gaze": {"source": "simulated", "stimulus_scale": 4.0, "simulation": {"participants": 3}},
    "comparison": {"perturbation": {"tile_px": 8}, "bootstrap_resamples": 200},
    "alignment": {"lambdas": [0.0, 2.0], "shortcut": "corner_mark", "ceiling_splits": 2},
}


def sweep_stage(crash_on: str | None = None) -> list[Any]:
    stages = study_stages()
    if crash_on is None:
        return stages
    sweep = next(s for s in stages if s.name == "alignment_sweep")
    inner = sweep.run_item

    def run_item(ctx: Any, item: str) -> Any:
        if item == crash_on:
            raise KeyboardInterrupt("killed")  # as a kill: the item's file is never written
        return inner(ctx, item)  # type: ignore[misc]

    return [replace(s, run_item=run_item) if s.name == "alignment_sweep" else s for s in stages]


@pytest.mark.slow
@pytest.mark.timeout(1500)  # about 2 min on 2 idle cores; shared machines run far slower
def test_sweep_scores_each_lambda_and_resumes_with_identical_numbers(tmp_path: Path) -> None:
    first = study_from_dict(STUDY, base_dir=tmp_path / "a")
    Runner(first, study_stages(), show_progress=False).run(until="human_maps")
    shutil.copytree(tmp_path / "a", tmp_path / "b")

    folders = Runner(first, study_stages(), show_progress=False).run(until="alignment_sweep")
    out = folders["alignment_sweep"]
    sweep = read_table(out / "sweep.parquet")
    assert list(sweep["weight"]) == [0.0, 2.0]
    stimuli = read_table(folders["stimuli"] / "stimuli.parquet")
    n_train = int((stimuli["split"] == "train").sum())
    n_test = int((stimuli["split"] == "test").sum())
    # every training face was viewed by the simulated observers and has a human map
    assert (sweep["train_images"] == n_train).all()
    assert (sweep["train_images_with_map"] == n_train).all()
    assert (sweep["test_images"] == n_test).all()
    human = read_table(folders["human_maps"] / "maps.parquet")
    assert set(human["stimulus_id"]) <= set(stimuli.loc[stimuli["split"] == "test", "stimulus_id"])
    # the training maps made for the sweep are declared (train_maps.parquet), apart from maps.parquet
    train_maps = read_table_artifact(folders["human_maps"], "train_summary")
    train_ids = set(stimuli.loc[stimuli["split"] == "train", "stimulus_id"])
    assert train_ids <= set(train_maps["stimulus_id"]) and not set(train_maps["stimulus_id"]) & set(
        human["stimulus_id"]
    )
    per_image = read_table(out / "per_image.parquet")
    assert len(per_image) == 2 * n_test
    for col in ("spearman", "cc", "ceiling_spearman", "morf_network", "morf_human"):
        finite = per_image[col].dropna()  # NaN: a constant (all-zero) network map
        assert len(finite) >= n_test // 2 and finite.between(-1, 1).all(), col
    unscored = per_image.groupby("weight")["spearman"].apply(lambda v: int(v.isna().sum()))
    assert list(sweep["test_images_constant_map"]) == list(unscored)
    assert ((sweep["spearman_of_ceiling"] - sweep["spearman"] / sweep["ceiling_spearman"]).abs()
            < 1e-12).all()  # fmt: skip
    for name in ("lambda_0.0", "lambda_2.0"):
        assert (out / "networks" / f"{name}.safetensors").exists()
        a = read_arrays(out / "items" / f"{name}.npz")
        acc = float(sweep.loc[sweep["weight"] == float(a["weight"]), "test_accuracy"].iloc[0])
        assert acc == pytest.approx(float(a["correct"].mean()))
    # tables only: the trade-off figure is the report's (the stage imports no report code)
    assert not (out / "tradeoff.png").exists()
    paired = read_table(out / "paired.parquet")
    assert set(paired["weight"]) == {2.0} and set(paired["baseline_weight"]) == {0.0}
    images = read_table(out / "test_images.parquet")
    by_weight = images.groupby("weight")["correct"].mean()
    accuracy = paired.set_index("measure").loc["correct", "estimate"]
    assert accuracy == pytest.approx(by_weight[2.0] - by_weight[0.0])
    shortcut = read_table(out / "shortcut.parquet")
    assert (shortcut["cue_drop"] - (shortcut["cued_accuracy"] - shortcut["cue_free_accuracy"])
            ).abs().max() < 1e-12  # fmt: skip
    assert read_json(out / "summary.json")["synthetic"] is True
    # the report of a run that stopped after the sweep (as gazealign demo --aligned builds it)
    page, _ = report_from_run(tmp_path / "a" / "run")
    html = page.read_text(encoding="utf-8")
    assert "Alignment (Spearman / ceiling)" in html and "cue-free faces" in html
    assert (page.parent / "figures" / "alignment_tradeoff.png").exists()
    # the sweep records the device study.device ("auto") resolved to
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert read_json(out / "_stage.json")["notes"]["device"] == expected

    # b: killed while training the second lambda, then run again: the same numbers
    second = study_from_dict(STUDY, base_dir=tmp_path / "b")
    with pytest.raises(KeyboardInterrupt):
        Runner(second, sweep_stage("lambda_2.0"), show_progress=False).run(until="alignment_sweep")
    partial = tmp_path / "b" / "run" / "stages" / "alignment_sweep"
    assert [p.name for p in partial.glob("*.partial/items/*.npz")] == ["lambda_0.0.npz"]
    folders_b = Runner(second, study_stages(), show_progress=False).run(until="alignment_sweep")
    manifest = read_json(tmp_path / "b" / "run" / "manifest.json")
    assert manifest["stages"]["alignment_sweep"]["items_resumed"] == 1
    pd.testing.assert_frame_equal(read_table(folders_b["alignment_sweep"] / "sweep.parquet"), sweep)
    for name in ("lambda_0.0", "lambda_2.0"):
        a = read_arrays(out / "items" / f"{name}.npz")
        b = read_arrays(folders_b["alignment_sweep"] / "items" / f"{name}.npz")
        assert a.keys() == b.keys()
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_without_lambdas_the_sweep_stage_records_that_it_is_off(tmp_path: Path) -> None:
    from gazealign.pipeline.stage import StageContext

    config = study_from_dict({"study": {"run_dir": "run"}}, base_dir=tmp_path)
    sweep = next(s for s in study_stages() if s.name == "alignment_sweep")
    ctx = StageContext(config, "alignment_sweep", tmp_path, {})
    assert sweep.items is not None and list(sweep.items(ctx)) == []
    assert sweep.run is not None
    sweep.run(ctx)
    assert read_json(tmp_path / "summary.json") == {"enabled": False, "lambdas": []}
    assert ctx.notes["alignment_networks"] == 0
