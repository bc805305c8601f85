"""Incremental perturbation equals full recomputation (fp32 rounding), on small and VGG nets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gazealign.compare import incremental as inc
from gazealign.compare import perturbation as pt
from gazealign.models.bundle import ModelBundle
from gazealign.models.small import small_vgg


def odd_net() -> nn.Sequential:
    """Strides, dilation, an even kernel, a pool with padding, batch norm: every window case."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.ReLU(),  # element-wise before any window: an identity stage
        nn.Conv2d(3, 5, 3, padding=1),
        nn.BatchNorm2d(5),
        nn.LeakyReLU(0.1),
        nn.Conv2d(5, 6, 4, stride=2, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1),
        nn.Conv2d(6, 4, 3, padding=2, dilation=2),
        nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 7),
    )
    with torch.no_grad():
        net[2].running_mean.uniform_(-0.5, 0.5)
        net[2].running_var.uniform_(0.5, 2.0)
    return net.eval()


def test_split_model_puts_windows_and_pointwise_together_and_the_rest_in_the_tail() -> None:
    parts = inc.split_model(odd_net())
    assert parts is not None
    stages, tail = parts
    assert [type(s.op).__name__ for s in stages] == [
        "NoneType",
        "Conv2d",
        "Conv2d",
        "MaxPool2d",
        "Conv2d",
        "MaxPool2d",
    ]
    assert [type(m).__name__ for m in stages[1].post] == ["BatchNorm2d", "LeakyReLU"]
    assert [type(m).__name__ for m in tail] == ["Flatten", "Linear"]
    assert inc.split_model(odd_net().train()) is None  # batch norm in training mode
    assert inc.split_model(nn.Sequential(nn.Flatten(), nn.Linear(3, 2))) is None


@pytest.mark.parametrize("full_fraction", [0.75, 1.01])
def test_chains_of_box_changes_equal_full_forwards(full_fraction: float) -> None:
    torch.set_num_threads(1)
    net = odd_net()
    engine = inc.IncrementalForward.for_model(net, full_fraction=full_fraction)
    assert engine is not None
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(1, 3, 29, 31)).astype(np.float32))
    chains = 4
    with torch.inference_mode():
        torch.testing.assert_close(engine.start(x, chains), net(x))
        current = x.expand(chains, -1, -1, -1).clone()
        for step in range(8):
            for b in range(chains):
                if (step + b) % 5 == 4:
                    continue  # this chain's input does not change at this step
                r, c = rng.integers(0, 29), rng.integers(0, 31)
                h, w = rng.integers(1, 12), rng.integers(1, 12)
                patch = rng.normal(size=(3, h, w)).astype(np.float32)
                region = current[b, :, r : r + h, c : c + w]
                region.copy_(torch.from_numpy(patch[:, : region.shape[1], : region.shape[2]]))
            if step == 6:
                current = torch.from_numpy(rng.normal(size=current.shape).astype(np.float32))
            got = engine.step(current)
            torch.testing.assert_close(got, net(current), rtol=1e-5, atol=1e-6)


def test_changed_boxes_are_the_bounding_boxes_of_differences() -> None:
    old = torch.zeros(3, 2, 6, 7)
    new = old.clone()
    new[0, 1, 2, 3] = 1.0
    new[1, 0, 1:4, 5] = -1.0
    new[1, 1, 5, 0] = 2.0
    assert inc.changed_boxes(new, old) == [(2, 3, 3, 4), (1, 6, 0, 6), (0, 0, 0, 0)]


def vgg_bundle(size: int, *, batchnorm: bool = False) -> ModelBundle:
    torch.manual_seed(1)
    model = small_vgg(7, width=0.125, input_size_px=size, batchnorm=batchnorm, dropout=0.5)
    if batchnorm:
        with torch.no_grad():
            for name in model.layer_names:
                if name.startswith("bn"):
                    getattr(model, name).running_mean.uniform_(-0.2, 0.2)
    return ModelBundle(model.eval(), preprocessing="vggface", input_size_px=size)


@pytest.mark.parametrize(("size", "tile", "batchnorm"), [(64, 16, False), (70, 15, True)])
def test_incremental_curves_equal_full_recompute_on_vgg_layers(
    size: int, tile: int, batchnorm: bool
) -> None:
    """VGG16's layout (13 convs, 5 pools, fc head) at small width; 70 px: edge tiles are
    smaller and pools floor odd sides."""
    torch.set_num_threads(1)
    bundle = vgg_bundle(size, batchnorm=batchnorm)
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
    grid = pt.TileGrid(size, size, tile)
    fill = pt.fill_image(image, "uniform_noise", seed=3)
    orders = np.concatenate(
        [pt.tile_order(image[..., 1], grid)[None], pt.random_tile_orders(grid.n_tiles, 4, seed=4)]
    )
    full = pt.perturbation_curves(bundle, image, 3, orders, grid, fill, incremental=False)
    for batch_size in (2, 32):  # chains advanced in groups, or all together
        got = pt.perturbation_curves(
            bundle, image, 3, orders, grid, fill, incremental=True, batch_size=batch_size
        )
        scale = np.abs(full.logit).max()
        np.testing.assert_allclose(got.logit, full.logit, rtol=0, atol=1e-5 * scale)
        np.testing.assert_allclose(got.probability, full.probability, rtol=0, atol=1e-6)
        np.testing.assert_allclose(
            pt.curve_auc(got.probability), pt.curve_auc(full.probability), atol=1e-6
        )
        assert (got.predicted == full.predicted).all()


