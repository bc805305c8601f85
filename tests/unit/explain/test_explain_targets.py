"""Target outputs (logit, contrastive, SGLRP): seeds from their formulas, maps from their definitions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from explain_nets import bundle, small_vgg

from gazealign.errors import GazeAlignError
from gazealign.explain import ExplainOptions, base, explain
from gazealign.explain.base import Method, register
from gazealign.explain.targets import output_seed


def _images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 16, 16, 3), dtype=np.uint8)


def test_seeds_follow_their_formulas() -> None:
    z = torch.tensor([[2.0, -1.0, 0.5, 3.0], [0.0, 1.0, -2.0, 1.0]], dtype=torch.float64)
    t = torch.tensor([0, 2])
    logit = output_seed(z, t, "logit")
    assert torch.equal(logit.relevance, torch.tensor([[2.0, 0, 0, 0], [0, 0, -2.0, 0]]).double())
    assert torch.equal(logit.gradient, torch.tensor([[1.0, 0, 0, 0], [0, 0, 1.0, 0]]).double())
    # Contrastive (Gu et al. 2018, type-1 dual): others weighted by |z_j| / sum |z_k|, k != t.
    c = output_seed(z, t, "contrastive")
    w0 = np.array([0, 1.0, 0.5, 3.0]) / 4.5
    expected_g0 = np.array([1.0, 0, 0, 0]) - w0
    np.testing.assert_allclose(c.gradient[0].numpy(), expected_g0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(c.relevance[0].numpy(), 2.0 * expected_g0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(c.relevance.sum(1).numpy(), 0.0, atol=1e-14)
    # SGLRP (Iwana et al. 2019): the gradient of softmax y_t with respect to the logits.
    s = output_seed(z, t, "sglrp")
    for i in range(2):
        zi = z[i].clone().requires_grad_(True)
        torch.softmax(zi, 0)[int(t[i])].backward()
        assert zi.grad is not None
        np.testing.assert_allclose(s.gradient[i].numpy(), zi.grad.numpy(), atol=1e-15)
    assert torch.equal(s.relevance, s.gradient)
    with pytest.raises(GazeAlignError, match="unknown target output"):
        output_seed(z, t, "softmax")


def test_contrastive_dual_of_all_zero_others_is_their_mean() -> None:
    z = torch.tensor([[1.0, 0.0, 0.0]])
    g = output_seed(z, torch.tensor([0]), "contrastive").gradient
    assert torch.equal(g, torch.tensor([[1.0, -0.5, -0.5]]))


def test_gradient_x_input_explains_the_seeded_function() -> None:
    """On a linear network z = W x, gradient x input is x * (W^T g) exactly, for every target."""
    pytest.importorskip("captum")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, 7, bias=False))
    net = net.double()
    b = bundle(net, preprocessing="thesis")
    imgs = _images(3, 1)
    x = b.preprocess(imgs).double()
    weight = net[1].weight.detach()
    with torch.no_grad():
        z = net(x)
    targets = torch.tensor([0, 3, 6])
    for kind in ("logit", "contrastive", "sglrp"):
        got = explain(
            b, imgs, method="gradient_x_input", target=targets.numpy(), target_output=kind,
            sign="signed",
        )  # fmt: skip
        g = output_seed(z, targets, kind).gradient
        for i, e in enumerate(got):
            expected = (x[i] * (g[i] @ weight).view(3, 16, 16)).sum(0).numpy()
            np.testing.assert_allclose(e.map.values, expected, rtol=1e-10, atol=1e-12)
            assert e.record.target_output == kind
            assert e.map.steps[0].params["target_output"] == kind


@pytest.mark.parametrize("kind", ["contrastive", "sglrp"])
def test_lrp_epsilon_is_linear_in_the_seed_and_conserves_it(kind: str) -> None:
    """LRP-epsilon with a zero-sum seed = the seed-weighted sum of per-class maps; sums to ~0."""
    b = bundle(small_vgg(3, bias=False).double())
    imgs = _images(2, 2)
    opts = ExplainOptions(epsilon=1e-9)
    got = explain(
        b, imgs, method="lrp_epsilon", target=[1, 4], target_output=kind, sign="signed",
        options=opts,
    )  # fmt: skip
    x = b.preprocess(imgs).double()
    with torch.no_grad():
        z = b.model(x)
    seed = output_seed(z, torch.tensor([1, 4]), kind).relevance
    per_class = [
        explain(b, imgs, method="lrp_epsilon", target=[k, k], sign="signed", options=opts)
        for k in range(7)
    ]
    for i, e in enumerate(got):
        # A one-hot logit seed at class k starts from z_k: rescale it to the seed's value.
        combined = sum(float(seed[i, k] / z[i, k]) * per_class[k][i].map.values for k in range(7))
        np.testing.assert_allclose(e.map.values, combined, rtol=1e-7, atol=1e-12)
        assert abs(e.record.relevance_sum) < 1e-6 * float(seed[i].abs().sum())
        assert not e.record.conservation_violated


def test_a_method_without_seed_explains_the_logit_only() -> None:
    def compute(b, x, targets, options):  # type: ignore[no-untyped-def]
        raise AssertionError("not reached")

    register(Method("test_unseeded", "a plug-in without seeds", compute, "none"))
    try:
        with pytest.raises(GazeAlignError, match="explains the target logit only"):
            explain(bundle(small_vgg()), _images(1), method="test_unseeded", target_output="sglrp")
    finally:
        base.EXPLAINERS.remove("test_unseeded")
