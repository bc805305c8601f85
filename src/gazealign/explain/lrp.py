"""Layer-wise relevance propagation through zennit (Montavon et al. 2019; Kohlbrenner et al. 2020).

A composite (which rule on which layer) is chosen by name and built from zennit's rules;
zennit's ``Gradient`` attributor runs the modified backward pass inside a ``with`` block (hooks
and canonizer changes are undone on exit, also on error). For chains of conv, dense, ReLU,
max-pool and flatten layers (VGG) the same rules run as one fused pass
(:mod:`gazealign.explain.lrp_fused`, 2-3x faster, equal maps up to float rounding); every map
records which engine ran (``engine``: ``fused`` or ``zennit`` with ``engine_reason``). The output
relevance is the target logit (one-hot times the model output): logits are explained, not
softmax, so with epsilon-type rules the input relevance sums to about the target logit. The
contrastive and softmax-gradient targets start from another output relevance
(:mod:`gazealign.explain.targets`); the conservation check then compares with its sum.

Composites (dense layers always get the epsilon rule; max-pooling passes relevance to the
winning input, zennit's gradient routing; ReLU modules pass relevance unchanged):

* ``epsilon``: epsilon rule on every conv and dense layer (LRP-epsilon, Bach et al. 2015).
* ``epsilon_plus_flat`` (default): flat rule on the first layer, z+ on convs.
* ``epsilon_gamma_box``: z^B (box) rule on the first layer with the bundle's input bounds,
  gamma rule on convs.
* ``epsilon_alpha2_beta1``: alpha=2, beta=1 on convs (including the first).
* ``epsilon_alpha2_beta1_flat``: flat on the first layer, alpha2-beta1 on the other convs.

Networks with BatchNorm get zennit's ``SequentialMergeBatchNorm`` canonizer (the merge is undone
when the ``with`` block ends). Networks with residual or dense additions written as zennit ``Sum``
layers (the zoo's mini-Xception and FaceExpressionNet) get :class:`PositiveShareSum` on them in
every composite but ``epsilon``: zennit's default for ``Sum`` (``Norm``, a share proportional to each signed
branch) divides by the branches' total, which nearly cancels where a positive and a negative
branch meet, and relevance then grows without bound (measured: input relevance 1e7 against a
logit of 3 under alpha2-beta1 on FaceExpressionNet; ``benchmarks/zoo_lrp.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from zennit.attribution import Gradient
from zennit.canonizers import SequentialMergeBatchNorm
from zennit.composites import (
    EpsilonAlpha2Beta1,
    EpsilonAlpha2Beta1Flat,
    EpsilonGammaBox,
    EpsilonPlusFlat,
    LayerMapComposite,
    layer_map_base,
)
from zennit.core import BasicHook, Composite, Stabilizer
from zennit.layer import Sum
from zennit.rules import Epsilon, NoMod
from zennit.types import Convolution, Linear

from gazealign.errors import GazeAlignError
from gazealign.explain.base import Attribution, ExplainOptions, Method, register
from gazealign.explain.lrp_fused import fused_lrp, fused_plan
from gazealign.explain.targets import OutputSeed, output_seed
from gazealign.models.bundle import ModelBundle

Bounds = tuple[torch.Tensor, torch.Tensor]
#: (module types, rule) pairs placed ahead of a composite's own layer map.
LayerMap = list[tuple[Any, Any]]
CompositeFactory = Callable[
    [ExplainOptions, Bounds, list[Any], LayerMap], tuple[Composite, dict[str, Any]]
]


class PositiveShareSum(BasicHook):
    """LRP for an elementwise sum of branches: each branch's share of its positive contribution.

    R_k = a_k^+ / (sum_j a_j^+ + stabiliser) * R: the z+ rule of a sum with unit weights
    (Montavon et al. 2017, deep Taylor decomposition). The shares lie in [0, 1] and add up to
    1 wherever a branch is positive, so a sum conserves relevance and never amplifies it.
    """

    def __init__(self, stabilizer: float = 1e-6) -> None:
        stab = Stabilizer.ensure(stabilizer)
        super().__init__(
            input_modifiers=[lambda x: x.clamp(min=0)],
            param_modifiers=[NoMod(param_keys=[])],
            output_modifiers=[lambda out: out],
            gradient_mapper=lambda grad, outputs: grad / stab(outputs[0]),
            reducer=lambda inputs, gradients: inputs[0] * gradients[0],
        )


def _epsilon(
    opts: ExplainOptions, bounds: Bounds, canon: list[Any], extra: LayerMap
) -> tuple[Composite, dict[str, Any]]:
    layer_map = [*extra, *layer_map_base(), ((Convolution, Linear), Epsilon(epsilon=opts.epsilon))]
    return LayerMapComposite(layer_map=layer_map, canonizers=canon), {"epsilon": opts.epsilon}


def _epsilon_plus_flat(
    opts: ExplainOptions, bounds: Bounds, canon: list[Any], extra: LayerMap
) -> tuple[Composite, dict[str, Any]]:
    composite = EpsilonPlusFlat(epsilon=opts.epsilon, canonizers=canon, layer_map=list(extra))
    return composite, {"epsilon": opts.epsilon}


def _epsilon_gamma_box(
    opts: ExplainOptions, bounds: Bounds, canon: list[Any], extra: LayerMap
) -> tuple[Composite, dict[str, Any]]:
    low, high = bounds
    composite = EpsilonGammaBox(
        low=low,
        high=high,
        epsilon=opts.epsilon,
        gamma=opts.gamma,
        canonizers=canon,
        layer_map=list(extra),
    )
    params = {
        "epsilon": opts.epsilon,
        "gamma": opts.gamma,
        "low": low.flatten().tolist(),
        "high": high.flatten().tolist(),
    }
    return composite, params


def _epsilon_alpha2_beta1(
    opts: ExplainOptions, bounds: Bounds, canon: list[Any], extra: LayerMap
) -> tuple[Composite, dict[str, Any]]:
    params = {"epsilon": opts.epsilon, "alpha": 2.0, "beta": 1.0}
    composite = EpsilonAlpha2Beta1(epsilon=opts.epsilon, canonizers=canon, layer_map=list(extra))
    return composite, params


def _epsilon_alpha2_beta1_flat(
    opts: ExplainOptions, bounds: Bounds, canon: list[Any], extra: LayerMap
) -> tuple[Composite, dict[str, Any]]:
    params = {"epsilon": opts.epsilon, "alpha": 2.0, "beta": 1.0}
    composite = EpsilonAlpha2Beta1Flat(
        epsilon=opts.epsilon, canonizers=canon, layer_map=list(extra)
    )
    return composite, params


#: Composite name -> factory.
COMPOSITES: dict[str, CompositeFactory] = {
    "epsilon": _epsilon,
    "epsilon_plus_flat": _epsilon_plus_flat,
    "epsilon_gamma_box": _epsilon_gamma_box,
    "epsilon_alpha2_beta1": _epsilon_alpha2_beta1,
    "epsilon_alpha2_beta1_flat": _epsilon_alpha2_beta1_flat,
}


def canonizers_for(model: nn.Module) -> list[Any]:
    """zennit canonizers the model needs: BatchNorm merged into the layer before it."""
    has_bn = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    return [SequentialMergeBatchNorm()] if has_bn else []


def make_composite(
    name: str, options: ExplainOptions, bounds: Bounds, model: nn.Module
) -> tuple[Composite, dict[str, Any]]:
    """The zennit composite ``name`` and the parameters to record for it."""
    try:
        factory = COMPOSITES[name]
    except KeyError:
        raise GazeAlignError(
            f"unknown LRP composite {name!r}; available: {', '.join(sorted(COMPOSITES))}"
        ) from None
    canon = canonizers_for(model)
    # The plain epsilon composite keeps zennit's Norm on sums: it is the epsilon rule of a sum,
    # and combined with epsilon convs it stays bounded where the positive share does not
    # (measured in benchmarks/zoo_real_photos.py).
    has_sum = name != "epsilon" and any(isinstance(m, Sum) for m in model.modules())
    extra: LayerMap = [(Sum, PositiveShareSum())] if has_sum else []
    composite, params = factory(options, bounds, canon, extra)
    return composite, {
        "composite": name,
        **params,
        "canonizers": [type(c).__name__ for c in canon],
        "maxpool": "winner_take_all",
        **({"sum": "positive_share"} if has_sum else {}),
    }


def lrp_relevance(
    model: nn.Module,
    x: torch.Tensor,
    targets: torch.Tensor,
    composite: Composite,
    *,
    target_output: str = "logit",
) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits (N, K), input relevance (N, C, H, W)) of ``targets`` under ``composite``.

    The output relevance is the seed of ``target_output`` computed from the logits of this
    forward pass (:func:`gazealign.explain.targets.output_seed`); for ``logit`` it is
    one-hot(target) times the logits, so the relevance at the input sums to about the target
    logit. Works in ``x``'s dtype (float64 for reference tests). The model must be in eval mode
    (the caller's job; see ``evaluation_mode``).
    """
    x = x.detach().clone().requires_grad_(True)

    def start(output: torch.Tensor) -> torch.Tensor:
        return output_seed(output, targets, target_output).relevance

    # zennit removes its hooks and undoes canonizers when this block exits, also on error.
    with Gradient(model=model, composite=composite) as attributor:
        output, relevance = attributor(x, start)
    return output.detach(), relevance.detach()


