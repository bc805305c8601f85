"""Alignment objectives: losses that move a network's input-gradient evidence toward human maps.

Two objectives, each cross-entropy plus ``weight`` times an alignment term computed from a
differentiable saliency map of the network (double backpropagation: the saliency is an input
gradient taken with ``create_graph=True``, so the loss can be differentiated again with respect
to the weights):

``harmonization``
    Fel, Felipe, Linsley & Serre (2022), "Harmonizing the object recognition strategies of deep
    neural networks with humans", NeurIPS. The saliency (gradient of the true-class logit with
    respect to the input, averaged over colour channels) and the human map are each standardised
    per image and rectified (:func:`standardize_cut`); the human map is rescaled to the
    saliency's maximum (a constant in the graph); the term is the mean over the first
    ``pyramid_levels`` levels of a Gaussian pyramid (:func:`gaussian_pyramid`) of the per-image
    squared error. Images without a human map (``has_map`` false) contribute cross-entropy only;
    the error is averaged over the whole batch, so such images count as zero error, as in the
    authors' token-weighted mean.

``rrr``
    Ross, Hughes & Doshi-Velez (2017), "Right for the right reasons", IJCAI. The term is the sum,
    over the pixels and channels of a "don't look here" mask ``A``, of the squared input gradient
    of the summed log-probabilities, ``sum_k log p_k``; averaged over the images of the batch
    (images without a human map have an all-zero mask). The mask comes from the human map
    (:func:`dont_look_mask`): ``A = 1`` where the fixation density is below
    ``dont_look_fraction`` of that image's maximum density, i.e. where people hardly looked.
    (The paper's separate L2 weight penalty is the optimiser's ``weight_decay`` here.)

Cross-entropy has no label smoothing (Harmonization used 0.1), so that ``weight = 0`` is
exactly the plain network's training objective and a lambda sweep's first point is the plain
network. Saliency choices (``saliency``): ``"gradient"`` (the input gradient) or
``"gradient_x_input"`` (input gradient times the preprocessed input). zennit's LRP rules do not
support double backpropagation, so alignment trains on gradients and is scored with the
study's explainers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from gazealign.models.augment import Augmentation, augment_batch

Objective = Literal["harmonization", "rrr"]
SaliencyKind = Literal["gradient", "gradient_x_input"]
OBJECTIVES: tuple[str, ...] = ("harmonization", "rrr")
SALIENCY_KINDS: tuple[str, ...] = ("gradient", "gradient_x_input")


@dataclass(frozen=True)
class AlignmentConfig:
    """One alignment objective and its settings (``weight`` is the paper's lambda)."""

    objective: Objective = "harmonization"
    weight: float = 1.0
    saliency: SaliencyKind = "gradient"
    pyramid_levels: int = 5
    dont_look_fraction: float = 0.1

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.saliency not in SALIENCY_KINDS:
            raise ValueError(f"saliency must be one of {SALIENCY_KINDS}, got {self.saliency!r}")
        if self.weight < 0:
            raise ValueError(f"weight (lambda) must be >= 0, got {self.weight}")
        if self.pyramid_levels < 1:
            raise ValueError(f"pyramid_levels must be >= 1, got {self.pyramid_levels}")
        if not 0 < self.dont_look_fraction < 1:
            raise ValueError(f"dont_look_fraction must be in (0, 1), got {self.dont_look_fraction}")


@dataclass(frozen=True)
class LossParts:
    """The training loss of one batch and its two parts (``total = ce + weight * alignment``)."""

    total: torch.Tensor
    cross_entropy: torch.Tensor
    alignment: torch.Tensor
    logits: torch.Tensor


def standardize_cut(maps: torch.Tensor, *, eps: float = 1e-5) -> torch.Tensor:
    """Per-image z-score over the last two axes (population std), then ReLU.

    ``maps``: (N, H, W). Harmonization's ``standardize_cut`` (Fel et al. 2022).
    """
    mean = maps.mean(dim=(-2, -1), keepdim=True)
    std = maps.std(dim=(-2, -1), keepdim=True, unbiased=False)
    return F.relu((maps - mean) / (std + eps))


def _binomial_kernel(dtype: torch.dtype) -> torch.Tensor:
    k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0], dtype=dtype)
    k2 = torch.outer(k, k)
    return (k2 / k2.sum()).view(1, 1, 5, 5)


