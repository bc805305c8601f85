"""Naive fixation density: a literal double loop over pixels and fixations, in float64."""

from __future__ import annotations

import math

import numpy as np


def density_naive(xs, ys, shape, sigma_px, weights=None):
    rows, cols = shape
    w = [1.0] * len(xs) if weights is None else list(weights)
    out = np.zeros((rows, cols))
    for r in range(rows):
        for c in range(cols):
            total = 0.0
            for x, y, wi in zip(xs, ys, w, strict=True):
                d2 = (c + 0.5 - x) ** 2 + (r + 0.5 - y) ** 2
                total += wi * math.exp(-d2 / (2 * sigma_px**2))
            out[r, c] = total
    return out / out.sum()
