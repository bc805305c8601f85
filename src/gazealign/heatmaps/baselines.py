"""Baseline maps that a saliency map is read against: uniform, centre bias, other images' mean.

A network map is only informative if it beats these. The centre-bias map is a generic isotropic
Gaussian at the image centre; its width is a parameter, not a fact about the observers (people
viewing faces fixate near the centre, just below the eyes: Eisenbarth & Alpers 2011, Emotion
11(4)). The empirical alternative, :func:`mean_of_others`, averages the human maps of the other images.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def uniform_map(shape: tuple[int, int]) -> FloatArray:
    """(rows, cols) constant map summing to 1: every pixel equally likely."""
    rows, cols = shape
    return np.full((rows, cols), 1.0 / (rows * cols))


def centre_bias_map(shape: tuple[int, int], *, sigma_fraction: float = 0.25) -> FloatArray:
    """(rows, cols) Gaussian centred on the image, summing to 1.

    sigma along rows = ``sigma_fraction`` * rows, along columns = ``sigma_fraction`` * cols.
    Pixel (r, c) is evaluated at its centre (c + 0.5, r + 0.5).
    """
    if sigma_fraction <= 0:
        raise ValueError(f"sigma_fraction must be positive, got {sigma_fraction}")
    rows, cols = shape
    y = (np.arange(rows) + 0.5 - rows / 2) / (sigma_fraction * rows)
    x = (np.arange(cols) + 0.5 - cols / 2) / (sigma_fraction * cols)
    g = np.exp(-0.5 * y[:, None] ** 2) * np.exp(-0.5 * x[None, :] ** 2)
    return np.asarray(g / g.sum(), dtype=np.float64)


def mean_of_others(maps: Sequence[npt.ArrayLike], index: int) -> FloatArray:
    """Mean of the sum-normalised ``maps`` other than ``maps[index]`` (a shuffled-map baseline).

    All maps must share one shape (e.g. the model-input frame, or stimuli of equal size).
    """
    others = [np.asarray(m, dtype=np.float64) for i, m in enumerate(maps) if i != index]
    if not others:
        raise ValueError("mean_of_others needs at least two maps")
    shapes = {m.shape for m in others}
    if len(shapes) != 1:
        raise ValueError(f"maps differ in shape: {sorted(shapes)}")
    return np.asarray(np.mean([m / m.sum() for m in others], axis=0), dtype=np.float64)