def test_auto_uses_increments_only_for_large_networks() -> None:
    bundle = vgg_bundle(64)
    engine = inc.IncrementalForward.for_model(bundle.model)
    assert engine is not None
    # Small VGG at 64 px: below the threshold, so "auto" gives the full path exactly.
    assert engine.conv_macs((64, 64)) < pt.AUTO_INCREMENTAL_MACS
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    grid = pt.TileGrid(64, 64, 16)
    fill = pt.fill_image(image, "zeros", seed=0)
    orders = pt.random_tile_orders(16, 2, seed=1)
    auto = pt.perturbation_curves(bundle, image, 0, orders, grid, fill)
    full = pt.perturbation_curves(bundle, image, 0, orders, grid, fill, incremental=False)
    np.testing.assert_array_equal(auto.logit, full.logit)
    vgg16 = small_vgg(7, width=1.0, input_size_px=224)
    engine16 = inc.IncrementalForward.for_model(vgg16.eval())
    assert engine16 is not None
    assert engine16.conv_macs((224, 224)) == 15_346_630_656  # VGG16 conv stack at 224 px


def test_models_that_are_not_chains_run_in_full() -> None:
    class Wrapped(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = small_vgg(7, width=0.125, input_size_px=64).eval()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.inner(x) * 2.0
            return out

    assert inc.IncrementalForward.for_model(Wrapped().eval()) is None
    bundle = ModelBundle(Wrapped().eval(), preprocessing="thesis", input_size_px=64)
    rng = np.random.default_rng(6)
    image = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    grid = pt.TileGrid(64, 64, 32)
    fill = pt.fill_image(image, "mean", seed=0)
    got = pt.perturbation_curves(bundle, image, 1, [[0, 1, 2, 3]], grid, fill, incremental=True)
    full = pt.perturbation_curves(bundle, image, 1, [[0, 1, 2, 3]], grid, fill, incremental=False)
    np.testing.assert_array_equal(got.logit, full.logit)


def test_conv_work_counter_counts_the_receptive_field_of_a_change() -> None:
    # Two 3x3 convolutions with padding 1 on 16x16: one changed pixel at (8, 8) changes a 3x3
    # box of the first output (3 -> 4 channels: 4 x 27 multiply-adds each) and a 5x5 box of the
    # second (4 -> 2 channels: 2 x 36 each).
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 3, padding=1), nn.Flatten()
    ).eval()
    engine = inc.IncrementalForward.for_model(net)
    assert engine is not None
    full = engine.conv_macs((16, 16))
    assert full == 16 * 16 * (4 * 27 + 2 * 36)
    x = torch.rand(1, 3, 16, 16)
    chains = 3
    with torch.inference_mode():
        engine.start(x, chains)
        assert engine.conv_macs_done == full  # the shared first input, once
        changed = x.expand(chains, -1, -1, -1).clone()
        changed[:2, :, 8, 8] += 1.0  # the third chain does not change
        torch.testing.assert_close(engine.step(changed), net(changed))
    assert engine.conv_macs_done == full + 2 * (9 * 4 * 27 + 25 * 2 * 36)


def test_truncated_boxes_are_cut_about_their_centre_inside_the_map() -> None:
    # short boxes are left alone
    assert inc.truncated((2, 4, 0, 3), (10, 10), 0.5) == (2, 4, 0, 3)
    # rows 0..9 of a 10-row map at 0.5: 5 rows about the centre; columns too
    assert inc.truncated((0, 10, 1, 9), (10, 10), 0.5) == (2, 7, 2, 7)
    # near an edge the cut box stays inside the map
    r0, r1, c0, c1 = inc.truncated((6, 14, 0, 14), (14, 14), 0.25)
    assert (r1 - r0, c1 - c0) == (4, 4) and 0 <= r0 and r1 <= 14 and 0 <= c0 and c1 <= 14
    # at least one position, and threshold 1 never cuts
    assert inc.truncated((0, 3, 0, 3), (3, 3), 0.01) == (1, 2, 1, 2)
    rng = np.random.default_rng(1)
    for _ in range(200):
        n = int(rng.integers(1, 30))
        lo = int(rng.integers(0, n))
        hi = int(rng.integers(lo + 1, n + 1))
        t = float(rng.uniform(0.05, 1.0))
        a, b, _, _ = inc.truncated((lo, hi, lo, hi), (n, n), t)
        cap = max(1, int(np.ceil(t * n)))
        assert 0 <= a < b <= n and b - a == min(hi - lo, cap)
        assert inc.truncated((lo, hi, lo, hi), (n, n), 1.0) == (lo, hi, lo, hi)


def test_a_threshold_of_one_is_exact_and_a_small_one_does_less_work() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = small_vgg(7, width=0.125, input_size_px=64, depth=11).eval()
    bundle = ModelBundle(model, preprocessing="thesis", input_size_px=64)
    image = np.random.default_rng(0).integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    grid = pt.TileGrid(64, 64, 16)
    fill = pt.fill_image(image, "uniform_noise", seed=1)
    orders = pt.random_tile_orders(grid.n_tiles, 3, seed=2)
    ranks = np.stack([pt.tile_rank_map(o, grid) for o in orders])
    net = pt.inference_net(bundle)
    out, work = {}, {}
    for t in (None, 1.0, 0.3):
        engine = inc.IncrementalForward.for_model(model, threshold=t)
        assert engine is not None
        out[t] = pt._incremental_logits(bundle, net, engine, image, fill, ranks, 16, 8)
        work[t] = engine.conv_macs_done
    np.testing.assert_array_equal(out[1.0], out[None])
    assert work[1.0] == work[None] and work[0.3] < 0.8 * work[None]
    assert not np.allclose(out[0.3], out[None], rtol=1e-5, atol=1e-6)  # it is an approximation
    with pytest.raises(ValueError, match="threshold"):
        inc.IncrementalForward.for_model(model, threshold=0.0)
