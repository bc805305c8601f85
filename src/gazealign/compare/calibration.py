"""Calibrated saliency maps for the distribution metrics (Kummerer, Wallis & Bethge 2018, ECCV,
"Saliency benchmarking made easy").

KLD, information gain, CC and SIM read a map as a probability distribution of fixations. A raw
network map (LRP relevance) is not one: it is sharp, has exact zeros, and its scale is arbitrary,
so those metrics mostly measure how the map treats empty pixels (for a map that is half zeros,
IG moves by 6.6 bits between eps 1e-12 and 1e-8). Kummerer et al. make every model a density
first, with the few parameters the metric cannot be fair without, fitted to maximise the
likelihood of held-out human fixations:

    p(x) = (1 - w) * blur(max(map, 0), sigma)(x) / Z + w * centre(x)

with a Gaussian blur of ``sigma_px`` (0 = none) and a mixture weight ``w`` of the centre-bias
map. Each method gets its own ``(sigma_px, w)``; the stage fits them on the images of the other
identities (cross-fitting by identity folds), so no image's fixations shape its own map.

``w`` is kept at or above :data:`MIN_CENTRE_WEIGHT`: a density that gives a pixel no
probability makes one fixation there an infinite loss (and the metrics' epsilon the answer).
The grid of blurs and the bounded search for ``w`` are written here because they are a few
lines over :func:`scipy.ndimage.gaussian_filter` and :func:`scipy.optimize.minimize_scalar`;
pysaliency's fitting needs its own model classes and stimulus store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage, optimize

from gazealign.errors import DataError

FloatArray = npt.NDArray[np.float64]

#: Lowest centre-bias weight of a calibrated map (every pixel keeps some probability).
MIN_CENTRE_WEIGHT = 0.01


@dataclass(frozen=True)
class Calibration:
    """Fitted parameters of one method and how well they fit.

    ``log_likelihood_bits``: mean log2 probability per fixation on the fitting images (higher is
    better); ``fixations``: how many fixations the fit saw.
    """

    sigma_px: float
    centre_weight: float
    log_likelihood_bits: float
    fixations: int


def default_sigmas_px(shape: tuple[int, int], *, count: int = 10) -> tuple[float, ...]:
    """0 and ``count - 1`` geometric steps from 1 px to a quarter of the image's shorter side."""
    top = max(1.0, min(shape) / 4.0)
    return (0.0, *np.geomspace(1.0, top, count - 1).round(3).tolist())


def blurred_density(values: npt.ArrayLike, sigma_px: float) -> FloatArray | None:
    """max(values, 0), blurred by ``sigma_px`` (zero padding), divided by its sum; None if empty."""
    v = np.maximum(np.asarray(values, dtype=np.float64), 0.0)
    if v.ndim != 2:
        raise ValueError(f"a map must be 2-D, got shape {v.shape}")
    if sigma_px > 0:
        v = ndimage.gaussian_filter(v, sigma_px, mode="constant", truncate=4.0)
        v = np.maximum(v, 0.0)  # the filter's rounding can leave -1e-20
    total = v.sum()
    return None if total <= 0 else v / total


def calibrated_map(
    values: npt.ArrayLike,
    centre: npt.ArrayLike,
    *,
    sigma_px: float,
    centre_weight: float,
) -> FloatArray:
    """The calibrated density (sums to 1) of a map: blur, normalise, mix with the centre bias.

    A map with no positive part is the centre bias alone.
    """
    if not 0.0 <= centre_weight <= 1.0:
        raise ValueError(f"centre_weight must lie in [0, 1], got {centre_weight}")
    c = np.asarray(centre, dtype=np.float64)
    if c.min() < 0 or c.sum() <= 0:
        raise DataError("the centre-bias map must be non-negative with positive mass")
    c = c / c.sum()
    p = blurred_density(values, sigma_px)
    if p is None:
        return c
    if p.shape != c.shape:
        raise ValueError(f"map {p.shape} and centre bias {c.shape} differ in shape")
    return (1.0 - centre_weight) * p + centre_weight * c


def _fixated(counts: npt.ArrayLike) -> tuple[npt.NDArray[np.intp], FloatArray]:
    n = np.asarray(counts, dtype=np.float64).ravel()
    idx = np.flatnonzero(n > 0)
    return idx, n[idx]


def fit_calibration(
    maps: Sequence[npt.ArrayLike],
    fixation_counts: Sequence[npt.ArrayLike],
    centres: Sequence[npt.ArrayLike],
    *,
    sigmas_px: Sequence[float],
    min_centre_weight: float = MIN_CENTRE_WEIGHT,
) -> Calibration:
    """The (sigma_px, centre weight) maximising the fixations' log-likelihood over all images.

    ``maps``, ``fixation_counts`` (per-pixel counts) and ``centres`` are per image, each image in
    its own frame. For each blur of the grid the best weight is found by a bounded scalar search
    (the log-likelihood is concave in the weight); the best pair over the grid wins (ties: the
    smaller blur).
    """
    if not (len(maps) == len(fixation_counts) == len(centres)) or not maps:
        raise ValueError("maps, fixation_counts and centres: one of each per image, at least one")
    fixated = [_fixated(c) for c in fixation_counts]
    total = float(sum(w.sum() for _, w in fixated))
    if total <= 0:
        raise DataError("calibration needs fixations on at least one image")
    centre_at = []
    for cb, (idx, _) in zip(centres, fixated, strict=True):
        c = np.asarray(cb, dtype=np.float64)
        centre_at.append((c / c.sum()).ravel()[idx])
    best: Calibration | None = None
    for sigma in sigmas_px:
        map_at = []
        for m, (idx, _) in zip(maps, fixated, strict=True):
            p = blurred_density(m, float(sigma))
            map_at.append(np.zeros(idx.size) if p is None else p.ravel()[idx])

        def loss(w: float, map_at: list[FloatArray] = map_at) -> float:
            ll = 0.0
            for p, c, (_, n) in zip(map_at, centre_at, fixated, strict=True):
                ll += float((n * np.log2((1.0 - w) * p + w * c)).sum())
            return -ll / total

        found = optimize.minimize_scalar(
            loss, bounds=(min_centre_weight, 1.0), method="bounded", options={"xatol": 1e-4}
        )
        w = float(found.x)
        ll = -loss(w)
        if best is None or ll > best.log_likelihood_bits + 1e-12:
            best = Calibration(float(sigma), w, ll, int(total))
    assert best is not None
    return best


def identity_folds(identities: Sequence[str], *, folds: int) -> dict[str, int]:
    """identity -> fold number: the sorted distinct identities dealt round-robin into ``folds``."""
    distinct = sorted(set(identities))
    if len(distinct) < 2:
        raise DataError("cross-fitted calibration needs images of at least 2 identities")
    k = max(2, min(folds, len(distinct)))
    return {ident: i % k for i, ident in enumerate(distinct)}
