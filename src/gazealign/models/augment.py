"""The seed study's training augmentation, batched on tensors with a seeded generator.

The seed study used Keras' ``ImageDataGenerator(width_shift_range=0.2, height_shift_range=0.2,
shear_range=0.2, zoom_range=0.2, horizontal_flip=True, brightness_range=[0.5, 1.5])``. Per image
this draws, as Keras does:

* shift: uniform in [-s, s] of the width and of the height;
* zoom: a factor in [1 - z, 1 + z] for each axis independently (Keras zooms the axes separately);
* shear: an angle uniform in [-shear_deg, shear_deg] degrees (Keras' ``shear_range`` is in
  degrees, so the study's 0.2 is a tiny shear);
* flip: left-right with probability 1/2;
* brightness: pixel values times a factor uniform in [b_lo, b_hi], clipped to 255.

Geometry is one affine resampling per batch (``affine_grid`` + bilinear ``grid_sample``); pixels
from outside the image repeat the border (Keras' default ``fill_mode="nearest"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gazealign.config.base import section_default
from gazealign.config.model import AugmentSection


@dataclass(frozen=True)
class Augmentation:
    """Random training transforms; the defaults are those of ``[model.train.augmentation]``."""

    shift_fraction: float = section_default(AugmentSection, "shift_fraction")
    zoom_fraction: float = section_default(AugmentSection, "zoom_fraction")
    shear_deg: float = section_default(AugmentSection, "shear_deg")
    flip: bool = section_default(AugmentSection, "flip")
    brightness: tuple[float, float] = (
        section_default(AugmentSection, "brightness_min"),
        section_default(AugmentSection, "brightness_max"),
    )


def _uniform(n: int, lo: float, hi: float, generator: torch.Generator) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=generator)


def augment_batch(
    images_255: torch.Tensor, aug: Augmentation, generator: torch.Generator
) -> torch.Tensor:
    """Randomly transformed copies of ``images_255`` (N, 3, H, W) float in [0, 255].

    The draws come only from ``generator``, so a seeded generator gives the same batch every time.
    Returns (N, 3, H, W) float32 in [0, 255].
    """
    n = images_255.shape[0]
    s, z = aug.shift_fraction, aug.zoom_fraction
    # Output -> input sampling map in normalised coordinates ([-1, 1] spans the image).
    zoom_x = _uniform(n, 1 - z, 1 + z, generator)
    zoom_y = _uniform(n, 1 - z, 1 + z, generator)
    shear = torch.tan(_uniform(n, -aug.shear_deg, aug.shear_deg, generator) * (math.pi / 180))
    shift_x = 2 * _uniform(n, -s, s, generator)
    shift_y = 2 * _uniform(n, -s, s, generator)
    flip = torch.ones(n)
    if aug.flip:
        flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = zoom_x * flip
    theta[:, 0, 1] = shear * zoom_y
    theta[:, 0, 2] = shift_x
    theta[:, 1, 1] = zoom_y
    theta[:, 1, 2] = shift_y
    grid = F.affine_grid(theta, list(images_255.shape), align_corners=False)
    out = F.grid_sample(
        images_255.float(), grid, mode="bilinear", padding_mode="border", align_corners=False
    )
    lo, hi = aug.brightness
    factor = _uniform(n, lo, hi, generator).view(n, 1, 1, 1)
    return (out * factor).clamp_(0.0, 255.0)
