"""The LRP rules of zennit's composites, run as one explicit pass for plain feed-forward networks.

zennit (:mod:`gazealign.explain.lrp`) runs LRP as a modified autograd backward: every layer's
hook re-runs the layer's forward once per term of its rule (the gamma rule five times, z^B three
times), with parameters modified on every call, then takes autograd gradients of those passes,
while autograd also computes (and throws away) the plain input gradient of each layer. For a
network that is a chain of layers (a :class:`~gazealign.models.vggface.VGG` or an
``nn.Sequential``) the same relevance can be computed layer by layer without autograd, and with
less work per layer. zennit has no such path and captum's LRP re-implements fewer rules, so this
module hand-writes it, and zennit stays the reference: the tests require equal maps.

Per layer, with input ``x``, the layer's output ``z`` (kept from the forward pass), relevance
``R`` at its output and ``stab`` zennit's stabiliser (:func:`zennit.core.stabilize`):

* epsilon: ``x * W^T (R / stab(z))``; ``z`` is the forward pass's output, no re-run.
* z+ (``ZPlus``): one modified forward ``conv(x, W+, b+)`` and one transposed conv. The
  negative-input terms are exactly zero when ``x >= 0`` (after a ReLU or a max-pool of one);
  they are computed only where ``x`` has negative entries.
* gamma: the positive and negative passes ``conv(x, W + g W+, b + g b+)`` and
  ``conv(x, W + g W-, b + g b-)`` are one convolution with the two weights stacked on the output
  channels, and their two backward passes one transposed convolution (its sum over the stacked
  channels is the rule's sum); the sign mask comes from the kept ``z``.
* alpha-beta: as gamma, with ``W+`` and ``W-`` and the two passes' relevance scaled by
  ``alpha`` and ``-beta``.
* z^B (box, first layer): the passes on the constant bounds ``conv(l, W+, b+)`` and
  ``conv(h, W-, b-)`` do not depend on the image and are computed at batch size 1; the three
  backward passes are one transposed convolution with ``[W, W+, W-]`` stacked on the input
  channels.
* flat (first layer): ``conv(1, 1)`` does not depend on the image (batch size 1 again).
* ReLU and other activations pass relevance unchanged (zennit's ``Pass``); max-pooling routes it
  to the winning input (the pooling gradient, with the indices kept from the forward pass);
  flatten and eval-mode dropout are the identity.

Modified weights are computed once per call (one batch). The result equals zennit's up to float
rounding (sums taken in another order); anything this module does not reproduce exactly
(canonizers, sum layers, other rules or layer types, a model in training mode, a
model whose forward is not the chain of its layers) makes :func:`fused_plan` return the reason,
and the caller runs zennit instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.grad import conv2d_input
from zennit.core import Composite, stabilize
from zennit.rules import AlphaBeta, Epsilon, Flat, Gamma, Pass, ZBox, ZPlus

from gazealign.models.vggface import VGG

#: zennit's stabiliser for every rule but epsilon (the composites' ``stabilizer`` default; the
#: composites in :mod:`gazealign.explain.lrp` do not change it).
STABILIZER = 1e-6

_RULES: dict[type, str] = {
    Epsilon: "epsilon",
    ZPlus: "zplus",
    Gamma: "gamma",
    AlphaBeta: "alpha_beta",
    Flat: "flat",
}
_IDENTITY = (nn.Flatten, nn.Dropout, nn.Identity)
#: Layers with weights that a rule modifies.
Layer = nn.Conv2d | nn.Linear


@dataclass(frozen=True)
class FusedStep:
    """One layer of the chain and what its backward does (``epsilon``, ``zplus``, ``gamma``,
    ``alpha_beta``, ``flat``, ``zbox``, ``pass``, ``maxpool`` or ``identity``)."""

    module: nn.Module
    rule: str


@dataclass(frozen=True)
class FusedPlan:
    steps: tuple[FusedStep, ...]
    epsilon: float
    gamma: float
    bounds: tuple[torch.Tensor, torch.Tensor] | None
    alpha: float
    beta: float


def _chain(model: nn.Module) -> list[nn.Module] | None:
    """The layers ``model``'s forward runs one after the other, or None if it is not a chain."""
    if type(model).forward is VGG.forward:
        return [getattr(model, name) for name in model.layer_names]  # type: ignore[union-attr]
    if isinstance(model, nn.Sequential) and type(model).forward is nn.Sequential.forward:
        layers: list[nn.Module] = []
        for child in model:  # not children(): that skips a module's second use
            sub = _chain(child) if isinstance(child, nn.Sequential) else [child]
            if sub is None:
                return None
            layers += sub
        return layers
    return None


