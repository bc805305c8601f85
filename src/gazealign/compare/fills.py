"""Perturbation fills: what replaces a tile of the image, registered by name.

A fill makes, from the (rows, cols, 3) uint8 model-input image, the image of the same shape
whose pixels go where tiles are perturbed (:mod:`gazealign.compare.perturbation`). It is made
once per stimulus and shared by all its orders. Fills register with :func:`fill`; a new module in
``gazealign/compare/`` or a plug-in module registers the same way. A fill declares the options
it takes: ``seed`` (an integer, the fill's own seed) and ``blur_sigma_px``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np
import numpy.typing as npt

from gazealign.registry import Registry

UInt8Image = npt.NDArray[np.uint8]
FillOption = Literal["seed", "blur_sigma_px"]
F = TypeVar("F", bound=Callable[..., UInt8Image])


@dataclass(frozen=True)
class Fill:
    """One fill: ``fn(image, **options) -> image`` (uint8, same shape)."""

    name: str
    description: str
    fn: Callable[..., UInt8Image]
    options: tuple[FillOption, ...] = ()
    extra: str | None = None


#: Every perturbation fill.
FILLS: Registry[Fill] = Registry("perturbation fill", ("gazealign.compare",))


def fill(
    name: str, *, description: str, options: tuple[FillOption, ...] = (), extra: str | None = None
) -> Callable[[F], F]:
    """Register the decorated function as fill ``name``.

    Named in ``comparison.perturbation.fill``; returns the function unchanged.

    Parameters
    ----------
    options
        Keyword options the function takes (``seed``, ``blur_sigma_px``).
    """

    def decorate(fn: F) -> F:
        FILLS.add(Fill(name, description, fn, options, extra))
        return fn

    return decorate


def make_fill(name: str, image: UInt8Image, *, seed: int, blur_sigma_px: float = 8.0) -> UInt8Image:
    """The fill image of ``image`` made by fill ``name`` (shape and dtype checked)."""
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f"image must be (rows, cols, 3) uint8, got {img.shape} {img.dtype}")
    entry = FILLS.get(name)
    given = {"seed": seed, "blur_sigma_px": blur_sigma_px}
    out = np.asarray(entry.fn(img, **{k: given[k] for k in entry.options}))
    if out.shape != img.shape or out.dtype != np.uint8:
        raise ValueError(
            f"fill {name!r} returned {out.shape} {out.dtype}; expected {img.shape} uint8"
        )
    return out


@fill(
    "uniform_noise",
    description="An independent uniform 0-255 value per pixel and channel (seeded)",
    options=("seed",),
)
def uniform_noise(image: UInt8Image, *, seed: int) -> UInt8Image:
    return np.random.default_rng(seed).integers(0, 256, size=image.shape, dtype=np.uint8)


@fill("mean", description="The image's mean colour")
def mean_colour(image: UInt8Image) -> UInt8Image:
    colour = np.round(image.reshape(-1, 3).mean(axis=0))
    return np.broadcast_to(colour.astype(np.uint8), image.shape).copy()


@fill(
    "blur", description="A Gaussian blur of the image (blur_sigma_px)", options=("blur_sigma_px",)
)
def blur(image: UInt8Image, *, blur_sigma_px: float) -> UInt8Image:
    import cv2

    blurred = cv2.GaussianBlur(image, (0, 0), sigmaX=blur_sigma_px, sigmaY=blur_sigma_px)
    return np.asarray(blurred, dtype=np.uint8)


@fill("zeros", description="Black (0 in image space)")
def zeros(image: UInt8Image) -> UInt8Image:
    return np.zeros_like(image)
