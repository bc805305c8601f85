"""The sanity_checks stage: tables per method, verdicts, the disabled switch."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from test_explain_stage import SIZE, finish, make_stimuli

from gazealign.config import study_from_dict
from gazealign.models.architecture import ArchitectureSpec
from gazealign.models.io import make_bundle, save_bundle
from gazealign.pipeline.stage import StageContext
from gazealign.pipeline.store import read_table
from gazealign.stages import sanity_checks as stage
from gazealign.types import LABELS


def make_checkpoint(folder: Path) -> None:
    """A small VGG with 8 conv + 3 dense layers (the cascade explains once per layer)."""
    finish(folder, "train")
    torch.manual_seed(0)
    spec = ArchitectureSpec("small_vgg", num_classes=7, input_size_px=SIZE, width=0.125, depth=11)
    bundle = make_bundle(spec, preprocessing="thesis", labels=LABELS)
    save_bundle(bundle, folder / "model.safetensors")


def _context(tmp_path: Path, sanity: dict[str, object]) -> StageContext:
    config = study_from_dict(
        {"explain": {"methods": ["lrp_epsilon"]}, "sanity": sanity}, base_dir=tmp_path
    )
    return StageContext(
        config=config,
        stage="sanity_checks",
        out_dir=tmp_path / "sanity",
        inputs={"stimuli": tmp_path / "stimuli", "train": tmp_path / "train"},
    )


def test_evenly_spaced() -> None:
    assert stage.evenly_spaced(["d", "a", "c", "b", "e"], 3) == ["a", "c", "e"]
    assert stage.evenly_spaced(["b", "a"], 5) == ["a", "b"]


def test_stage_writes_curves_classes_and_verdicts(tmp_path: Path) -> None:
    pytest.importorskip("captum")
    ids = make_stimuli(tmp_path / "stimuli", 7)
    make_checkpoint(tmp_path / "train")
    ctx = _context(tmp_path, {"images": 2, "extra_methods": ["gradient_x_input"]})
    stage.run(ctx)
    out = tmp_path / "sanity"
    per_image = read_table(out / "randomisation_per_image.parquet")
    assert set(per_image["method"]) == {"lrp_epsilon", "gradient_x_input"}
    assert set(per_image["stimulus_id"]) == set(stage.evenly_spaced(ids, 2))
    layers = per_image[per_image["method"] == "gradient_x_input"]["layer"].unique()
    assert layers[0] == "trained" and len(layers) > 3
    curve = read_table(out / "randomisation_layers.parquet")
    first = curve[curve["step"] == 0]
    assert (first["spearman_abs_median"] == 1.0).all() and (first["images"] == 2).all()
    classes = read_table(out / "class_sensitivity_per_image.parquet")
    assert len(classes) == 4 and (classes["runner_up"] != classes["target"]).all()
    verdicts = read_table(out / "verdicts.parquet")
    assert list(verdicts["method"]) == ["gradient_x_input", "lrp_epsilon"]
    assert verdicts["verdict"].str.contains("randomisation").all()
    assert (verdicts["target_output"] == "logit").all()
    assert ctx.notes["sanity_images"] == 2


def test_disabled_stage_writes_empty_tables(tmp_path: Path) -> None:
    ctx = _context(tmp_path, {"enabled": False})
    stage.run(ctx)
    assert read_table(tmp_path / "sanity" / "verdicts.parquet").empty
    assert "disabled" in ctx.notes["sanity_checks"]
