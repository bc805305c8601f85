"""LRP on the zoo networks: relevance stays bounded on residual / dense sums, every composite."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from zennit.composites import LayerMapComposite
from zennit.layer import Sum

from gazealign.explain.base import available_methods, explain
from gazealign.explain.lrp import PositiveShareSum, lrp_relevance
from gazealign.models import zoo
from gazealign.stimuli.crop import apply_crop, haar_face_crop
from gazealign.stimuli.sample_photos import POSED

sys.path.insert(0, str(Path(__file__).parents[2]))
from zoo_fixtures import photo_files, zoo_files

COMPOSITES = [m for m in available_methods() if m.startswith("lrp_")]


def test_positive_share_sum_matches_its_formula() -> None:
    """R_k = a_k+ / (sum_j a_j+ + eps) * R, on branches that nearly cancel."""
    a = torch.tensor([[[2.0, -1.999999], [0.5, 0.25], [-1.0, -2.0]]], dtype=torch.float64)
    composite = LayerMapComposite(layer_map=[(Sum, PositiveShareSum(stabilizer=1e-6))])
    out, rel = lrp_relevance(Sum(dim=-1), a, torch.tensor([0]), composite)
    r_out = torch.zeros(3, dtype=torch.float64)
    r_out[0] = out[0, 0]
    pos = a[0].clamp(min=0)
    expected = pos / (pos.sum(-1, keepdim=True) + 1e-6) * r_out[:, None]
    torch.testing.assert_close(rel[0], expected, rtol=1e-6, atol=1e-12)
    # the positive share conserves where zennit's signed Norm would give 2 / 1e-6 x the output
    assert float(rel.sum()) == pytest.approx(float(out[0, 0]), rel=1e-5)


def real_crops(size: int) -> np.ndarray:
    photos = photo_files()
    crops = []
    for name in ("0-f1-su-ph.jpg", "0-f15-hao-ph.jpg"):
        assert name in POSED
        image = np.asarray(Image.open(photos[name]).convert("RGB"))
        found = haar_face_crop(image, size_px=size)
        assert found is not None, name
        crops.append(apply_crop(image, found[0]))
    return np.stack(crops)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["pyemotion", "fer", "face_api"])
def test_relevance_bounded_for_every_composite_on_real_faces(name: str) -> None:
    zoo_files(name)
    bundle = zoo.load(name)
    crops = real_crops(bundle.input_size_px)[:1]
    ratios = {}
    for method in COMPOSITES:
        for e in explain(bundle, crops, method=method):
            assert np.isfinite(e.channels).all()
            ratios[(method, e.record.stimulus_id)] = e.record.relevance_sum / e.record.logit
    print(name, {k: round(v, 3) for k, v in ratios.items()})
    # measured (benchmarks/zoo_real_photos.py): at most 7.3 x the logit; a plain port of the
    # residual nets reached 1e7 x (zennit's signed Norm on near-cancelling sums)
    assert max(abs(r) for r in ratios.values()) < 10.0
    # the recommended composite for VGG-type nets keeps most relevance, with the logit's sign
    gamma = [r for (m, _), r in ratios.items() if m == "lrp_epsilon_gamma_box"]
    assert all(0.05 < r < 1.5 for r in gamma), gamma


def test_composite_records_sum_rule_and_merged_batch_norm() -> None:
    zoo_files("fer")
    bundle = zoo.load("fer")
    params = explain(bundle, real_crops(64)[:1], method="lrp_epsilon_plus_flat")[0].record.params
    assert params["sum"] == "positive_share"
    assert params["canonizers"] == ["SequentialMergeBatchNorm"]
    # the canonizer's merge is undone after the explanation: batch norms are back
    assert float(bundle.model.stem[1].running_var.sum()) > 0
