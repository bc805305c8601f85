"""Batched region perturbation equals the naive loop; tile orders, fills and areas."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gazealign.compare import perturbation as pt
from gazealign.models.bundle import ModelBundle
from reference import compare_perturbation_naive as naive


def small_bundle(seed: int = 0, size: int = 20) -> ModelBundle:
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * (size // 2) ** 2, 7),
    ).eval()
    return ModelBundle(model, preprocessing="thesis", input_size_px=size)


def test_tile_scores_and_orders_match_naive() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(20, 20))
    values[:5, :5] = values[:5, 5:10]  # equal tile sums: ties broken by tile number
    grid = pt.TileGrid(20, 20, 6)  # 4x4 grid with smaller edge tiles
    for score in ("sum", "mean"):
        assert np.allclose(grid.scores(values, score=score), naive.tile_scores(values, 6, score))
        for direction in ("morf", "lerf"):
            assert pt.tile_order(values, grid, score=score, direction=direction).tolist() == (
                naive.order(values, 6, score, direction)
            )


class Recorder(nn.Module):
    """Wraps a model and keeps every input it sees, to compare the perturbed images themselves."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.clone())
        out: torch.Tensor = self.inner(x)
        return out


def _case(fill: str) -> tuple[ModelBundle, np.ndarray, pt.TileGrid, np.ndarray, np.ndarray]:
    torch.set_num_threads(1)
    bundle = small_bundle()
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, size=(20, 20, 3), dtype=np.uint8)
    grid = pt.TileGrid(20, 20, 5)
    fill_img = pt.fill_image(image, fill, seed=3, blur_sigma_px=2.0)  # type: ignore[arg-type]
    orders = np.concatenate(
        [pt.tile_order(image[..., 0], grid)[None], pt.random_tile_orders(16, 2, seed=4)]
    )
    return bundle, image, grid, fill_img, orders


@pytest.mark.parametrize("fill", ["uniform_noise", "mean", "blur", "zeros"])
def test_batched_equals_naive_loop_exactly_fp32(fill: str) -> None:
    bundle, image, grid, fill_img, orders = _case(fill)
    got = pt.perturbation_curves(bundle, image, 2, orders, grid, fill_img, batch_size=1)
    prob, logit, pred = naive.curves(bundle, image, 2, orders.tolist(), 5, fill_img)
    np.testing.assert_array_equal(got.logit, logit)
    np.testing.assert_array_equal(got.probability, prob)
    np.testing.assert_array_equal(got.predicted, pred)
    assert got.correct.tolist() == (pred == 2).tolist()


@pytest.mark.parametrize("batch_size", [5, 64])
def test_batches_hold_the_naive_images_bit_for_bit(batch_size: int) -> None:
    bundle, image, grid, fill_img, orders = _case("uniform_noise")
    recorder = Recorder(bundle.model)
    rec_bundle = ModelBundle(recorder, preprocessing="thesis", input_size_px=20)
    got = pt.perturbation_curves(
        rec_bundle, image, 2, orders, grid, fill_img, batch_size=batch_size
    )
    assert all(x.shape[0] <= batch_size for x in recorder.seen)
    # step 0 once, the all-filled step 16 (the fill, the same for every order) once, then
    # (order, step) row-major for the steps before it
    seen = torch.cat(recorder.seen)
    assert np.array_equal(naive.perturbed(image, orders[0].tolist(), 16, 5, fill_img), fill_img)
    expected = [image, fill_img] + [
        naive.perturbed(image, o, k, 5, fill_img) for o in orders.tolist() for k in range(1, 16)
    ]
    assert torch.equal(seen, bundle.preprocess(np.stack(expected)))
    # The network itself is not batch-invariant in fp32 (BLAS blocks a batch of 1 differently),
    # so outputs agree to float32 rounding, not bit for bit.
    prob, logit, _ = naive.curves(bundle, image, 2, orders.tolist(), 5, fill_img)
    np.testing.assert_allclose(got.logit, logit, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got.probability, prob, rtol=1e-5, atol=1e-7)


def test_fills_are_what_they_say() -> None:
    image = np.full((8, 8, 3), 10, dtype=np.uint8)
    image[:4] = 200
    assert pt.fill_image(image, "zeros", seed=0).max() == 0
    assert pt.fill_image(image, "mean", seed=0)[0, 0].tolist() == [105, 105, 105]
    noise = pt.fill_image(image, "uniform_noise", seed=0)
    assert np.array_equal(noise, pt.fill_image(image, "uniform_noise", seed=0))
    assert len(np.unique(noise)) > 50  # per pixel, not one value per image
    blur = pt.fill_image(image, "blur", seed=0, blur_sigma_px=2.0)
    assert 10 < blur[4, 4, 0] < 200


def test_areas() -> None:
    falling = np.array([1.0, 1.0, 0.0, 0.0, 0.0])  # correct until the second tile goes
    assert pt.curve_auc(falling) == pytest.approx(1.5 / 4)
    assert pt.curve_auc(np.ones(17)) == 1.0
    # AOPC: mean over k=0..4 of f(x0) - f(xk) = (0 + 0 + 1 + 1 + 1) / 5
    assert pt.aopc(falling) == pytest.approx(0.6)
    assert pt.curve_auc(np.stack([falling, np.ones(5)])).tolist() == [0.375, 1.0]


def test_bad_orders_and_shapes_are_rejected() -> None:
    grid = pt.TileGrid(8, 8, 4)
    with pytest.raises(ValueError, match="permutation"):
        pt.tile_rank_map([0, 0, 1, 2], grid)
    with pytest.raises(ValueError, match="frame"):
        grid.scores(np.zeros((9, 8)))
    with pytest.raises(ValueError, match="larger"):
        pt.TileGrid(8, 8, 9)
