"""The perturbation strip shows exactly the images the perturbation engine fed the network."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from gazealign.compare import perturbation as pt
from gazealign.compare.incremental import IncrementalForward
from gazealign.compare.strip import StripOrdering, make_strip, strip_steps
from gazealign.models.bundle import ModelBundle
from gazealign.models.small import small_vgg
from gazealign.report.perturbation_figures import strip_figure

S = 32


class RecordingBundle(ModelBundle):
    """A bundle that keeps every uint8 image batch the network is given."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        object.__setattr__(self, "seen", [])

    def preprocess(self, images: Any) -> torch.Tensor:
        self.seen.append(np.array(images, copy=True))  # type: ignore[attr-defined]
        return super().preprocess(images)


def _image(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(S, S, 3), dtype=np.uint8)


def test_steps_are_all_for_a_coarse_grid_and_an_even_subsample_for_a_fine_one() -> None:
    assert strip_steps(16, 16).tolist() == list(range(1, 17))
    fine = strip_steps(64, 16)
    assert fine.size == 16 and fine[0] == 1 and fine[-1] == 64
    assert np.all(np.diff(fine) > 0) and set(np.diff(fine)) <= {4, 5}
    assert strip_steps(196, 1).tolist() == [196]
    with pytest.raises(ValueError, match="positive"):
        strip_steps(0, 4)


@pytest.mark.parametrize("incremental", [False, True])
@pytest.mark.parametrize("fill_name", ["uniform_noise", "blur"])
def test_strip_panels_equal_what_the_network_was_shown(incremental: bool, fill_name: str) -> None:
    torch.manual_seed(0)
    model = small_vgg(7, width=0.125, input_size_px=S, depth=11).eval()
    bundle = RecordingBundle(model, preprocessing="thesis", input_size_px=S)
    image = _image()
    grid = pt.TileGrid(S, S, 8)  # 4 x 4
    rng = np.random.default_rng(5)
    maps = {"lrp": rng.random((S, S)), "human": rng.random((S, S))}
    orders = {k: pt.tile_order(v, grid) for k, v in maps.items()}
    orders["random"] = pt.random_tile_orders(grid.n_tiles, 1, seed=3)[0]
    names = ["random", "lrp", "human"]
    fill = pt.fill_image(image, fill_name, seed=11, blur_sigma_px=3.0)
    stacked = np.stack([orders[n] for n in names])
    curves = pt.perturbation_curves(
        bundle, image, 0, stacked, grid, fill, batch_size=5, incremental=incremental
    )
    fed = np.concatenate(bundle.seen)  # type: ignore[attr-defined]
    # The first image is the intact one; then step by step with the orders side by side
    # (incremental: the orders advance together), or (in full) the all-filled last step, shown
    # once for every order, then order by order the steps before it.
    assert np.array_equal(fed[0], image)
    assert (IncrementalForward.for_model(model) is not None) or not incremental
    if incremental:
        per_step = fed[1:].reshape(grid.n_tiles, len(names), S, S, 3).swapaxes(0, 1)
    else:
        assert np.array_equal(fed[1], fill) and len(fed) == 2 + len(names) * (grid.n_tiles - 1)
        before = fed[2:].reshape(len(names), grid.n_tiles - 1, S, S, 3)
        last = np.broadcast_to(fed[1], (len(names), 1, S, S, 3))
        per_step = np.concatenate([before, last], axis=1)

    rows = [
        StripOrdering(n, orders[n], None if n == "random" else maps[n], curves.probability[i])
        for i, n in enumerate(names)
    ]
    strip = make_strip("x", "happy", image, fill, grid, rows, steps=strip_steps(16))
    assert strip.all_steps and [r.name for r in strip.rows] == names
    for i, row in enumerate(strip.rows):
        assert row.images.dtype == np.uint8
        assert np.array_equal(row.images, per_step[i])  # every panel, to the byte
        np.testing.assert_array_equal(row.probability, curves.probability[i, 1:])
        # the grid's printed ranks: tile orders[i][k] is removed at step k + 1
        assert np.array_equal(row.ranks, pt.tile_rank_map(orders[names[i]], grid))
    # a subsample of the steps shows the same images at those steps
    sub = make_strip("x", "happy", image, fill, grid, rows, steps=[1, 8, 16])
    for i, row in enumerate(sub.rows):
        assert np.array_equal(row.images, per_step[i][[0, 7, 15]])
    # after the last step every pixel is the fill's
    assert np.array_equal(strip.rows[1].images[-1], fill)


def test_strip_refuses_steps_outside_the_order_and_a_short_curve() -> None:
    image = _image()
    grid = pt.TileGrid(S, S, 16)
    fill = pt.fill_image(image, "mean", seed=0)
    order = np.arange(4)
    with pytest.raises(ValueError, match=r"1\.\.4"):
        make_strip("x", "sad", image, fill, grid, [StripOrdering("h", order)], steps=[5])
    short = StripOrdering("h", order, probability=np.ones(3))
    with pytest.raises(ValueError, match="curve has 3 points"):
        make_strip("x", "sad", image, fill, grid, [short], steps=[1, 3])


def test_strip_figure_has_a_panel_per_row_and_column() -> None:
    image = _image()
    grid = pt.TileGrid(S, S, 8)
    fill = pt.fill_image(image, "zeros", seed=0)
    signed = np.random.default_rng(1).normal(size=(S, S))
    rows = [
        StripOrdering("random", np.random.default_rng(2).permutation(16)),
        StripOrdering("lrp", pt.tile_order(signed, grid), signed, np.linspace(1, 0, 17)),
        StripOrdering("human", np.arange(16), np.ones((S, S)), np.linspace(1, 0.5, 17)),
    ]
    fig = strip_figure(make_strip("x", "sad", image, fill, grid, rows, steps=[1, 2, 16]))
    assert len(fig.axes) == 3 * (3 + 3)
    # the tile-order panel prints every rank once
    texts = sorted(int(t.get_text()) for t in fig.axes[2].texts)
    assert texts == list(range(1, 17))
    assert fig.axes[3 + 6 + 2].get_xlabel() == "p=0.00"  # lrp row, step 16