def _conv_ok(module: nn.Module) -> bool:
    return (
        isinstance(module, nn.Conv2d)
        and module.groups == 1
        and module.padding_mode == "zeros"
        and not isinstance(module.padding, str)
    )


def fused_plan(
    model: nn.Module,
    composite: Composite,
    *,
    epsilon: float,
    gamma: float,
    bounds: tuple[torch.Tensor, torch.Tensor] | None,
    alpha: float = 2.0,
    beta: float = 1.0,
) -> FusedPlan | str:
    """The fused pass equivalent to ``composite`` on ``model``, or why there is none.

    The rule of every layer is the one zennit would attach: the composite's own module map is
    asked, module by module in ``named_modules()`` order (which fixes zennit's "first layer").
    ``epsilon``, ``gamma``, ``bounds``, ``alpha`` and ``beta`` are the values the composite
    was built with (alpha 2, beta 1 in every composite of :mod:`gazealign.explain.lrp`).
    """
    if composite.canonizers:
        return "the composite has canonizers"
    if model.training:
        return "the model is in training mode"
    layers = _chain(model)
    if layers is None:
        return f"{type(model).__name__}'s forward is not a chain of its layers"
    if len({id(m) for m in layers}) != len(layers):
        return "a layer is used twice"
    ctx: dict[str, object] = {}
    hooks = {id(m): composite.module_map(ctx, name, m) for name, m in model.named_modules()}
    steps = []
    for layer in layers:
        if next(layer.children(), None) is not None:
            return f"{type(layer).__name__} is not a leaf module"
        hook = hooks.get(id(layer))
        kind = type(layer).__name__
        if isinstance(layer, nn.Linear) or _conv_ok(layer):
            if type(hook) is ZBox and isinstance(layer, nn.Conv2d):
                if bounds is None:
                    return "a box rule without bounds"
                rule = "zbox"
            elif type(hook) in _RULES:
                rule = _RULES[type(hook)]
            else:
                return f"rule {type(hook).__name__} on {kind}"
        elif type(hook) is Pass and not isinstance(layer, nn.modules.batchnorm._BatchNorm):
            rule = "pass"
        elif hook is None and isinstance(layer, nn.MaxPool2d) and not layer.return_indices:
            rule = "maxpool"
        elif hook is None and isinstance(layer, _IDENTITY):
            rule = "identity"
        else:
            hook_name = "no rule" if hook is None else type(hook).__name__
            return f"{hook_name} on {kind}"
        steps.append(FusedStep(layer, rule))
    return FusedPlan(tuple(steps), epsilon, gamma, bounds, alpha, beta)


