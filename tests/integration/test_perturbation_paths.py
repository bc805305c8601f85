"""The perturbation stage gives the same results whether steps run incrementally or in full,
and which path ran is not part of its cache key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from test_compare_synthetic_study import (
    TILE,
    S,
    stand_in_stages,
)

from gazealign.config import study_from_dict
from gazealign.models import device as devices
from gazealign.models.bundle import ModelBundle
from gazealign.models.small import small_vgg
from gazealign.pipeline import Runner
from gazealign.pipeline.registry import get_stage
from gazealign.pipeline.store import read_arrays, read_table
from gazealign.stages import perturbation as perturbation_stage


def _runner(tmp_path: Path, run_dir: str, incremental: bool, **perturbation: Any) -> Runner:
    config = study_from_dict(
        {
            "study": {"seed": 3, "run_dir": run_dir, "synthetic": True},
            "heatmap": {"sigma_deg": 0.08},
            "comparison": {
                "perturbation": {
                    "tile_px": TILE,
                    "random_orders": 3,
                    "batch_size": 4,
                    "incremental": incremental,
                    "bf16": False,
                }
                | perturbation,
                "bootstrap_resamples": 50,
                "permutations": 50,
            },
        },
        base_dir=tmp_path,
        source=str(tmp_path / "study.toml"),
    )
    stages = [
        *stand_in_stages(),
        get_stage("perturbation"),
    ]
    return Runner(config, stages, show_progress=False)


@pytest.mark.slow
def test_incremental_and_full_runs_store_equal_results_under_one_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = small_vgg(7, width=0.125, input_size_px=S).eval()
    bundle = ModelBundle(model, preprocessing="thesis", input_size_px=S)
    monkeypatch.setattr(perturbation_stage, "cached_model", lambda train_dir, device: bundle)

    results: dict[bool, dict[str, dict[str, Any]]] = {}
    keys, out_dirs = {}, {}
    for incremental in (True, False):
        runner = _runner(tmp_path, f"run_{incremental}", incremental)
        keys[incremental] = runner.keys["perturbation"]
        out_dirs[incremental] = runner.run()["perturbation"]
        items = out_dirs[incremental] / "items"
        results[incremental] = {p.stem: read_arrays(p) for p in sorted(items.glob("*.npz"))}
    assert keys[True] == keys[False]
    assert results[True].keys() == results[False].keys() and len(results[True]) == 21
    for sid, inc_item in results[True].items():
        full_item = results[False][sid]
        assert inc_item.keys() == full_item.keys()
        for name, value in inc_item.items():
            if name.endswith(("__prob", "__logit")):
                np.testing.assert_allclose(value, full_item[name], rtol=1e-5, atol=1e-6)
            else:  # orders, correctness, true class: identical
                np.testing.assert_array_equal(value, full_item[name])

    # A full-path run in the incremental run's folder reuses its cached results.
    areas = out_dirs[True] / "per_image_areas.parquet"
    written_ns = areas.stat().st_mtime_ns
    rerun = _runner(tmp_path, "run_True", False)
    assert rerun.keys["perturbation"] == keys[True]
    assert rerun.run()["perturbation"] == areas.parent
    assert areas.stat().st_mtime_ns == written_ns


def test_only_the_path_choice_is_left_out_of_the_key(tmp_path: Path) -> None:
    base = _runner(tmp_path, "run", True).keys
    assert _runner(tmp_path, "run", False).keys == base
    changed = _runner(tmp_path, "run", True, random_orders=4).keys
    assert changed["perturbation"] != base["perturbation"]
    assert changed["stimuli"] == base["stimuli"]


@pytest.fixture
def chain_bundle(monkeypatch: pytest.MonkeyPatch) -> ModelBundle:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = small_vgg(7, width=0.125, input_size_px=S).eval()
    bundle = ModelBundle(model, preprocessing="thesis", input_size_px=S)
    monkeypatch.setattr(perturbation_stage, "cached_model", lambda train_dir, device: bundle)
    return bundle


def _items(out: Path) -> dict[str, dict[str, Any]]:
    return {p.stem: read_arrays(p) for p in sorted((out / "items").glob("*.npz"))}


@pytest.mark.slow
@pytest.mark.parametrize("tolerance", [1.0, 1e-12])
def test_auto_bf16_is_decided_on_a_sample_and_recorded(
    tmp_path: Path, chain_bundle: ModelBundle, tolerance: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The check itself is under test, on any CPU: where bf16 is not native, torch emulates it
    # (slowly, with the same rounding), so the AUC comparison is the same.
    monkeypatch.setattr(devices, "bf16_is_fast", lambda device: True)
    small = {"random_orders": 1, "orders": ["morf"]}
    auto = _runner(tmp_path, "auto", True, bf16="auto", bf16_tolerance=tolerance, **small)
    out = auto.run()["perturbation"]
    record = json.loads((out / "precision.json").read_text())
    assert record["sample"] == sorted(_items(out))[:4]
    assert record["bf16"] is (tolerance == 1.0)  # bf16 AUCs differ from fp32 (not by 1e-12)
    assert 0 < record["max_auc_difference"]["probability"] < 0.05
    manifest = json.loads((out / "_stage.json").read_text())
    assert manifest["notes"]["perturbation_bf16"] is record["bf16"]
    assert manifest["items_resumed"] == 4  # the sample's items came from the check
    table = read_table(out / "per_image_areas.parquet")
    assert set(table["bf16"]) == {record["bf16"]}
    # Every item, the checked sample included, is what a run fixed to that precision gives.
    fixed = _runner(tmp_path, "fixed", True, bf16=record["bf16"], **small).run()["perturbation"]
    for sid, item in _items(out).items():
        for name, value in item.items():
            np.testing.assert_array_equal(value, _items(fixed)[sid][name], err_msg=name)


def test_auto_bf16_falls_back_to_fp32_without_fast_bf16(
    tmp_path: Path, chain_bundle: ModelBundle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(devices, "bf16_is_fast", lambda device: False)
    out = _runner(tmp_path, "auto", True, bf16="auto", random_orders=1).run()["perturbation"]
    record = json.loads((out / "precision.json").read_text())
    assert record["bf16"] is False and "no fast bfloat16" in record["reason"]
