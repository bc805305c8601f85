"""Architectures: layer names, parameter counts, module-only forward, batch-norm folding."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gazealign.models.architecture import ArchitectureSpec, build_model
from gazealign.models.small import small_vgg
from gazealign.models.vggface import VGG, vggface


def test_vggface_names_and_released_shapes() -> None:
    model = vggface()
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    convs = [
        f"conv{b}_{i}"
        for b, n in zip(range(1, 6), (2, 2, 3, 3, 3), strict=True)
        for i in range(1, n + 1)
    ]
    assert list(shapes) == [
        f"{c}.{p}" for c in [*convs, "fc6", "fc7", "fc8"] for p in ("weight", "bias")
    ]
    assert shapes["conv1_1.weight"] == (64, 3, 3, 3) and shapes["conv5_3.weight"] == (
        512,
        512,
        3,
        3,
    )
    assert shapes["fc6.weight"] == (4096, 25088) and shapes["fc8.weight"] == (2622, 4096)
    assert sum(v.numel() for v in model.state_dict().values()) == 145_002_878  # VGG-Face
    assert model.last_conv == "conv5_3"


def test_thesis_head_parameter_count() -> None:
    # the seed study's model summary: 27,826,503 parameters
    assert sum(p.numel() for p in vggface(7, head="thesis").parameters()) == 27_826_503


def test_forward_uses_modules_only_and_relus_are_not_inplace() -> None:
    model = small_vgg(7, width=1 / 16, input_size_px=32)
    kinds = {type(m) for m in model.children()}
    assert kinds <= {nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Flatten, nn.Linear, nn.Dropout}
    assert all(not m.inplace for m in model.modules() if isinstance(m, nn.ReLU))
    # running every module in layer_names by hand gives the forward pass: nothing functional
    model.eval()
    x = torch.randn(2, 3, 32, 32)
    y = x
    for name in model.layer_names:
        y = getattr(model, name)(y)
    assert torch.equal(y, model(x))
    assert len(set(model.layer_names)) == len(model.layer_names) == len(list(model.children()))


@pytest.mark.parametrize(("size", "side"), [(32, 1), (64, 2), (96, 3), (224, 7)])
def test_small_inputs(size: int, side: int) -> None:
    model = small_vgg(7, width=1 / 16, input_size_px=size)
    assert model.feature_shape == (32, side, side)
    assert model.fc6.in_features == 32 * side * side
    assert model(torch.zeros(1, 3, size, size)).shape == (1, 7)


def test_depth_11_names() -> None:
    model = small_vgg(7, width=1 / 16, input_size_px=32, depth=11)
    assert model.conv_layers == [
        "conv1_1",
        "conv2_1",
        "conv3_1",
        "conv3_2",
        "conv4_1",
        "conv4_2",
        "conv5_1",
        "conv5_2",
    ]
    assert model.last_conv == "conv5_2"


def test_batchnorm_folds_exactly() -> None:
    torch.manual_seed(0)
    model = small_vgg(7, width=1 / 8, input_size_px=32, batchnorm=True, depth=11)
    assert model.has_batchnorm
    for m in model.modules():  # non-trivial statistics and affine parameters
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    model.eval()
    x = torch.randn(4, 3, 32, 32)
    before = model(x).detach()
    model.fold_batchnorm()
    assert not model.has_batchnorm and not any(
        isinstance(m, nn.BatchNorm2d) for m in model.modules()
    )
    assert all(k.startswith(("conv", "fc")) for k in model.state_dict())
    torch.testing.assert_close(model(x), before, rtol=1e-4, atol=1e-5)


def test_build_model_from_spec() -> None:
    spec = ArchitectureSpec("small_vgg", 7, 64, head="thesis", width=0.25, depth=11)
    model = build_model(spec)
    assert isinstance(model, VGG) and model.hidden == 128 and model.blocks[0] == (16, 1)
