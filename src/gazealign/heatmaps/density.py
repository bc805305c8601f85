"""Fixation density maps: a Gaussian kernel of ``sigma_deg`` around each fixation.

The map at pixel (r, c) (centre ``(c + 0.5, r + 0.5)``) is

    D[r, c] = sum_i w_i * g(r + 0.5 - y_i) * g(c + 0.5 - x_i),   g(d) = exp(-d^2 / (2 sigma^2))

with ``w_i = 1`` or the fixation's duration, then divided by its sum over the image, so the map
is a probability distribution over the stimulus' pixels (the kernel mass falling off the
image is not counted: the distribution is of where on the *image* people looked).

The Gaussian is separable, so ``D = Gy @ diag(w) @ Gx.T`` with ``Gy`` (rows x n) and ``Gx``
(cols x n): two small matrix products, exact (no binning, no FFT wrap-around, no truncation of
the kernel), in O((rows + cols) x n + rows x cols x n) BLAS work. For very many fixations the
products are done in chunks of fixations.

``sigma`` in stimulus pixels is ``sigma_deg * px_per_deg / placement.scale``: a degree of
visual angle covers ``px_per_deg`` screen pixels, and one stimulus pixel is drawn as ``scale``
screen pixels (the MIT saliency benchmark's convention, sigma = 1 degree: Bylinskii et al. 2018,
IEEE TPAMI 41(3)).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from gazealign.coords import CropResize, ScreenGeometry
from gazealign.errors import DataError
from gazealign.types import SaliencyMap

FloatArray = npt.NDArray[np.float64]

_CHUNK = 4096


def sigma_stimulus_px(sigma_deg: float, screen: ScreenGeometry, scale: float) -> float:
    """Kernel sigma in stimulus pixels for ``sigma_deg`` on ``screen`` at display ``scale``."""
    if not sigma_deg > 0:
        raise ValueError(f"sigma_deg must be > 0, got {sigma_deg}")
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    return float(sigma_deg * screen.px_per_deg / scale)


def density_values(
    x_px: npt.ArrayLike,
    y_px: npt.ArrayLike,
    shape: tuple[int, int],
    *,
    sigma_px: float,
    weights: npt.ArrayLike | None = None,
) -> FloatArray:
    """(rows, cols) float64 fixation density summing to 1 (see module docstring).

    ``x_px``, ``y_px``: (n,) fixation positions in the map's frame (px, continuous). ``weights``
    (n,) >= 0, e.g. durations in ms; ``None`` weighs each fixation equally. Raises
    :class:`DataError` for no fixations, NaN positions or weights that sum to 0.
    """
    x = np.asarray(x_px, dtype=np.float64).ravel()
    y = np.asarray(y_px, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x_px and y_px differ in length: {x.shape} vs {y.shape}")
    if x.size == 0:
        raise DataError("a fixation density needs at least one fixation")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise DataError("fixation positions contain NaN or infinite values")
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if w.shape != x.shape:
        raise ValueError(f"weights have shape {w.shape}, positions {x.shape}")
    if not np.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
        raise DataError("fixation weights must be finite, >= 0 and not all 0")
    if not sigma_px > 0:
        raise ValueError(f"sigma_px must be > 0, got {sigma_px}")
    rows, cols = shape
    rc = np.arange(rows, dtype=np.float64) + 0.5
    cc = np.arange(cols, dtype=np.float64) + 0.5
    out = np.zeros((rows, cols), dtype=np.float64)
    inv = -0.5 / sigma_px**2
    for lo in range(0, x.size, _CHUNK):
        hi = min(x.size, lo + _CHUNK)
        gy = np.exp(inv * (rc[:, None] - y[None, lo:hi]) ** 2)  # (rows, k)
        gx = np.exp(inv * (cc[:, None] - x[None, lo:hi]) ** 2)  # (cols, k)
        out += (gy * w[None, lo:hi]) @ gx.T
    total = out.sum()
    if not total > 0:
        # every fixation is many sigmas off the image: nothing of the kernel lands on it
        raise DataError("the fixations' kernels put no mass on the image (all far outside it)")
    return np.asarray(out / total, dtype=np.float64)


def fixation_density(
    x_px: npt.ArrayLike,
    y_px: npt.ArrayLike,
    shape: tuple[int, int],
    *,
    stimulus_id: str,
    sigma_deg: float,
    screen: ScreenGeometry,
    scale: float,
    durations_ms: npt.ArrayLike | None = None,
) -> SaliencyMap:
    """The stimulus-frame density map of fixations, with its steps recorded.

    ``durations_ms`` given: each fixation weighs its duration (duration-weighted map).
    """
    sigma_px = sigma_stimulus_px(sigma_deg, screen, scale)
    n = int(np.asarray(x_px).size)
    values = density_values(x_px, y_px, shape, sigma_px=sigma_px, weights=durations_ms)
    return SaliencyMap(np.zeros(shape), "stimulus", stimulus_id).with_step(
        "fixation_density",
        values,
        sigma_deg=float(sigma_deg),
        sigma_px=sigma_px,
        px_per_deg=float(screen.px_per_deg),
        stimulus_scale=float(scale),
        duration_weighted=durations_ms is not None,
        fixations=n,
        normalised="sum over the stimulus image = 1",
    )


def to_model_input(density: SaliencyMap, crop: CropResize, *, order: int = 1) -> SaliencyMap:
    """Resample a stimulus-frame density into the model-input frame and renormalise to sum 1.

    Two recorded steps: ``crop_resize`` (:meth:`CropResize.map_to_model`, spline ``order``)
    and ``normalise_sum`` (the crop drops mass outside the box; the rest is a distribution
    over the model's input pixels again). A map with no mass inside the crop raises.
    """
    if density.frame != "stimulus":
        raise ValueError(f"expected a stimulus-frame map, got frame {density.frame!r}")
    resampled = np.clip(crop.map_to_model(density.values, order=order), 0.0, None)
    step = density.with_step(
        "crop_resize", resampled, frame="model_input", order=order, **crop.as_dict()
    )
    total = float(resampled.sum())
    if not total > 0:
        raise DataError(f"{density.stimulus_id}: no fixation density inside the model's crop")
    return step.with_step("normalise_sum", resampled / total, mass_before=total)
