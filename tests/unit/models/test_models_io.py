"""Weight loading: files written in each real format, compared with independent references."""

from __future__ import annotations

import sys
from pathlib import Path

import h5py
import numpy as np
import numpy.typing as npt
import pytest
import torch

from gazealign.errors import DataError
from gazealign.models.architecture import ArchitectureSpec
from gazealign.models.bundle import VGGFACE_MEAN_RGB
from gazealign.models.io import (
    assign_weights,
    load_bundle,
    load_weights,
    make_bundle,
    read_state_dict_pth,
    save_bundle,
)
from gazealign.models.small import small_vgg
from gazealign.models.vggface import vggface

sys.path.insert(0, str(Path(__file__).parents[2] / "reference"))
from models_vgg_reference import (
    VGG16_CONVS,
    keras_dense_numpy,
    keras_forward_numpy,
    pth_forward_functional,
)

F32 = npt.NDArray[np.float32]


def he(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> F32:
    """Random weights at He scale, so activations neither vanish nor explode over 16 layers."""
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def keras_layers(
    rng: np.random.Generator, dense: list[tuple[str, int, int]]
) -> dict[str, tuple[F32, F32]]:
    """VGG16 weights in Keras layout: conv (3, 3, in, out), dense (in, out)."""
    layers = {
        name: (
            he(rng, (3, 3, cin, cout), 9 * cin),
            (rng.standard_normal(cout) * 0.1).astype(np.float32),
        )
        for name, cin, cout in VGG16_CONVS
    }
    for name, n_in, n_out in dense:
        layers[name] = (
            he(rng, (n_in, n_out), n_in),
            (rng.standard_normal(n_out) * 0.1).astype(np.float32),
        )
    return layers


def write_keras2_h5(path: Path, layers: dict[str, tuple[F32, F32]], *, top: bool) -> None:
    """The layout Keras 2 ``model.save_weights`` writes for the rcmalli VGG-Face models.

    Root attributes ``layer_names`` (every layer, weightless ones too), ``backend``,
    ``keras_version``; per layer a group with attribute ``weight_names`` and datasets at
    ``<layer>/<layer>/kernel:0`` and ``<layer>/<layer>/bias:0``.
    """
    order = ["input_1"]
    for name, _, _ in VGG16_CONVS:
        order.append(name)
        if name in {"conv1_2", "conv2_2", "conv3_3", "conv4_3", "conv5_3"}:
            order.append(f"pool{name[4]}")
    if top:
        order += ["flatten", "fc6", "fc6/relu", "fc7", "fc7/relu", "fc8", "fc8/softmax"]
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [n.encode("utf8") for n in order]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        for name in order:
            g = f.require_group(name)
            if name in layers:
                kernel, bias = layers[name]
                g.attrs["weight_names"] = [f"{name}/kernel:0".encode(), f"{name}/bias:0".encode()]
                g.create_dataset(f"{name}/kernel:0", data=kernel)
                g.create_dataset(f"{name}/bias:0", data=bias)
            else:
                g.attrs["weight_names"] = np.array([], dtype="S1")


@pytest.fixture(scope="module")
def image() -> npt.NDArray[np.uint8]:
    return np.random.default_rng(5).integers(0, 256, (1, 224, 224, 3), dtype=np.uint8)


def keras_input(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """What the rcmalli model is fed: BGR, minus the BGR mean."""
    bgr = image[0, :, :, ::-1].astype(np.float64)
    return bgr - np.array(VGGFACE_MEAN_RGB[::-1])


def rel_err(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def test_keras_notop_h5_matches_numpy_reference(
    tmp_path: Path, image: npt.NDArray[np.uint8]
) -> None:
    layers = keras_layers(np.random.default_rng(0), dense=[])
    path = tmp_path / "rcmalli_vggface_tf_notop_vgg16.h5"
    write_keras2_h5(path, layers, top=False)
    bundle = make_bundle(
        ArchitectureSpec("vggface", 7, 224, head="thesis"),
        preprocessing="vggface",
        labels=tuple("abcdefg"),
    )
    report = load_weights(bundle.model, path, layers="backbone")  # type: ignore[arg-type]
    assert len(report.loaded) == 26 and not report.skipped
    with torch.no_grad():
        ours = bundle.model.feature_map(bundle.preprocess(image))[0].permute(1, 2, 0).numpy()  # type: ignore[operator]
    ref = keras_forward_numpy(keras_input(image), layers, dense=[])
    assert ours.shape == ref.shape == (7, 7, 512)
    assert np.abs(ref).max() > 1.0  # a live signal, not all zeros
    assert rel_err(ours, ref) < 1e-4


def test_keras_top_h5_matches_numpy_reference_with_fc6_reorder(
    tmp_path: Path, image: npt.NDArray[np.uint8]
) -> None:
    # the seed study's head (fc6 512, fc7 512, fc8 7) on the full 7x7x512 VGG16 feature map
    dense = [("fc6", 25088, 512), ("fc7", 512, 512), ("fc8", 512, 7)]
    layers = keras_layers(np.random.default_rng(1), dense=dense)
    path = tmp_path / "thesis_vggface.h5"
    write_keras2_h5(path, layers, top=True)
    bundle = make_bundle(
        ArchitectureSpec("vggface", 7, 224, head="thesis"),
        preprocessing="vggface",
        labels=tuple("abcdefg"),
    )
    report = load_weights(bundle.model, path, layers="all")  # type: ignore[arg-type]
    assert len(report.loaded) == 32
    bundle.model.eval()
    with torch.no_grad():
        ours = bundle.model(bundle.preprocess(image))[0].numpy()
    features = keras_forward_numpy(keras_input(image), layers, dense=[])
    ref = keras_dense_numpy(features, layers, ["fc6", "fc7", "fc8"])
    assert rel_err(ours, ref) < 1e-4
    # the check can fail: fc6 rows read in (C, H, W) order (no reorder) give other logits
    no_reorder = dict(layers)
    k6 = layers["fc6"][0].reshape(7, 7, 512, 512).transpose(2, 0, 1, 3).reshape(25088, 512)
    no_reorder["fc6"] = (k6, layers["fc6"][1])
    assert rel_err(ours, keras_dense_numpy(features, no_reorder, ["fc6", "fc7", "fc8"])) > 1e-2


@pytest.mark.slow
def test_vgg_face_dag_pth_matches_functional_reference(
    tmp_path: Path, image: npt.NDArray[np.uint8]
) -> None:
    # full released shapes: fc6 (4096, 25088), fc8 (2622, 4096)
    gen = torch.Generator().manual_seed(2)
    state: dict[str, torch.Tensor] = {}
    for name, cin, cout in VGG16_CONVS:
        state[f"{name}.weight"] = (
            torch.randn(cout, cin, 3, 3, generator=gen) * (2 / (9 * cin)) ** 0.5
        )
        state[f"{name}.bias"] = torch.randn(cout, generator=gen) * 0.1
    for name, n_in, n_out in (("fc6", 25088, 4096), ("fc7", 4096, 4096), ("fc8", 4096, 2622)):
        state[f"{name}.weight"] = torch.randn(n_out, n_in, generator=gen) * (2 / n_in) ** 0.5
        state[f"{name}.bias"] = torch.randn(n_out, generator=gen) * 0.1
    path = tmp_path / "vgg_face_dag.pth"
    torch.save(state, path)
    model = vggface()
    report = load_weights(model, path)
    assert len(report.loaded) == 32
    model.eval()
    x = torch.from_numpy(image[0].astype(np.float32)).permute(2, 0, 1)
    x = x - torch.tensor(VGGFACE_MEAN_RGB).view(3, 1, 1)
    with torch.no_grad():
        ours = model(x.unsqueeze(0))[0]
    ref = pth_forward_functional(x, state)
    assert rel_err(ours.numpy(), ref.numpy()) < 1e-4


def test_malicious_pickle_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "executed"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (exec, (f"__import__('pathlib').Path({str(marker)!r}).write_text('x')",))

    path = tmp_path / "vgg_face_dag.pth"
    torch.save({"conv1_1.weight": torch.zeros(1), "payload": Evil()}, path)
    with pytest.raises(DataError, match="refused"):
        read_state_dict_pth(path)
    assert not marker.exists()
    # the file really is malicious: a plain unpickle runs its payload
    torch.load(path, weights_only=False)
    assert marker.exists()


# --- loud errors on small networks (the checks do not depend on size) -------------------------


def tiny_state(head: str = "thesis", classes: int = 7) -> dict[str, torch.Tensor]:
    return dict(small_vgg(classes, width=1 / 16, input_size_px=32, head=head).state_dict())


def tiny_model(head: str = "thesis") -> torch.nn.Module:
    return small_vgg(7, width=1 / 16, input_size_px=32, head=head)


def test_pth_missing_tensor_is_named(tmp_path: Path) -> None:
    state = tiny_state()
    del state["fc7.bias"]
    path = tmp_path / "w.pth"
    torch.save(state, path)
    with pytest.raises(DataError, match=r"w\.pth: missing tensors \['fc7\.bias'\]"):
        load_weights(tiny_model(), path)  # type: ignore[arg-type]


def test_pth_wrong_shape_is_named(tmp_path: Path) -> None:
    state = tiny_state()
    state["conv3_2.weight"] = torch.zeros(16, 16, 5, 5)
    path = tmp_path / "w.pth"
    torch.save(state, path)
    with pytest.raises(
        DataError, match=r"w\.pth: tensor 'conv3_2\.weight' has shape \(16, 16, 5, 5\)"
    ):
        load_weights(tiny_model(), path)  # type: ignore[arg-type]


def test_pth_unexpected_tensor_is_named(tmp_path: Path) -> None:
    state = tiny_state()
    state["fc9.weight"] = torch.zeros(3, 3)
    path = tmp_path / "w.pth"
    torch.save(state, path)
    with pytest.raises(DataError, match=r"unexpected tensors \['fc9\.weight'\]"):
        load_weights(tiny_model(), path)  # type: ignore[arg-type]


def test_backbone_loads_convs_and_reports_replaced_head(tmp_path: Path) -> None:
    state = tiny_state(head="original", classes=11)
    path = tmp_path / "w.pth"
    torch.save(state, path)
    model = tiny_model(head="thesis")
    report = load_weights(model, path, layers="backbone")  # type: ignore[arg-type]
    assert len(report.loaded) == 26
    assert sorted(report.skipped) == [f"fc{i}.{p}" for i in (6, 7, 8) for p in ("bias", "weight")]
    for name in report.loaded:
        assert torch.equal(model.state_dict()[name], state[name])
    # same head shapes: fc6/fc7 are taken over, fc8 stays new
    model = tiny_model(head="original")
    report = load_weights(model, path, layers="backbone")  # type: ignore[arg-type]
    assert len(report.loaded) == 30 and sorted(report.skipped) == ["fc8.bias", "fc8.weight"]


def test_h5_missing_layer_and_wrong_shape(tmp_path: Path) -> None:
    layers = keras_layers(np.random.default_rng(3), dense=[])
    bad = dict(layers)
    del bad["conv5_3"]
    path = tmp_path / "notop.h5"
    write_keras2_h5(path, bad, top=False)
    with pytest.raises(
        DataError, match=r"notop\.h5: missing tensors \['conv5_3\.bias', 'conv5_3\.weight'\]"
    ):
        load_weights(vggface(7, head="thesis"), path, layers="backbone")
    bad = dict(layers)
    bad["conv2_1"] = (np.zeros((3, 3, 64, 64), np.float32), layers["conv2_1"][1])
    write_keras2_h5(path, bad, top=False)
    with pytest.raises(
        DataError,
        match=r"tensor 'conv2_1\.weight' has shape \(64, 64, 3, 3\), the network expects \(128, 64, 3, 3\)",
    ):
        load_weights(vggface(7, head="thesis"), path, layers="backbone")


def test_not_a_weight_file(tmp_path: Path) -> None:
    path = tmp_path / "w.h5"
    path.write_bytes(b"not hdf5")
    with pytest.raises(DataError, match="not a readable HDF5"):
        load_weights(tiny_model(), path)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="unknown weight file type"):
        load_weights(tiny_model(), tmp_path / "w.caffemodel")  # type: ignore[arg-type]


# --- gazealign checkpoints ----------------------------------------------------------------------


def test_checkpoint_round_trip_is_exact_and_deterministic(tmp_path: Path) -> None:
    torch.manual_seed(0)
    spec = ArchitectureSpec("small_vgg", 7, 32, head="thesis", width=1 / 16)
    bundle = make_bundle(
        spec,
        preprocessing="thesis",
        labels=tuple("abcdefg"),
        metadata={"metrics": {"test_accuracy": 0.9}},
    )
    save_bundle(bundle, tmp_path / "a" / "model.safetensors")
    save_bundle(bundle, tmp_path / "b" / "model.safetensors")
    for name in ("model.safetensors", "model.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    loaded = load_bundle(tmp_path / "a" / "model.json")
    assert loaded.labels == tuple("abcdefg") and loaded.preprocessing == "thesis"
    assert loaded.input_size_px == 32 and loaded.metadata["metrics"] == {"test_accuracy": 0.9}
    for k, v in bundle.model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[k], v)


def test_checkpoint_with_bad_sidecar(tmp_path: Path) -> None:
    spec = ArchitectureSpec("small_vgg", 7, 32, head="thesis", width=1 / 16)
    bundle = make_bundle(spec, preprocessing="thesis", labels=tuple("abcdefg"))
    path = tmp_path / "model.safetensors"
    save_bundle(bundle, path)
    side = tmp_path / "model.json"
    side.write_text(side.read_text().replace('"thesis"', '"imagenet"', 1))
    with pytest.raises(DataError, match=r"model\.json"):
        load_bundle(path)
    side.unlink()
    with pytest.raises(DataError, match="sidecar missing"):
        load_bundle(path)


def test_assign_weights_checks_every_tensor() -> None:
    model = tiny_model()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    report = assign_weights(model, state, source="mem")  # type: ignore[arg-type]
    assert len(report.loaded) == len(state)


def test_h5_layer_names_listing_a_missing_group_is_named(tmp_path: Path) -> None:
    layers = keras_layers(np.random.default_rng(3), dense=[])
    path = tmp_path / "notop.h5"
    write_keras2_h5(path, layers, top=False)
    with h5py.File(path, "a") as f:
        del f["conv3_2"]
    with pytest.raises(
        DataError,
        match=r"notop\.h5: 'layer_names' lists layer 'conv3_2', but the file has no group",
    ):
        load_weights(vggface(7, head="thesis"), path, layers="backbone")


def test_refused_pickle_message_does_not_advise_weights_only_false(tmp_path: Path) -> None:
    path = tmp_path / "w.pth"
    torch.save({"conv1_1.weight": torch.zeros(1), "extra": Path("x")}, path)
    with pytest.raises(DataError) as err:
        read_state_dict_pth(path)
    assert "refused to load" in str(err.value) and "weights_only" not in str(err.value)
