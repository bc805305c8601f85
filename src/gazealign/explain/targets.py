"""What of the target class is explained: the output relevance (LRP) or output gradient seed.

Every method explains a function of the network's logits ``z`` (N, K) for a target class ``t``.
The choice is a scientific parameter (``explain.target_output``), recorded with every map:

* ``logit``: the target logit ``z_t``. LRP starts from relevance ``z_t`` at output ``t`` (0
  elsewhere); gradient methods differentiate ``z_t``. Modified-backprop rules (z+, alpha-beta)
  then give nearly the same map for every class (Sixt, Granz & Landgraf 2020, "When explanations
  lie"), so this target is not class-discriminative.
* ``contrastive``: the target against the other classes (contrastive LRP, Gu, Yang & Tresp 2018,
  ACCV, "type 1" dual). The dual is the other outputs weighted by their magnitude,
  ``w_j = |z_j| / sum_{k != t} |z_k|``; the output gradient is ``g = e_t - w`` and LRP starts from
  relevance ``z_t * g``: the target's relevance minus the dual's, normalised to the same total.
  Gu et al. normalise the two input maps to the same sum; here the normalisation is done at the
  output, which is the same where relevance is conserved and needs one backward pass, not two.
  The map sums to about 0: its positive part is what speaks for ``t`` more than for the rest.
* ``sglrp``: softmax-gradient LRP (Iwana, Kuroki & Uchida 2019, ICCVW): the seed is the gradient
  of the softmax probability ``y_t`` with respect to the logits, ``y_t (e_t - y)``: ``y_t (1 - y_t)``
  at ``t`` and ``-y_t y_k`` at every other class ``k``. For gradient methods this is exactly the
  gradient of ``y_t``. It sums to 0 as well.

For a seed ``g`` that does not depend on the input, gradient methods explain ``f(x) = g . z(x)``
(``g`` is computed once at the explained image and held fixed, also along an Integrated Gradients
path); LRP propagates the output relevance given here through its rules. Both are linear in the
seed, so contrastive maps are differences of ordinary maps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

import torch

from gazealign.config.explain import TargetOutput
from gazealign.errors import GazeAlignError

TARGET_OUTPUTS: tuple[str, ...] = get_args(TargetOutput)


@dataclass(frozen=True)
class OutputSeed:
    """The start of the backward pass for a batch.

    ``relevance``: (N, K) output relevance for LRP. ``gradient``: (N, K) output gradient for
    gradient methods (the explained function is ``gradient . logits``). ``kind``: the target
    output's name.
    """

    kind: TargetOutput
    relevance: torch.Tensor
    gradient: torch.Tensor


def _one_hot(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    one_hot = torch.zeros_like(logits)
    one_hot[torch.arange(logits.shape[0], device=logits.device), targets] = 1.0
    return one_hot


def output_seed(logits: torch.Tensor, targets: torch.Tensor, kind: str) -> OutputSeed:
    """The seed of ``kind`` (see the module docstring) for ``logits`` (N, K) and ``targets`` (N,)."""
    if logits.ndim != 2:
        raise ValueError(f"logits must be (N, K), got shape {tuple(logits.shape)}")
    z = logits.detach()
    targets = targets.to(device=z.device, dtype=torch.int64).view(-1)
    if targets.shape[0] != z.shape[0]:
        raise ValueError(f"{targets.shape[0]} targets for {z.shape[0]} logit rows")
    one_hot = _one_hot(z, targets)
    z_t = z.gather(1, targets.view(-1, 1))  # (N, 1)
    if kind == "logit":
        return OutputSeed("logit", one_hot * z, one_hot)
    if kind == "contrastive":
        if z.shape[1] < 2:
            raise GazeAlignError("the contrastive target needs a network with at least 2 classes")
        others = z.abs() * (1.0 - one_hot)
        total = others.sum(dim=1, keepdim=True)
        # All other logits exactly 0: the dual is their plain mean.
        uniform = (1.0 - one_hot) / (z.shape[1] - 1)
        w = torch.where(total > 0, others / total.clamp_min(torch.finfo(z.dtype).tiny), uniform)
        gradient = one_hot - w
        return OutputSeed("contrastive", z_t * gradient, gradient)
    if kind == "sglrp":
        y = torch.softmax(z, dim=1)
        y_t = y.gather(1, targets.view(-1, 1))
        gradient = y_t * (one_hot - y)
        return OutputSeed("sglrp", gradient, gradient)
    raise GazeAlignError(f"unknown target output {kind!r}; expected one of {TARGET_OUTPUTS}")