#: How the relevance is computed: ``auto`` runs the fused pass
#: (:mod:`gazealign.explain.lrp_fused`) where it reproduces the composite and zennit elsewhere;
#: ``zennit`` always runs zennit (the reference).
ENGINES = ("auto", "zennit")


def composite_relevance(
    model: nn.Module,
    x: torch.Tensor,
    targets: torch.Tensor,
    composite: Composite,
    options: ExplainOptions,
    bounds: Bounds,
    *,
    target_output: str = "logit",
    engine: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor, dict[str, str]]:
    """:func:`lrp_relevance`, through the fused pass where it is exact for ``composite``.

    ``composite`` must have been built by :func:`make_composite` with ``options`` and
    ``bounds``. Returns (logits, input relevance, record) where the record says which engine
    ran (``{"engine": "fused"}``, or ``"zennit"`` with the reason the fused pass does not apply).
    """
    if engine not in ENGINES:
        raise GazeAlignError(f"unknown LRP engine {engine!r}; expected one of {ENGINES}")
    plan = (
        fused_plan(model, composite, epsilon=options.epsilon, gamma=options.gamma, bounds=bounds)
        if engine == "auto"
        else "engine 'zennit' requested"
    )
    if isinstance(plan, str):
        output, relevance = lrp_relevance(model, x, targets, composite, target_output=target_output)
        return output, relevance, {"engine": "zennit", "engine_reason": plan}

    def start(output: torch.Tensor) -> torch.Tensor:
        return output_seed(output, targets, target_output).relevance

    output, relevance = fused_lrp(plan, x, start)
    return output, relevance, {"engine": "fused"}


