"""zennit's LRP-epsilon (through our composite) equals a naive matrix-form implementation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gazealign.explain import ExplainOptions, evaluation_mode
from gazealign.explain.lrp import lrp_relevance, make_composite
from reference import explain_lrp_naive as naive


def fc_net(seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 4)
    ).double()


def conv_net(seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(8 * 2 * 2, 12),
        nn.ReLU(),
        nn.Linear(12, 3),
    ).double()


def zennit_epsilon(model: nn.Module, x: torch.Tensor, target: int, eps: float) -> np.ndarray:
    composite, _ = make_composite("epsilon", ExplainOptions(epsilon=eps), (x.min(), x.max()), model)
    with evaluation_mode(model):
        _, rel = lrp_relevance(model, x, torch.tensor([target]), composite)
    return rel[0].numpy()


# eps = 1e-6 is the default; 0.5 makes the stabiliser matter, so its sign convention is tested.
@pytest.mark.parametrize("eps", [1e-6, 0.5])
@pytest.mark.parametrize("seed", range(4))
def test_fc_matches_naive(seed: int, eps: float) -> None:
    model = fc_net(seed)
    x = torch.from_numpy(np.random.default_rng(seed).normal(scale=2.0, size=(1, 12)))
    target = seed % 4
    _, expected = naive.lrp_epsilon(naive.layers_from_torch(model), x[0].numpy(), target, eps)
    got = zennit_epsilon(model, x, target, eps)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    assert np.abs(expected).sum() > 1e-3  # a real explanation, not all zeros


@pytest.mark.parametrize("eps", [1e-6, 0.5])
@pytest.mark.parametrize("seed", range(4))
def test_conv_maxpool_matches_naive(seed: int, eps: float) -> None:
    model = conv_net(seed)
    x = torch.from_numpy(np.random.default_rng(100 + seed).normal(scale=2.0, size=(1, 3, 8, 8)))
    target = seed % 3
    logits, expected = naive.lrp_epsilon(naive.layers_from_torch(model), x[0].numpy(), target, eps)
    np.testing.assert_allclose(logits, model(x)[0].detach().numpy(), rtol=1e-12)
    got = zennit_epsilon(model, x, target, eps)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    assert np.abs(expected).sum() > 1e-3


def test_naive_maxpool_is_winner_take_all() -> None:
    """The reference's own max-pool step: all relevance of a window goes to its maximum."""
    a = np.array([1.0, 3.0, 2.0, 0.5])  # one channel, 2x2 input, one 2x2 window
    mat, shape = naive.maxpool_matrix(a, (1, 2, 2), 2, 2)
    assert shape == (1, 1, 1)
    np.testing.assert_array_equal(mat.T @ np.array([7.0]), [0.0, 7.0, 0.0, 0.0])


def test_naive_stabiliser_sign_convention() -> None:
    """z + eps * sign(z), with sign(0) = +1 (zennit.core.stabilize)."""
    np.testing.assert_array_equal(
        naive.stabilise(np.array([-2.0, 0.0, 3.0]), 0.5), [-2.5, 0.5, 3.5]
    )
