"""The control orderings find image-specific fixations exactly when the simulated observers
have them.

Real stages make the faces (synthetic, shifted per identity by ``pose_jitter_px``), the
simulated observers' recordings and the human maps, and run the perturbation analysis with the
controls ``other_identity`` and ``expression_mean``. The network is a fixed stand-in whose every
logit is the *darkness* of the image (the mean of relu(0.5 - grey): irises, brows, lips, hair),
so its evidence lies in this face's own dark features, wherever the identity's shift put them;
a dark tile replaced by the image's mean colour loses it. A network trained on faces this small
stays near chance (``benchmarks/control_orderings.py`` measured that, with every control), so it
would test nothing.

Observers that fixate each face's own regions make human maps whose MoRF order removes the
evidence sooner than another identity's map (logit-AUC difference below 0, interval excluding
0), and sooner than the expression's mean map. Observers that fixate the expression's mean
layout have nothing image-specific to give: both intervals include 0. Built-in data: this checks the method, it is
not a finding about people.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from gazealign.config import study_from_dict
from gazealign.models.bundle import ModelBundle
from gazealign.pipeline import Runner
from gazealign.pipeline.registry import get_stage
from gazealign.pipeline.stage import Stage, StageContext
from gazealign.pipeline.store import read_table, write_arrays, write_table
from gazealign.stages import perturbation as perturbation_stage
from gazealign.stimuli.artifacts import read_stimuli_table

S, TILE = 64, 8
METHOD = "lrp_epsilon_plus_flat"


class DarknessNet(nn.Module):
    """Every logit = 100 x mean over pixels of relu(0.5 - grey): the dark parts of the face."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        darkness = torch.relu(0.5 - x.mean(dim=1)).mean(dim=(1, 2))
        return 100 * darkness[:, None].repeat(1, 7)


def write_explain(ctx: StageContext) -> None:
    """A flat network map per face (every face is compared; the controls here do not read it)."""
    table = read_stimuli_table(ctx.input("stimuli"))
    for sid in table["stimulus_id"].astype(str):
        flat = np.full((S, S), 1.0 / S**2)
        write_arrays(
            ctx.out_dir / "items" / f"{sid}.npz", {METHOD: flat, f"{METHOD}__stimulus": flat}
        )
    steps = json.dumps([{"name": "sign", "params": {"policy": "positive"}}])
    records = pd.DataFrame({"stimulus_id": ["x"], "method": [METHOD], "steps": [steps]})
    for column in ("target", "target_output", "logit", "relevance_sum", "params"):
        records[column] = 0
    records["conservation_violated"] = False
    write_table(ctx.out_dir / "maps.parquet", records)


def stages() -> list[Stage]:
    explain = get_stage("explain")
    contract = tuple(a for a in explain.writes if a.name in ("maps", "records"))
    return [
        get_stage("stimuli"),
        Stage("train", "stand-in", reads=(), needs=("stimuli",), run=lambda ctx: None),
        Stage("explain", "stand-in", (), ("stimuli", "train"), write_explain, writes=contract),
        get_stage("gaze"),
        get_stage("human_maps"),
        get_stage("perturbation"),
    ]


def run(tmp_path: Path, fixation_targets: str) -> pd.DataFrame:
    study: dict[str, Any] = {
        "study": {"seed": 5, "run_dir": "run", "synthetic": True},
        "stimuli": {
            "source": "synthetic",
            "crop": "none",
            "input_size_px": S,
            "synthetic": {
                "identities": 16,
                "image_rows": 80,
                "image_cols": 64,
                "pose_jitter_px": 12.0,
            },
        },
        "gaze": {
            "stimulus_scale": 8.0,
            "simulation": {"participants": 12, "fixation_targets": fixation_targets},
        },
        "heatmap": {"sigma_deg": 0.5},
        "comparison": {
            "split": "all",  # no network is trained: every identity is a cluster of inference
            "perturbation": {
                "tile_px": TILE,
                "fill": "mean",
                "random_orders": 1,
                "batch_size": 128,
                "bf16": False,
                "controls": ["other_identity", "expression_mean"],
            },
            "bootstrap_resamples": 400,
            "permutations": 400,
        },
    }
    config = study_from_dict(study, base_dir=tmp_path, source=str(tmp_path / "study.toml"))
    dirs = Runner(config, stages(), show_progress=False).run()
    table = read_table(dirs["perturbation"] / "control_differences.parquet")
    return table[
        (table["quantity"] == "auc")
        & (table["measure"] == "logit")
        & (table["order"] == "morf")
        & (table["label"] == "all")
    ].set_index("control")


@pytest.mark.slow
def test_controls_separate_image_following_from_layout_following_observers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch.set_num_threads(1)
    bundle = ModelBundle(DarknessNet().eval(), preprocessing="thesis", input_size_px=S)
    monkeypatch.setattr(perturbation_stage, "cached_model", lambda train_dir, device: bundle)
    image = run(tmp_path, "image")
    layout = run(tmp_path, "expression_mean")  # the same faces: only the gaze stage reruns
    # measured: image-following -0.226 [-0.409, -0.067]; layout-following +0.007 [-0.068, +0.069]
    row = image.loc["other_identity"]
    assert row.estimate < 0 and row.ci_high < 0, dict(row)
    assert row.n_groups == 16
    row = layout.loc["other_identity"]
    assert row.ci_low <= 0 <= row.ci_high, dict(row)
    # The expression's leave-one-out mean is made from 15 faces' observers, so it is smoother
    # than one face's map and not noise-matched: only its sign is asserted for image-following
    # observers (measured -0.149 [-0.331, +0.024]); layout-following +0.024 [-0.022, +0.069].
    assert image.loc["expression_mean"].estimate < 0
    row = layout.loc["expression_mean"]
    assert row.ci_low <= 0 <= row.ci_high, dict(row)
