"""Gradient-based methods through Captum (the ``captum`` extra).

* ``integrated_gradients``: Sundararajan et al. 2017, Gauss-Legendre path integral from a
  baseline image; relevance sums to logit(x) - logit(baseline) (completeness), checked.
* ``gradcam``: Selvaraju et al. 2017 on the last conv block, upsampled (bilinear) to the input.
  No ReLU inside: the sign policy step decides (``positive`` gives the paper's ReLU).
* ``occlusion``: Zeiler and Fergus 2014, a square window over all channels slid with a stride;
  the value is the mean drop of the target logit over the windows covering a pixel.
* ``gradient_x_input``: gradient times input (Shrikumar et al. 2016).

Every method explains ``f(x) = g . z(x)`` for the output gradient ``g`` of the target output
(:mod:`gazealign.explain.targets`; ``g = one_hot(target)`` for the logit), held fixed at the
explained image: ``g`` is passed to the network wrapper as an additional forward argument, so
Captum expands it with the inputs (Integrated Gradients' path points, Occlusion's windows).

Captum removes the hooks it registers (layer methods) in ``finally`` blocks; the model is put in
eval mode only inside :func:`gazealign.explain.base.evaluation_mode`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from captum.attr import InputXGradient, IntegratedGradients, LayerGradCam, Occlusion
from torch import nn

from gazealign.errors import GazeAlignError
from gazealign.explain.base import (
    Attribution,
    ExplainOptions,
    Method,
    baseline_images,
    register,
)
from gazealign.explain.targets import OutputSeed, output_seed
from gazealign.models.bundle import ModelBundle
from gazealign.types import Step


def _grad_input(x: torch.Tensor) -> torch.Tensor:
    # A leaf that requires grad: Captum would otherwise set it on the caller's tensor (and warn).
    return x.detach().clone().requires_grad_(True)


class _Seeded(nn.Module):
    """The explained function ``g . z(x)`` as a one-output network (Captum's target 0)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, gradient: torch.Tensor) -> torch.Tensor:
        return (self.model(x) * gradient).sum(dim=1, keepdim=True)


def _gradient(
    bundle: ModelBundle, x: torch.Tensor, targets: torch.Tensor, seed: OutputSeed | None
) -> torch.Tensor:
    if seed is not None:
        return seed.gradient.to(x)
    with torch.no_grad():
        return output_seed(bundle.model(x), targets, "logit").gradient.to(x)


def _integrated_gradients(
    bundle: ModelBundle,
    x: torch.Tensor,
    targets: torch.Tensor,
    options: ExplainOptions,
    *,
    seed: OutputSeed | None = None,
) -> Attribution:
    baseline = baseline_images(bundle, options.ig_baseline, x.shape).to(x)
    g = _gradient(bundle, x, targets, seed)
    ig = IntegratedGradients(_Seeded(bundle.model))
    relevance = ig.attribute(
        _grad_input(x),
        baselines=baseline,
        target=0,
        additional_forward_args=(g,),
        n_steps=options.ig_steps,
        method="gausslegendre",
        internal_batch_size=options.internal_batch_size,
    )
    with torch.no_grad():
        contributions = (bundle.model(x) - bundle.model(baseline)) * g
    params = {
        "baseline": options.ig_baseline,
        "n_steps": options.ig_steps,
        "integration": "gausslegendre",
        "internal_batch_size": options.internal_batch_size,
    }
    return Attribution(
        relevance=relevance.detach(),
        reference=contributions.sum(dim=1),
        params=params,
        reference_scale=contributions.abs().sum(dim=1),
    )


def find_gradcam_layer(model: nn.Module, name: str | None = None) -> tuple[str, nn.Module]:
    """(module name, module) Grad-CAM reads.

    ``name`` given: exactly that module. Otherwise the conv the model names (its ``gradcam_layer``
    or ``last_conv`` attribute, e.g. ``conv5_3`` on gazealign's VGGs), else the last
    ``nn.Conv2d``; when a ReLU module comes right after that conv, the ReLU is used instead,
    since Grad-CAM weights the rectified feature maps (Selvaraju et al. 2017).
    """
    modules = dict(model.named_modules())
    convs = [n for n, m in modules.items() if isinstance(m, nn.Conv2d)]

    def check(wanted: object) -> str:
        if not isinstance(wanted, str) or wanted not in modules:
            raise GazeAlignError(
                f"Grad-CAM layer {wanted!r} is not a module of the model; conv layers: {convs}"
            )
        return wanted

    if name is not None:
        return name, modules[check(name)]
    named = getattr(model, "gradcam_layer", None) or getattr(model, "last_conv", None)
    if named is not None:
        conv = check(named)
    elif convs:
        conv = convs[-1]
    else:
        raise GazeAlignError("Grad-CAM needs a model with at least one nn.Conv2d layer")
    leaves = [n for n, m in modules.items() if not list(m.children())]
    i = leaves.index(conv) if conv in leaves else -1
    if 0 <= i < len(leaves) - 1 and isinstance(modules[leaves[i + 1]], nn.ReLU):
        return leaves[i + 1], modules[leaves[i + 1]]
    return conv, modules[conv]


def _gradcam(
    bundle: ModelBundle,
    x: torch.Tensor,
    targets: torch.Tensor,
    options: ExplainOptions,
    *,
    seed: OutputSeed | None = None,
) -> Attribution:
    layer_name, layer = find_gradcam_layer(bundle.model, options.gradcam_layer)
    g = _gradient(bundle, x, targets, seed)
    cam = LayerGradCam(_Seeded(bundle.model), layer).attribute(
        x, target=0, additional_forward_args=(g,), relu_attributions=False
    )
    coarse = tuple(int(s) for s in cam.shape[2:])
    relevance = F.interpolate(cam, size=tuple(x.shape[2:]), mode="bilinear", align_corners=False)
    step = Step("upsample", {"mode": "bilinear", "from_shape": list(coarse)})
    return Attribution(
        relevance=relevance.detach(),
        reference=None,
        params={"layer": layer_name, "relu": False},
        steps=(step,),
    )


def _occlusion(
    bundle: ModelBundle,
    x: torch.Tensor,
    targets: torch.Tensor,
    options: ExplainOptions,
    *,
    seed: OutputSeed | None = None,
) -> Attribution:
    window, stride = options.occlusion_window_px, options.occlusion_stride_px
    channels = int(x.shape[1])
    baseline = baseline_images(bundle, options.occlusion_baseline, x.shape).to(x)
    g = _gradient(bundle, x, targets, seed)
    relevance = Occlusion(_Seeded(bundle.model)).attribute(
        x,
        sliding_window_shapes=(channels, window, window),
        strides=(channels, stride, stride),
        baselines=baseline,
        target=0,
        additional_forward_args=(g,),
        perturbations_per_eval=max(1, options.internal_batch_size // max(1, x.shape[0])),
    )
    # The window spans all channels, so every channel holds the same value: keep one, or the
    # channel sum would multiply the map by the channel count.
    params = {
        "window_px": window,
        "stride_px": stride,
        "baseline": options.occlusion_baseline,
        "channels": "occluded together (one channel kept)",
    }
    return Attribution(relevance=relevance[:, :1].detach(), reference=None, params=params)


def _gradient_x_input(
    bundle: ModelBundle,
    x: torch.Tensor,
    targets: torch.Tensor,
    options: ExplainOptions,
    *,
    seed: OutputSeed | None = None,
) -> Attribution:
    g = _gradient(bundle, x, targets, seed)
    relevance = InputXGradient(_Seeded(bundle.model)).attribute(
        _grad_input(x), target=0, additional_forward_args=(g,)
    )
    return Attribution(relevance=relevance.detach(), reference=None, params={})


register(
    Method(
        "integrated_gradients",
        "Integrated Gradients from a baseline image (Captum)",
        _integrated_gradients,
        conservation="logit_minus_baseline",
        extra="captum",
        seeded=True,
    )
)
register(
    Method(
        "gradcam",
        "Grad-CAM on the last conv block, upsampled (Captum)",
        _gradcam,
        "none",
        "captum",
        seeded=True,
    )
)
register(
    Method(
        "occlusion",
        "Occlusion with a sliding window (Captum)",
        _occlusion,
        "none",
        "captum",
        seeded=True,
    )
)
register(
    Method(
        "gradient_x_input",
        "Gradient times input (Captum)",
        _gradient_x_input,
        "none",
        "captum",
        seeded=True,
    )
)
