"""Conservation of LRP relevance on a small VGG, and the flag when it does not hold.

Stated tolerance: with epsilon-type composites the input relevance equals the target logit
minus what the biases and the epsilon stabiliser absorb. On a bias-free VGG in float64 only the
stabiliser (epsilon = 1e-9 here) is left, so the sum matches the logit to 1e-6 relative. With
biases, the shortfall is real LRP behaviour; it is reported through the conservation flag
(default tolerance 0.1 relative), never hidden.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from explain_nets import bundle, small_vgg

from gazealign.explain import ExplainOptions, explain

LRP = [
    "lrp_epsilon",
    "lrp_epsilon_plus_flat",
    "lrp_epsilon_gamma_box",
    "lrp_epsilon_alpha2_beta1",
    "lrp_epsilon_alpha2_beta1_flat",
]


def images(n: int, seed: int, size_px: int = 16) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size_px, size_px, 3), dtype=np.uint8)


@pytest.mark.parametrize("method", LRP)
def test_bias_free_vgg_conserves_the_logit(method: str) -> None:
    b = bundle(small_vgg(1, bias=False).double())
    opts = ExplainOptions(epsilon=1e-9)
    results = explain(b, images(4, 1), method=method, options=opts, sign="signed")
    for r in results:
        assert r.record.conservation == "logit"
        assert abs(r.record.logit) > 1e-3
        assert r.record.relevance_sum == pytest.approx(r.record.logit, rel=1e-6)
        assert not r.record.conservation_violated
        # the signed map keeps the total: the channel sum is a sum, not a rescaling
        assert r.map.values.sum() == pytest.approx(r.record.relevance_sum, rel=1e-12)


def test_biases_absorbing_relevance_are_flagged() -> None:
    """A net whose logit is mostly bias: relevance falls far short of it, and the flag says so."""
    model = small_vgg(2).double()
    last = model[-1]
    with torch.no_grad():
        last.bias += 50.0  # every logit is now about 50 from the bias alone
    b = bundle(model, preprocessing="thesis")
    results = explain(b, images(3, 2), method="lrp_epsilon_plus_flat", sign="signed")
    for r in results:
        assert r.record.logit > 40
        assert abs(r.record.conservation_ratio) < 0.5
        assert r.record.conservation_violated


def test_methods_without_conservation_are_not_flagged() -> None:
    b = bundle(small_vgg(3))
    (r,) = explain(b, images(1, 3), method="gradient_x_input")
    assert r.record.conservation == "none"
    assert np.isnan(r.record.conservation_ratio)
    assert not r.record.conservation_violated