def _lrp_method(composite_name: str) -> Callable[..., Attribution]:
    def compute(
        bundle: ModelBundle,
        x: torch.Tensor,
        targets: torch.Tensor,
        options: ExplainOptions,
        *,
        seed: OutputSeed | None = None,
    ) -> Attribution:
        low, high = bundle.input_bounds()  # (1, 3, 1, 1) each; zennit broadcasts them
        bounds = (low.to(x), high.to(x))
        composite, params = make_composite(composite_name, options, bounds, bundle.model)
        kind = "logit" if seed is None else seed.kind
        output, relevance, engine = composite_relevance(
            bundle.model, x, targets, composite, options, bounds, target_output=kind
        )
        start = output_seed(output, targets, kind).relevance
        return Attribution(
            relevance=relevance,
            reference=start.sum(dim=1),
            params={**params, **engine},
            reference_scale=start.abs().sum(dim=1),
        )

    return compute


_DESCRIPTIONS = {
    "epsilon": "LRP-epsilon on every layer",
    "epsilon_plus_flat": "LRP: flat first layer, z+ convs, epsilon dense (default)",
    "epsilon_gamma_box": "LRP: z^B first layer (input bounds), gamma convs, epsilon dense",
    "epsilon_alpha2_beta1": "LRP: alpha2-beta1 convs, epsilon dense",
    "epsilon_alpha2_beta1_flat": "LRP: flat first layer, alpha2-beta1 convs, epsilon dense",
}

for _name in COMPOSITES:
    register(
        Method(
            name=f"lrp_{_name}",
            description=_DESCRIPTIONS[_name],
            compute=_lrp_method(_name),
            conservation="logit",
            seeded=True,
        )
    )
