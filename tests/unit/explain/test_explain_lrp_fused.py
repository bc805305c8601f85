"""The fused LRP pass equals zennit's (the reference) for every composite, and falls back to it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from explain_nets import bundle as make_bundle
from explain_nets import small_vgg as seq_vgg
from torch import nn
from zennit.layer import Sum

from gazealign.explain import ExplainOptions, explain
from gazealign.explain.lrp import COMPOSITES, composite_relevance, make_composite
from gazealign.explain.lrp_fused import fused_plan
from gazealign.explain.targets import TARGET_OUTPUTS
from gazealign.models.bundle import ModelBundle
from gazealign.models.small import small_vgg

#: Largest |fused - zennit| over a map, relative to the map's largest |value|.
TOLERANCE = 1e-5


def vgg_like(seed: int) -> nn.Sequential:
    """A VGG-shaped chain with what small_vgg lacks: a strided conv, a conv without bias,
    overlapping padded max-pooling, dropout, and a nested Sequential."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 6, 5, padding=2),
        nn.ReLU(),
        nn.Conv2d(6, 8, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1),
        nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.ReLU()),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 2 * 2, 16),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(16, 7),
    ).eval()


def leaky(seed: int) -> nn.Sequential:
    """LeakyReLU activations: the rules' negative-input terms are not zero here."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(6, 6, 3, padding=1),
        nn.LeakyReLU(0.2),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(6 * 8 * 8, 7),
    ).eval()


NETS = {
    "small_vgg": lambda seed: small_vgg(7, width=0.125, input_size_px=32).eval(),
    "vgg_like": vgg_like,
    "leaky": leaky,
}


def both_engines(
    model: nn.Module, name: str, target_output: str, seed: int
) -> tuple[torch.Tensor, torch.Tensor, dict[str, str]]:
    size = 16 if isinstance(model, nn.Sequential) else 32
    x = torch.from_numpy(np.random.default_rng(seed).normal(0, 60, (4, 3, size, size))).float()
    targets = torch.tensor([0, 3, 6, seed % 7])
    options = ExplainOptions()
    bounds = (torch.full((1, 3, 1, 1), -130.0), torch.full((1, 3, 1, 1), 160.0))
    composite, _ = make_composite(name, options, bounds, model)
    out_f, fused, record = composite_relevance(
        model, x, targets, composite, options, bounds, target_output=target_output
    )
    out_z, ref, _ = composite_relevance(
        model, x, targets, composite, options, bounds, target_output=target_output,
        engine="zennit",
    )  # fmt: skip
    torch.testing.assert_close(out_f, out_z, rtol=0, atol=0)
    return fused, ref, record


@pytest.mark.parametrize("target_output", TARGET_OUTPUTS)
@pytest.mark.parametrize("name", sorted(COMPOSITES))
@pytest.mark.parametrize("net", sorted(NETS))
def test_fused_maps_equal_zennit(net: str, name: str, target_output: str) -> None:
    seed = sorted(COMPOSITES).index(name)
    torch.manual_seed(seed)
    model = NETS[net](seed)
    fused, ref, record = both_engines(model, name, target_output, seed)
    assert record == {"engine": "fused"}
    scale = ref.abs().flatten(1).amax(dim=1)
    assert bool((scale > 0).all())  # real maps, not all zeros
    diff = (fused - ref).abs().flatten(1).amax(dim=1) / scale
    assert float(diff.max()) <= TOLERANCE, (net, name, target_output, diff)


def test_the_leaky_net_exercises_negative_inputs() -> None:
    # The signed branch of z+/gamma/alpha-beta only runs if a layer input has negative entries.
    model = leaky(0)
    x = torch.randn(2, 3, 16, 16) * 60
    assert bool((model[:2](x) < 0).any())


def fallback_reason(model: nn.Module, name: str = "epsilon_plus_flat") -> str:
    bounds = (torch.tensor(-1.0), torch.tensor(1.0))
    composite, _ = make_composite(name, ExplainOptions(), bounds, model)
    plan = fused_plan(model, composite, epsilon=1e-6, gamma=0.25, bounds=bounds)
    assert isinstance(plan, str)
    return plan


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.sum = Sum()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sum(torch.stack([x, self.conv(x)], dim=-1))


def test_what_the_fused_pass_does_not_reproduce_falls_back_to_zennit() -> None:
    bn = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU()).eval()
    assert "canonizers" in fallback_reason(bn)
    assert "forward" in fallback_reason(Residual().eval())
    assert "training" in fallback_reason(seq_vgg().train())
    avg = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1)).eval()
    assert "Norm on AdaptiveAvgPool2d" in fallback_reason(avg)
    shared = nn.ReLU()
    twice = nn.Sequential(nn.Conv2d(3, 4, 3), shared, nn.Conv2d(4, 4, 3), shared).eval()
    assert "twice" in fallback_reason(twice)


def test_fallback_runs_zennit_and_says_why() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten()).eval()
    model = nn.Sequential(*model, nn.Linear(4 * 14 * 14, 7)).eval()
    x = torch.randn(2, 3, 16, 16)
    bounds = (torch.tensor(-3.0), torch.tensor(3.0))
    options = ExplainOptions()
    composite, _ = make_composite("epsilon_gamma_box", options, bounds, model)
    _, rel, record = composite_relevance(model, x, torch.tensor([1, 2]), composite, options, bounds)
    _, ref, _ = composite_relevance(
        model, x, torch.tensor([1, 2]), composite, options, bounds, engine="zennit"
    )
    assert record == {"engine": "zennit", "engine_reason": "the composite has canonizers"}
    torch.testing.assert_close(rel, ref, rtol=0, atol=0)


def test_explain_records_the_engine_in_every_map() -> None:
    model = seq_vgg(1).eval()
    b: ModelBundle = make_bundle(model)
    images = np.random.default_rng(1).integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    for method, engine in [("lrp_epsilon_gamma_box", "fused"), ("lrp_epsilon", "fused")]:
        for e in explain(b, images, method=method, target=np.array([0, 1, 2])):
            assert e.record.params["engine"] == engine
            assert e.map.steps[0].params["engine"] == engine