def gaussian_pyramid(maps: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """``levels`` maps: ``maps`` itself, then repeated 5x5 binomial blur + 2x subsampling.

    ``maps``: (N, H, W). Each step is a stride-2 convolution with the normalised binomial kernel
    (1 4 6 4 1)^T (1 4 6 4 1) / 256 and zero padding as TensorFlow's ``"SAME"`` (output
    ``ceil(size / 2)``, the extra padding row/column after), as in Harmonization's pyramid.
    """
    kernel = _binomial_kernel(maps.dtype).to(maps.device)
    x = maps.unsqueeze(1)
    out = [maps]
    for _ in range(levels - 1):
        pads = []
        for size in (x.shape[-1], x.shape[-2]):  # F.pad order: last axis first
            total = max((-(-size // 2) - 1) * 2 + 5 - size, 0)
            pads += [total // 2, total - total // 2]
        x = F.conv2d(F.pad(x, pads), kernel, stride=2)
        out.append(x.squeeze(1))
    return out


def pyramid_mse(
    a: torch.Tensor, b: torch.Tensor, image_weights: torch.Tensor, *, levels: int
) -> torch.Tensor:
    """Mean over pyramid levels of the mean over images and pixels of ``w_i (a - b)^2``.

    ``a``, ``b``: (N, H, W); ``image_weights``: (N,) (1 for an image with a human map, 0
    without: it then adds zero error but still counts in the mean, as in Harmonization).
    """
    w = image_weights.to(a.dtype).view(-1, 1, 1)
    terms = [
        ((pa - pb).square() * w).mean()
        for pa, pb in zip(gaussian_pyramid(a, levels), gaussian_pyramid(b, levels), strict=True)
    ]
    return torch.stack(terms).mean()


def saliency_maps(
    model: nn.Module, x: torch.Tensor, labels: torch.Tensor, *, saliency: SaliencyKind
) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (N, K) and the differentiable true-class saliency (N, H, W) of input ``x``.

    The saliency is the input gradient of the true-class logit (or gradient x input), averaged
    over the colour channels (signed; :func:`standardize_cut` keeps the positive part).
    """
    x = x.detach().requires_grad_(True)
    logits = model(x)
    score = logits.gather(1, labels.view(-1, 1)).sum()
    (grad,) = torch.autograd.grad(score, x, create_graph=True)
    per_channel = grad * x if saliency == "gradient_x_input" else grad
    return logits, per_channel.mean(dim=1)


def harmonization_loss(
    model: nn.Module,
    x: torch.Tensor,
    labels: torch.Tensor,
    human_maps: torch.Tensor,
    has_map: torch.Tensor,
    *,
    weight: float,
    saliency: SaliencyKind = "gradient",
    pyramid_levels: int = 5,
) -> LossParts:
    """Cross-entropy + ``weight`` x the pyramid MSE of standardised-cut saliency and human maps.

    ``x``: (N, 3, H, W) preprocessed input; ``human_maps``: (N, H, W) non-negative densities in
    the model-input frame (any scale: each is standardised); ``has_map``: (N,) bool.
    """
    logits, sal = saliency_maps(model, x, labels, saliency=saliency)
    ce = F.cross_entropy(logits, labels)
    align = harmonization_term(sal, human_maps, has_map, levels=pyramid_levels)
    return LossParts(ce + weight * align, ce, align, logits)


def harmonization_term(
    saliency: torch.Tensor,
    human_maps: torch.Tensor,
    has_map: torch.Tensor,
    *,
    levels: int,
    saliency_peak: torch.Tensor | None = None,
) -> torch.Tensor:
    """Harmonization's alignment term between (N, H, W) saliency and human maps.

    Both are standardised and cut; the human map is rescaled to the cut saliency's per-image
    peak. The peak is a constant of the graph (Harmonization stops its gradient), so the term
    pulls the map's shape, not its scale; ``saliency_peak`` (N, 1, 1) fixes it from outside
    (finite-difference checks hold it at one value, as the gradient does).
    """
    sal_sc = standardize_cut(saliency)
    human_sc = standardize_cut(human_maps.to(saliency.dtype))
    peak_sal = (
        sal_sc.detach().amax(dim=(-2, -1), keepdim=True) + 1e-6
        if saliency_peak is None
        else saliency_peak
    )
    peak_human = human_sc.amax(dim=(-2, -1), keepdim=True) + 1e-6
    return pyramid_mse(sal_sc, human_sc / peak_human * peak_sal, has_map, levels=levels)


def dont_look_mask(human_maps: torch.Tensor, *, fraction: float) -> torch.Tensor:
    """1.0 where the density is below ``fraction`` of its image's maximum, else 0.0.

    ``human_maps``: (N, H, W) non-negative. An all-zero map (no fixation) gives an all-zero mask:
    without data nothing is forbidden.
    """
    peak = human_maps.amax(dim=(-2, -1), keepdim=True)
    return ((human_maps < fraction * peak) & (peak > 0)).to(human_maps.dtype)


def rrr_loss(
    model: nn.Module,
    x: torch.Tensor,
    labels: torch.Tensor,
    human_maps: torch.Tensor,
    has_map: torch.Tensor,
    *,
    weight: float,
    saliency: SaliencyKind = "gradient",
    dont_look_fraction: float = 0.1,
) -> LossParts:
    """Cross-entropy + ``weight`` x mean over images of sum(A * (d sum_k log p_k / dx)^2).

    ``A`` (:func:`dont_look_mask`) broadcasts over colour channels; with ``saliency =
    "gradient_x_input"`` the penalised quantity is the gradient times the input.
    """
    x = x.detach().requires_grad_(True)
    logits = model(x)
    ce = F.cross_entropy(logits, labels)
    (grad,) = torch.autograd.grad(F.log_softmax(logits, dim=1).sum(), x, create_graph=True)
    g = grad * x if saliency == "gradient_x_input" else grad
    mask = dont_look_mask(human_maps.to(g.dtype), fraction=dont_look_fraction)
    mask = mask * has_map.to(g.dtype).view(-1, 1, 1)
    align = (mask.unsqueeze(1) * g.square()).sum(dim=(1, 2, 3)).mean()
    return LossParts(ce + weight * align, ce, align, logits)


def alignment_loss(
    model: nn.Module,
    x: torch.Tensor,
    labels: torch.Tensor,
    human_maps: torch.Tensor,
    has_map: torch.Tensor,
    config: AlignmentConfig,
) -> LossParts:
    """The configured objective's loss on one batch (see the module docstring)."""
    if config.objective == "harmonization":
        return harmonization_loss(
            model,
            x,
            labels,
            human_maps,
            has_map,
            weight=config.weight,
            saliency=config.saliency,
            pyramid_levels=config.pyramid_levels,
        )
    return rrr_loss(
        model,
        x,
        labels,
        human_maps,
        has_map,
        weight=config.weight,
        saliency=config.saliency,
        dont_look_fraction=config.dont_look_fraction,
    )


@dataclass(frozen=True)
class AlignmentTargets:
    """What :func:`gazealign.models.train.fit` needs to train with an alignment objective.

    ``human_maps``: (N, H, W) float32 human maps of the training images in the model-input
    frame, in the order of the training images (zeros where ``has_map`` is false);
    ``has_map``: (N,) bool.
    """

    config: AlignmentConfig
    human_maps: torch.Tensor
    has_map: torch.Tensor

    def __post_init__(self) -> None:
        if self.human_maps.ndim != 3 or self.has_map.shape != (self.human_maps.shape[0],):
            raise ValueError(
                f"human_maps must be (N, H, W) and has_map (N,), got "
                f"{tuple(self.human_maps.shape)} and {tuple(self.has_map.shape)}"
            )

    @property
    def images_with_map(self) -> int:
        return int(self.has_map.sum())


def augment_with_maps(
    x_255: torch.Tensor, maps: torch.Tensor, aug: Augmentation, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply one training augmentation to (N, 3, H, W) images and their (N, H, W) maps together.

    The maps ride along as a fourth channel of :func:`augment_batch`, so they get the very same
    shift/zoom/shear/flip, and the generator is drawn exactly as for the images alone.
    Brightness also scales them, which neither objective sees (both standardise per image or
    threshold relative to the image's own maximum); the clip at 255 never reaches them
    (densities are far below 1).
    """
    stacked = torch.cat([x_255, maps.to(x_255.dtype).unsqueeze(1)], dim=1)
    out = augment_batch(stacked, aug, generator)
    return out[:, :3], out[:, 3]
