"""Control orderings in the perturbation stage, on the planted study of the comparison tests.

The stage runs twice over the same stand-in upstream stages, with and without controls: the
tables of a study without controls are the same either way, and the controls' tables say what
each control is and how the human order fares against it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from test_compare_synthetic_study import TILE, S, TileBrightnessNet, stand_in_stages

from gazealign.config.loader import parse_study
from gazealign.models.bundle import ModelBundle
from gazealign.pipeline import Runner
from gazealign.pipeline.registry import get_stage
from gazealign.pipeline.store import read_arrays, read_table
from gazealign.stages import perturbation as perturbation_stage

CONTROLS = ["other_identity", "expression_mean", "all_mean", "centre_bias", "lrp_blurred"]


def run(tmp_path: Path, run_dir: str, controls: list[str]) -> Path:
    # parsed, not checked: the stand-in explain stage's method 'lrp' is no registered explainer
    config = parse_study(
        {
            "study": {"seed": 3, "run_dir": run_dir, "synthetic": True},
            "heatmap": {"sigma_deg": 0.08},
            "explain": {"methods": ["lrp"]},
            "comparison": {
                "perturbation": {
                    "tile_px": TILE,
                    "random_orders": 3,
                    "batch_size": 16,
                    "bf16": False,
                    "controls": controls,
                },
                "bootstrap_resamples": 200,
                "permutations": 200,
            },
        },
        base_dir=tmp_path,
        source=str(tmp_path / "study.toml"),
    )
    return Runner(
        config, [*stand_in_stages(), get_stage("perturbation")], show_progress=False
    ).run()["perturbation"]


def morf_accuracy(table: pd.DataFrame, contrast: str) -> Any:
    return table[
        (table.contrast == contrast)
        & (table.quantity == "auc")
        & (table.measure == "accuracy")
        & (table.order == "morf")
        & (table.label == "all")
    ].iloc[0]


@pytest.mark.slow
def test_controls_are_ranked_like_the_human_map_and_leave_the_other_tables_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch.set_num_threads(1)
    bundle = ModelBundle(TileBrightnessNet().eval(), preprocessing="thesis", input_size_px=S)
    monkeypatch.setattr(perturbation_stage, "cached_model", lambda train_dir, device: bundle)
    plain = run(tmp_path, "plain", [])
    controlled = run(tmp_path, "controlled", CONTROLS)

    assert not (plain / "controls.parquet").exists()
    assert not (plain / "control_differences.parquet").exists()
    for name in ("auc_differences", "per_image_differences", "interaction"):
        pd.testing.assert_frame_equal(
            read_table(plain / f"{name}.parquet"), read_table(controlled / f"{name}.parquet")
        )
    for name in ("curves", "per_image_areas"):
        with_controls = read_table(controlled / f"{name}.parquet")
        kinds = dict(zip(with_controls.ordering, with_controls.ordering_kind, strict=True))
        assert kinds == {"human": "human", "lrp": "method", "random": "random"} | dict.fromkeys(
            CONTROLS, "control"
        )
        kept = with_controls[with_controls.ordering_kind != "control"].reset_index(drop=True)
        pd.testing.assert_frame_equal(read_table(plain / f"{name}.parquet"), kept)

    controls = read_table(controlled / "controls.parquet").set_index("control")
    assert list(controls.index) == CONTROLS
    blurred = controls.loc["lrp_blurred"]
    # the human maps' stored kernel (3 px; identity crop), not one derived from sigma_deg
    assert blurred.entry == "<method>_blurred" and blurred.method == "lrp"
    assert (blurred.sigma_stimulus_px, blurred.sigma_model_rows_px) == (3.0, 3.0)
    assert blurred.sigma_values == 1 and blurred.images == 21
    assert np.isnan(controls.loc["all_mean", "sigma_stimulus_px"])
    item = read_arrays(controlled / "items" / "happy_0.npz")
    np.testing.assert_array_equal(item["lrp_blurred__sigma_model_px"], [3.0, 3.0])
    assert item["other_identity__morf__order"].shape == (16,)

    diffs = read_table(controlled / "control_differences.parquet")
    assert set(diffs.contrast) == {f"human - {c}" for c in CONTROLS}
    assert set(diffs.control) == set(CONTROLS)
    auc = read_table(controlled / "auc_differences.parquet")
    # The evidence tile is one 8 px tile: a 3 px blur keeps it on top, so the human - network
    # contrast survives equal blur unchanged here.
    same = morf_accuracy(diffs, "human - lrp_blurred").estimate
    assert same == pytest.approx(morf_accuracy(auc, "human - lrp").estimate, abs=0.02)
    # Every observer of every image looks at the same two places: the other images' maps order
    # the tiles as this image's own does.
    for c in ("other_identity", "expression_mean", "all_mean"):
        row = morf_accuracy(diffs, f"human - {c}")
        assert abs(row.estimate) < 0.02 and row.ci_low <= 0 <= row.ci_high
        assert row.n == 21 and row.n_groups == 21
