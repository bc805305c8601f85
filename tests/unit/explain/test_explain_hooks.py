"""An error in the middle of an explanation leaves the model exactly as it was.

The net has BatchNorm, so LRP merges it into the conv before it (zennit's canonizer changes the
parameters in place inside the ``with`` block) and every layer gets a rule hook: both must be
undone when the backward pass raises.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from explain_nets import bundle
from torch import nn

from gazealign.explain import explain


class Boom(RuntimeError):
    pass


class _RaiseInBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        return x.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        raise Boom("injected in the middle of the backward pass")


class Tripwire(nn.Module):
    """Identity forward; raises during the backward pass once armed."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _RaiseInBackward.apply(x) if self.armed else x


def net_with_tripwire() -> tuple[nn.Sequential, Tripwire]:
    torch.manual_seed(0)
    trip = Tripwire()
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3, padding=1),
        nn.ReLU(),
        trip,
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 7),
    )
    bn = net[1]
    assert isinstance(bn, nn.BatchNorm2d)
    with torch.no_grad():  # non-trivial running statistics, so a merge changes the conv weights
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 2)
    return net, trip


def hook_count(model: nn.Module) -> int:
    return sum(
        len(m._forward_hooks)
        + len(m._forward_pre_hooks)
        + len(m._backward_hooks)
        + len(getattr(m, "_backward_pre_hooks", {}))
        for m in model.modules()
    )


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize(
    "method", ["lrp_epsilon_plus_flat", "lrp_epsilon_gamma_box", "gradcam", "integrated_gradients"]
)
def test_error_mid_explanation_leaves_model_unchanged(method: str) -> None:
    net, trip = net_with_tripwire()
    net.train()  # the caller's mode must come back too
    before = snapshot(net)
    hooks_before = hook_count(net)
    images = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    b = bundle(net, size_px=8)

    trip.armed = True
    with pytest.raises(Boom):
        explain(b, images, method=method)

    assert hook_count(net) == hooks_before == 0
    after = snapshot(net)
    assert after.keys() == before.keys()
    for name in before:
        assert torch.equal(after[name], before[name]), name
    assert all(m.training for m in net.modules())

    # and the model still explains correctly afterwards: same as a fresh copy of the net
    trip.armed = False
    fresh, _ = net_with_tripwire()
    a = explain(b, images, method=method, sign="signed")
    c = explain(bundle(fresh, size_px=8), images, method=method, sign="signed")
    for x, y in zip(a, c, strict=True):
        np.testing.assert_allclose(x.map.values, y.map.values, rtol=1e-5, atol=1e-7)
