"""Sanity checks (Adebayo et al. 2018): cascading randomisation and class sensitivity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from explain_nets import bundle, small_vgg
from torch import nn

from gazealign.explain.sanity import (
    SanityInputs,
    cascade,
    class_sensitivity,
    comparison_classes,
    pearson,
    randomisable_layers,
    randomisation_curve,
    spearman_abs,
    ssim_abs,
    verdicts,
)
from gazealign.models.bundle import ModelBundle


def _inputs(n: int, seed: int = 0, size_px: int = 16) -> SanityInputs:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, size_px, size_px, 3), dtype=np.uint8)
    return SanityInputs(images, rng.integers(0, 7, n).astype(np.int64), [f"s{i}" for i in range(n)])


def test_similarities_compare_magnitudes_not_scale_or_sign() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=(16, 16))
    assert spearman_abs(a, -3.0 * a) == pytest.approx(1.0)
    assert ssim_abs(a, -3.0 * a) == pytest.approx(1.0)
    assert pearson(a, -3.0 * a) == pytest.approx(-1.0)
    b = rng.normal(size=(16, 16))
    assert abs(spearman_abs(a, b)) < 0.3 and ssim_abs(a, b) < 0.5
    assert np.isnan(spearman_abs(np.zeros((4, 4)), a[:4, :4]))
    assert np.isnan(ssim_abs(np.zeros((8, 8)), a[:8, :8]))


def test_cascade_goes_top_down_on_a_copy_and_is_seeded() -> None:
    net = small_vgg(0)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    layers = randomisable_layers(net)
    assert layers == ["13", "11", "7", "5", "2", "0"]
    changed_per_step = []
    for _, b in cascade(bundle(net), seed=3):
        state = b.model.state_dict()
        changed_per_step.append(
            {k.split(".")[0] for k in state if not torch.equal(state[k], before[k])}
        )
    assert changed_per_step[0] == {"13"}
    assert changed_per_step[-1] == set(layers)
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())
    again = [dict(b.model.state_dict()) for _, b in cascade(bundle(net), seed=3)][-1]
    last = [dict(b.model.state_dict()) for _, b in cascade(bundle(net), seed=3)][-1]
    assert all(torch.equal(again[k], last[k]) for k in again)


def test_randomisation_curve_matches_maps_computed_by_hand() -> None:
    """Linear network z = W x: gradient x input is x * W_t before and after re-drawing W."""
    pytest.importorskip("captum")
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 7, bias=False)).double()
    b = bundle(net, preprocessing="thesis")
    inputs = _inputs(3)
    curve = randomisation_curve(b, inputs, method="gradient_x_input", seed=5)
    assert list(curve["step"]) == [0, 0, 0, 1, 1, 1]
    assert list(curve["layer_kind"]) == ["", "", "", "dense", "dense", "dense"]
    (_, randomised), = list(cascade(b, seed=5))  # fmt: skip
    x = b.preprocess(inputs.images).double()
    for i, t in enumerate(inputs.targets):
        w0 = net[1].weight[t].detach().view(3, 16, 16)
        w1 = randomised.model[1].weight[t].detach().view(3, 16, 16)
        m0, m1 = (x[i] * w0).sum(0).numpy(), (x[i] * w1).sum(0).numpy()
        row = curve[(curve["step"] == 1) & (curve["stimulus_id"] == f"s{i}")].iloc[0]
        assert row["spearman_abs"] == pytest.approx(spearman_abs(m0, m1), abs=1e-9)
        assert row["ssim_abs"] == pytest.approx(ssim_abs(m0, m1), abs=1e-9)
        assert abs(row["spearman_abs"]) < 0.5  # independent weights: unrelated maps


def test_comparison_classes() -> None:
    logits = np.array([[0.0, 5.0, 3.0, 1.0], [9.0, 1.0, 2.0, 0.0]])
    runner_up, other = comparison_classes(logits, np.array([1, 2]), seed=0)
    assert list(runner_up) == [2, 0]
    assert other[0] in (0, 3) and other[1] in (1, 3)
    r2, o2 = comparison_classes(np.array([[1.0, 2.0]]), np.array([0]), seed=0)
    assert list(r2) == [1] and list(o2) == [1]


def test_class_sensitivity_flags_maps_that_only_flip_sign() -> None:
    pytest.importorskip("captum")
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 3, bias=False)).double()
    with torch.no_grad():  # class 1 = -class 0: its map is the same pattern, negated
        net[1].weight[1] = -net[1].weight[0]
    inputs = SanityInputs(_inputs(4).images, np.zeros(4, dtype=np.int64), list("abcd"))
    b = ModelBundle(model=net, preprocessing="thesis", input_size_px=16, labels=("a", "b", "c"))
    table = class_sensitivity(b, inputs, method="gradient_x_input", seed=0, sign="signed")
    rows = table.set_index("stimulus_id")
    # Runner-up may be class 1 (r = -1 exactly) or class 2 (independent weights).
    for _, row in rows.iterrows():
        if row["runner_up"] == 1:
            assert row["r_runner_up"] == pytest.approx(-1.0)
            assert row["r_signed_runner_up"] == pytest.approx(-1.0)
        else:
            assert abs(row["r_runner_up"]) < 0.5
    verdict = verdicts(pd.DataFrame(columns=["method", "step", "spearman_abs", "ssim_abs"]),
                       table.assign(r_runner_up=-1.0), randomisation_max_spearman=0.5,
                       class_max_r=0.5)  # fmt: skip
    assert not verdict["passes_class_sensitivity"].iloc[0]
    assert (
        "fails class sensitivity: maps for different classes correlate at r = -1.00"
        in (verdict["verdict"].iloc[0])
    )


def test_verdict_on_randomisation_uses_the_last_step() -> None:
    curves = pd.DataFrame(
        {
            "method": ["m"] * 4,
            "step": [0, 1, 2, 2],
            "spearman_abs": [1.0, 0.9, 0.2, 0.4],
            "ssim_abs": [1.0, 0.8, 0.1, 0.1],
            "layer_kind": ["", "dense", "conv", "conv"],
        }
    )
    classes = pd.DataFrame(
        {
            "method": ["m"],
            "r_runner_up": [0.1],
            "r_other": [0.0],
            "r_signed_runner_up": [0.9],
            "sign": ["positive"],
        }
    )
    v = verdicts(curves, classes, randomisation_max_spearman=0.5, class_max_r=0.5).iloc[0]
    assert v["randomised_spearman"] == pytest.approx(0.3)
    assert v["head_randomised_spearman"] == pytest.approx(0.9)
    assert "only the dense layers random they rank-correlate at rho = 0.90" in v["verdict"]
    assert v["passes_randomisation"] and v["passes_class_sensitivity"]
    assert v["verdict"].startswith("passes randomisation: fully random network's maps")
