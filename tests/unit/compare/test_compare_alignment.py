"""Per-image alignment scores of the sweep: references from scipy/numpy and known cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import pearsonr, spearmanr

from gazealign.compare import perturbation as pt
from gazealign.compare.alignment import (
    map_agreement,
    morf_areas,
    planted_share,
    split_half_agreement,
)
from gazealign.models.bundle import ModelBundle


def test_map_agreement_is_spearman_and_pearson() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.random((6, 5)), rng.random((6, 5))
    rho, corr = map_agreement(a, b)
    assert rho == pytest.approx(spearmanr(a.ravel(), b.ravel()).statistic, rel=1e-12)
    assert corr == pytest.approx(pearsonr(a.ravel(), b.ravel()).statistic, rel=1e-9)
    # a monotone transform keeps Spearman at 1
    assert map_agreement(a, np.exp(3 * a))[0] == pytest.approx(1.0)
    assert all(np.isnan(v) for v in map_agreement(np.ones((3, 3)), a[:3, :3]))
    with pytest.raises(ValueError, match="2-D"):
        map_agreement(a.ravel(), b.ravel())


def test_planted_share() -> None:
    m = np.array([[1.0, -2.0], [3.0, 0.0]])
    planted = np.array([[True, True], [False, False]])
    assert planted_share(m, planted) == pytest.approx(1 / 4)
    assert np.isnan(planted_share(m, np.zeros((2, 2), bool)))
    assert np.isnan(planted_share(-np.abs(m), planted))


def test_split_half_agreement_of_identical_observers_is_one() -> None:
    # every observer fixates the same two points: any two halves make the same map
    rows = [
        {"subject": f"s{i}", "x_px": x, "y_px": y}
        for i in range(4)
        for x, y in ((3.0, 4.0), (10.0, 8.0))
    ]
    fix = pd.DataFrame(rows)
    rr, cc_ = np.mgrid[0:16, 0:16]

    def density(f: pd.DataFrame) -> np.ndarray:
        out = np.zeros((16, 16))
        for x, y in zip(f["x_px"], f["y_px"], strict=True):
            out += np.exp(-((cc_ - x) ** 2 + (rr - y) ** 2) / 8)
        return out

    rho, corr = split_half_agreement(fix, density, n_splits=3, seed=0)
    assert rho == pytest.approx(1.0) and corr == pytest.approx(1.0)
    one = fix[fix["subject"] == "s0"]
    assert all(np.isnan(v) for v in split_half_agreement(one, density, n_splits=3, seed=0))


class LeftHalfNet(torch.nn.Module):
    """Logit of class 0 = mean brightness of the left half; class 1 fixed at its start value."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left = x[:, :, :, : x.shape[-1] // 2].mean(dim=(1, 2, 3))
        return torch.stack([20 * left, torch.full_like(left, 5.0)], dim=1)


def test_morf_areas_rank_the_orders_by_the_tiles_the_network_needs() -> None:
    bundle = ModelBundle(LeftHalfNet().eval(), preprocessing="thesis", input_size_px=8)
    image = np.full((8, 8, 3), 255, np.uint8)
    fill = np.zeros_like(image)
    left = np.zeros((8, 8))
    left[:, :4] = 1.0
    areas = morf_areas(bundle, image, 0, {"left": left, "right": 1 - left}, tile_px=4, fill=fill)
    # removing the left tiles first drops class 0 sooner: a smaller MoRF area
    assert areas["left"] < areas["right"]
    grid = pt.TileGrid(8, 8, 4)
    order = pt.tile_order(left, grid)[None]
    curves = pt.perturbation_curves(bundle, image, 0, order, grid, fill)
    assert areas["left"] == pytest.approx(float(pt.curve_auc(curves.probability)[0]))
