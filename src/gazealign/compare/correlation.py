"""Pearson's correlation coefficient of two maps, kept outside the metric registry.

The registered ``cc`` metric (:func:`gazealign.compare.metrics.cc`) and the alignment sweep's
map agreement (:func:`gazealign.compare.alignment.map_agreement`) both compute it here. A stage
that only correlates maps therefore does not import the metric registry, whose cache-key rule
ties every stage importing it to every metric module (:mod:`gazealign.pipeline.codehash`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def zscore(a: FloatArray) -> FloatArray:
    """``a`` standardised to mean 0 and standard deviation 1 (zeros for a constant map).

    Parameters
    ----------
    a
        A float map.

    Returns
    -------
    numpy.ndarray
        ``(a - mean) / std`` with ``ddof=0``.
    """
    # ddof=0 (as pysaliency); the MIT Matlab code uses ddof=1, a relative difference of
    # 1/(2 * n_pixels). A constant map carries no information: its z-score is 0 everywhere.
    std = a.std()
    if std == 0:
        return np.zeros_like(a)
    return (a - a.mean()) / std


def pearson_cc(p: FloatArray, q: FloatArray) -> float:
    """Pearson's linear correlation coefficient of two float maps of one shape.

    CC = cov(P, Q) / (std(P) std(Q)) = mean(Pbar * Qbar) with z-scored maps (Bylinskii et al.
    2018, sec. 3.2.3). Symmetric; a constant map scores 0.

    Parameters
    ----------
    p, q
        The maps (same shape; not checked here).

    Returns
    -------
    float
        The coefficient, in [-1, 1].
    """
    return float((zscore(p) * zscore(q)).mean())