def _forward(
    module: Layer, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    if isinstance(module, nn.Conv2d):
        return F.conv2d(x, weight, bias, module.stride, module.padding, module.dilation)
    return F.linear(x, weight, bias)


def _backward(
    module: Layer, in_shape: tuple[int, ...], weight: torch.Tensor, grad: torch.Tensor
) -> torch.Tensor:
    """The input gradient of ``_forward(module, ., weight)`` for output gradient ``grad``."""
    if isinstance(module, nn.Conv2d):
        stride, padding, dilation = module.stride, module.padding, module.dilation
        return conv2d_input(in_shape, weight, grad, stride, padding, dilation)
    return grad @ weight


def _clamp(t: torch.Tensor | None, **kw: float) -> torch.Tensor | None:
    return None if t is None else t.clamp(**kw)


def _gamma_mod(t: torch.Tensor | None, gamma: float, **kw: float) -> torch.Tensor | None:
    return None if t is None else t + gamma * t.clamp(**kw)


def _cat(parts: list[torch.Tensor | None], dim: int) -> torch.Tensor | None:
    if all(p is None for p in parts):
        return None
    return torch.cat([p for p in parts if p is not None], dim=dim)


def _stab(z: torch.Tensor, epsilon: float = STABILIZER) -> torch.Tensor:
    out: torch.Tensor = stabilize(z, epsilon)
    return out


def _nonneg(x: torch.Tensor) -> bool:
    return not bool((x < 0).any())


def _zplus(m: Layer, x: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    w, b = m.weight, m.bias
    wp, bp = w.clamp(min=0), _clamp(b, min=0)
    if _nonneg(x):
        return x * _backward(m, x.shape, wp, r / _stab(_forward(m, x, wp, bp)))
    wn = w.clamp(max=0)
    xp, xn = x.clamp(min=0), x.clamp(max=0)
    s = r / _stab(_forward(m, xp, wp, bp) + _forward(m, xn, wn, None))
    return xp * _backward(m, x.shape, wp, s) + xn * _backward(m, x.shape, wn, s)


def _two_sided(
    m: Layer,
    x: torch.Tensor,
    weights: tuple[torch.Tensor, torch.Tensor],
    biases: tuple[torch.Tensor | None, torch.Tensor | None],
    r_pos: torch.Tensor,
    r_neg: torch.Tensor,
) -> torch.Tensor:
    """The gamma and alpha-beta rules: relevance ``r_pos`` through the positive pass
    ``conv(x+, w_pos, b_pos) + conv(x-, w_neg)`` and ``r_neg`` through the negative one
    ``conv(x+, w_neg, b_neg) + conv(x-, w_pos)``, each divided by its pass's output."""
    (wp, wn), (bp, bn) = weights, biases
    if _nonneg(x):  # the x- passes are exactly 0: one stacked conv forward, one backward
        w2 = torch.cat([wp, wn])
        both = _forward(m, x, w2, None if bp is None or bn is None else torch.cat([bp, bn]))
        o_pos, o_neg = both.chunk(2, dim=1)
        s = torch.cat([r_pos / _stab(o_pos), r_neg / _stab(o_neg)], dim=1)
        return x * _backward(m, x.shape, w2, s)
    xp, xn = x.clamp(min=0), x.clamp(max=0)
    s_pos = r_pos / _stab(_forward(m, xp, wp, bp) + _forward(m, xn, wn, None))
    s_neg = r_neg / _stab(_forward(m, xp, wn, bn) + _forward(m, xn, wp, None))
    return (
        xp * _backward(m, x.shape, wp, s_pos)
        + xn * _backward(m, x.shape, wn, s_pos)
        + xp * _backward(m, x.shape, wn, s_neg)
        + xn * _backward(m, x.shape, wp, s_neg)
    )


def _gamma(
    m: Layer, x: torch.Tensor, z: torch.Tensor, r: torch.Tensor, gamma: float
) -> torch.Tensor:
    w, b = m.weight, m.bias
    weights = (w + gamma * w.clamp(min=0), w + gamma * w.clamp(max=0))
    biases = (_gamma_mod(b, gamma, min=0), _gamma_mod(b, gamma, max=0))
    return _two_sided(m, x, weights, biases, (z > 0) * r, (z < 0) * r)


def _alpha_beta(
    m: Layer, x: torch.Tensor, r: torch.Tensor, alpha: float, beta: float
) -> torch.Tensor:
    w, b = m.weight, m.bias
    weights = (w.clamp(min=0), w.clamp(max=0))
    biases = (_clamp(b, min=0), _clamp(b, max=0))
    return _two_sided(m, x, weights, biases, alpha * r, -beta * r)


def _zbox(
    m: Layer,
    x: torch.Tensor,
    z: torch.Tensor,
    r: torch.Tensor,
    bounds: tuple[torch.Tensor, torch.Tensor],
) -> torch.Tensor:
    w, b = m.weight, m.bias
    one = (1, *x.shape[1:])
    low, high = (t.to(x).expand(one) for t in bounds)
    wp, wn = w.clamp(min=0), w.clamp(max=0)
    o_low = _forward(m, low, wp, _clamp(b, min=0))
    o_high = _forward(m, high, wn, _clamp(b, max=0))
    s = r / _stab(z - (o_low + o_high))
    in_shape = (x.shape[0], 3 * x.shape[1], *x.shape[2:])
    c, c_low, c_high = _backward(m, in_shape, torch.cat([w, wp, wn], dim=1), s).chunk(3, dim=1)
    return x * c - (low * c_low + high * c_high)


def _flat(m: Layer, x: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    ones_w = torch.ones_like(m.weight)
    z = _forward(m, torch.ones((1, *x.shape[1:]), dtype=x.dtype, device=x.device), ones_w, None)
    return _backward(m, x.shape, ones_w, r / _stab(z))


def _layer_backward(
    plan: FusedPlan, rule: str, m: Layer, a: torch.Tensor, z: torch.Tensor, r: torch.Tensor
) -> torch.Tensor:
    """Relevance at the input ``a`` of conv/dense layer ``m`` (output ``z``, relevance ``r``)."""
    if rule == "epsilon":
        return a * _backward(m, a.shape, m.weight, r / _stab(z, plan.epsilon))
    if rule == "zplus":
        return _zplus(m, a, r)
    if rule == "gamma":
        return _gamma(m, a, z, r, plan.gamma)
    if rule == "alpha_beta":
        return _alpha_beta(m, a, r, plan.alpha, plan.beta)
    if rule == "zbox":
        assert plan.bounds is not None
        return _zbox(m, a, z, r, plan.bounds)
    assert rule == "flat", rule
    return _flat(m, a, r)


def fused_lrp(
    plan: FusedPlan, x: torch.Tensor, start: Callable[[torch.Tensor], torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """(output, input relevance) of ``plan`` for input ``x``; ``start(output)`` is the output
    relevance (zennit's ``attr_output``)."""
    inputs: list[torch.Tensor] = []
    outputs: list[torch.Tensor] = []
    indices: dict[int, torch.Tensor] = {}
    with torch.no_grad():
        h = x.detach()
        for i, step in enumerate(plan.steps):
            inputs.append(h)
            m = step.module
            if step.rule == "maxpool":
                assert isinstance(m, nn.MaxPool2d)
                h, indices[i] = F.max_pool2d(
                    h, m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode, True
                )
            else:
                h = m(h)
            outputs.append(h)
        output = h
        r = start(output)
        for i in reversed(range(len(plan.steps))):
            step, a, z = plan.steps[i], inputs[i], outputs[i]
            m = step.module
            if isinstance(m, Layer):
                r = _layer_backward(plan, step.rule, m, a, z, r)
            elif step.rule == "maxpool":
                assert isinstance(m, nn.MaxPool2d)
                r = torch.ops.aten.max_pool2d_with_indices_backward(
                    r, a, _pair(m.kernel_size), _pair(m.stride), _pair(m.padding),
                    _pair(m.dilation), m.ceil_mode, indices[i],
                )  # fmt: skip
            elif step.rule == "identity":
                r = r.reshape(a.shape)
            # "pass": relevance unchanged
    return output, r


def _pair(v: int | tuple[int, ...]) -> list[int]:
    return [v, v] if isinstance(v, int) else list(v)
