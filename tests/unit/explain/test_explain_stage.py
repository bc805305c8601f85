"""The explain stage: maps in both frames per method, maps.parquet, batched, resumable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from gazealign.config import study_from_dict
from gazealign.coords import CropResize
from gazealign.models.architecture import ArchitectureSpec
from gazealign.models.io import make_bundle, save_bundle
from gazealign.pipeline.artifacts import declare_folder
from gazealign.pipeline.registry import get_stage
from gazealign.pipeline.stage import StageContext
from gazealign.pipeline.store import (
    read_arrays,
    read_table,
    write_arrays,
    write_json,
    write_table,
)
from gazealign.stages import explain as stage
from gazealign.stimuli.artifacts import AOI_REGIONS, STIMULUS_COLUMNS, item_arrays
from gazealign.types import LABELS

SIZE = 32  # model input, px
ROWS, COLS = 48, 40  # stimulus frame


def make_stimuli(folder: Path, n: int) -> list[str]:
    rng = np.random.default_rng(0)
    crop = CropResize(4, 8, 32, 32, SIZE, SIZE, COLS, ROWS)  # a 32x32 box at (4, 8), not resized
    rows = []
    for i in range(n):
        sid = f"s{i:02d}"
        image = rng.integers(0, 256, (ROWS, COLS, 3), dtype=np.uint8)
        model_image = image[8:40, 4:36].copy()
        aois = {r: np.zeros((ROWS, COLS), bool) for r in AOI_REGIONS}
        write_arrays(folder / "items" / f"{sid}.npz", item_arrays(image, model_image, crop, aois))
        split = "test" if i % 4 != 3 else "train"
        rows.append([sid, LABELS[i % 7], f"id{i}", "", split, "", ROWS, COLS])
    table = pd.DataFrame(rows, columns=list(STIMULUS_COLUMNS)).astype(STIMULUS_COLUMNS)  # type: ignore[arg-type]
    write_table(folder / "stimuli.parquet", table)
    return [r[0] for r in rows if r[4] == "test"]


def finish(folder: Path, stage_name: str) -> None:
    """Make ``folder`` a finished stage folder: its record with the stage's artifact contract."""
    from gazealign.pipeline.registry import get_stage

    writes = [a.as_record() for a in get_stage(stage_name).writes]
    write_json(folder / "_stage.json", {"stage": stage_name, "writes": writes})


def make_checkpoint(folder: Path) -> None:
    finish(folder, "train")
    torch.manual_seed(0)
    spec = ArchitectureSpec("small_vgg", num_classes=7, input_size_px=SIZE, width=0.125)
    save_bundle(
        make_bundle(spec, preprocessing="thesis", labels=LABELS), folder / "model.safetensors"
    )
    declare_folder(folder, get_stage("train").writes)  # a finished train stage


def context(tmp_path: Path, explain_cfg: dict[str, object]) -> StageContext:
    config = study_from_dict({"explain": explain_cfg}, base_dir=tmp_path)
    return StageContext(
        config=config,
        stage="explain",
        out_dir=tmp_path / "explain",
        inputs={"stimuli": tmp_path / "stimuli", "train": tmp_path / "train"},
    )


@pytest.fixture
def upstream(tmp_path: Path) -> list[str]:
    ids = make_stimuli(tmp_path / "stimuli", 7)
    make_checkpoint(tmp_path / "train")
    return ids


def test_stage_writes_both_frames_and_table(tmp_path: Path, upstream: list[str]) -> None:
    cfg = {"methods": ["lrp_epsilon_plus_flat", "gradient_x_input"], "batch_size": 2}
    ctx = context(tmp_path, cfg)
    stage.run(ctx)
    out = tmp_path / "explain"
    assert sorted(p.stem for p in (out / "items").glob("*.npz")) == upstream  # test split only
    arrays = read_arrays(out / "items" / f"{upstream[0]}.npz")
    for m in cfg["methods"]:  # type: ignore[union-attr]
        assert arrays[m].shape == (SIZE, SIZE) and arrays[m].dtype == np.float64
        full = arrays[m + "__stimulus"]
        assert full.shape == (ROWS, COLS)
        # identity resize: the stimulus map is the model map inside the box, 0 outside
        np.testing.assert_allclose(full[8:40, 4:36], arrays[m], atol=1e-12)
        assert not full[:8].any() and not full[:, :4].any()
        # the signed twin keeps the negative relevance the sign policy (positive) removed
        np.testing.assert_array_equal(np.maximum(arrays[m + "__signed"], 0.0), arrays[m])
    assert (arrays["gradient_x_input__signed"] < 0).any()
    maps = read_table(out / "maps.parquet")
    assert len(maps) == 2 * len(upstream)
    assert set(maps["method"]) == set(cfg["methods"])  # type: ignore[arg-type]
    first = maps[maps["stimulus_id"] == upstream[0]].set_index("method")
    assert first.loc["lrp_epsilon_plus_flat", "target_label"] == LABELS[0]  # target: true label
    assert first.loc["lrp_epsilon_plus_flat", "target_output"] == "logit"
    steps = json.loads(first.loc["lrp_epsilon_plus_flat", "steps"])
    assert [s["name"] for s in steps] == ["explain", "sum_channels", "sign", "map_to_stimulus"]
    assert json.loads(first.loc["lrp_epsilon_plus_flat", "params"])["composite"] == (
        "epsilon_plus_flat"
    )
    assert ctx.notes["items"] == len(upstream)


def test_stage_resumes_per_item(
    tmp_path: Path, upstream: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = context(tmp_path, {"batch_size": 2})
    stage.run(ctx)
    out = tmp_path / "explain"
    before = {p.name: p.read_bytes() for p in sorted((out / "items").glob("*.npz"))}
    table_before = (out / "maps.parquet").read_bytes()

    (out / "items" / f"{upstream[1]}.npz").unlink()  # as if killed before this item was written
    seen: list[str] = []
    real = stage.explain_items

    def spy(bundle, items, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.extend(i.stimulus_id for i in items)
        return real(bundle, items, *args, **kwargs)

    monkeypatch.setattr(stage, "explain_items", spy)
    ctx = context(tmp_path, {"batch_size": 2})
    stage.run(ctx)
    assert seen == upstream[:2]  # the whole batch of the missing item, recomputed
    assert ctx.notes["items_resumed"] == len(upstream) - 1
    after = {p.name: p.read_bytes() for p in sorted((out / "items").glob("*.npz"))}
    assert after == before
    assert (out / "maps.parquet").read_bytes() == table_before


def test_stage_runs_the_network_on_the_study_device(
    tmp_path: Path, upstream: list[str], fake_cuda: list[str]
) -> None:
    ctx = context(tmp_path, {"methods": ["lrp_epsilon_plus_flat"], "batch_size": 4})
    stage.run(ctx)
    assert ctx.notes["device"] == "cuda"  # study.device "auto" with a GPU present
    assert fake_cuda == ["VGG"]  # the network was sent there, once
