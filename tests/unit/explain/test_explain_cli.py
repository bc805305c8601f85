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


def _explain(ckpt: Path, img: Path, out: Path, *extra: str) -> int:
    with pytest.raises(SystemExit) as exit_:
        main(["explain", "--model", str(ckpt), "--image", str(img), "--out", str(out), *extra])
    return int(exit_.value.code or 0)


def test_nan_weights_are_refused_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = ArchitectureSpec("small_vgg", num_classes=7, input_size_px=32, width=0.125)
    bundle = make_bundle(spec, preprocessing="thesis", labels=LABELS)
    with torch.no_grad():
        next(bundle.model.parameters()).fill_(float("nan"))
    ckpt = tmp_path / "nan.safetensors"
    save_bundle(bundle, ckpt)
    img = tmp_path / "face.png"
    Image.fromarray(np.full((40, 30, 3), 120, np.uint8)).save(img)
    out = tmp_path / "map.npy"
    assert _explain(ckpt, img, out) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "non-finite values" in err and "face" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face.png", "nan.json", "nan.safetensors"]


def test_out_pointing_at_a_folder_is_one_message(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt, img = files
    folder = tmp_path / "maps"
    folder.mkdir()
    assert _explain(ckpt, img, folder) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"--out: {folder} is a folder" in err and "Traceback" not in err


def test_a_full_disk_leaves_no_partial_set(
    files: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The disk fills while the second of the three files is flushed: none of them remains."""
    import errno
    import os

    ckpt, img = files
    real_fsync = os.fsync
    calls = {"n": 0}

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    out = tmp_path / "out" / "map.npy"
    assert _explain(ckpt, img, out) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "No space left on device" in err and "disk is full" in err
    assert list((tmp_path / "out").iterdir()) == []  # no map, no overlay, no record, no temp


def test_record_json_has_no_nan_literals(files: tuple[Path, Path], tmp_path: Path) -> None:
    ckpt, img = files
    out = tmp_path / "map.npy"
    assert _explain(ckpt, img, out, "--method", "occlusion") == 0
    text = out.with_suffix(".json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    record = json.loads(text)
    assert record["conservation"] == "none" and record["conservation_reference"] is None
