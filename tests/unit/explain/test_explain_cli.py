"""``gazealign explain`` on one image file: map, overlay PNG and record."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gazealign.cli import main
from gazealign.explain.single import explain_file, image_crop
from gazealign.models.architecture import ArchitectureSpec
from gazealign.models.io import make_bundle, save_bundle
from gazealign.types import LABELS


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    torch.manual_seed(0)
    spec = ArchitectureSpec("small_vgg", num_classes=7, input_size_px=32, width=0.125)
    ckpt = tmp_path / "net.safetensors"
    save_bundle(make_bundle(spec, preprocessing="thesis", labels=LABELS), ckpt)
    img = tmp_path / "face.png"
    rgb = np.random.default_rng(0).integers(0, 256, (40, 30, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(img)
    return ckpt, img


def test_cli_writes_map_png_and_record(files: tuple[Path, Path], tmp_path: Path) -> None:
    ckpt, img = files
    out = tmp_path / "map.npy"
    with pytest.raises(SystemExit) as exit_:
        main(["explain", "--model", str(ckpt), "--image", str(img), "--out", str(out),
              "--target", "happy", "--sign", "signed"])  # fmt: skip
    assert exit_.value.code == 0
    values = np.load(out)
    assert values.shape == (40, 30) and values.dtype == np.float64
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["target_label"] == "happy" and record["method"] == "lrp_epsilon_plus_flat"
    assert [s["name"] for s in record["steps"]][-1] == "map_to_stimulus"
    # the same map as the library call
    direct = explain_file(ckpt, img, method="lrp_epsilon_plus_flat", target="happy", sign="signed")
    np.testing.assert_array_equal(values, direct.values)


def test_cli_unknown_method_lists_names(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt, img = files
    with pytest.raises(SystemExit) as exit_:
        main(["explain", "--model", str(ckpt), "--image", str(img), "--out",
              str(tmp_path / "m.npy"), "--method", "lrp_magic"])  # fmt: skip
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "lrp_magic" in err and "lrp_epsilon_gamma_box" in err


def test_centre_crop_is_the_central_square() -> None:
    c = image_crop(np.zeros((40, 30, 3), np.uint8), 32, "centre")
    assert (c.left_px, c.top_px, c.width_px, c.height_px) == (0, 5, 30, 30)
