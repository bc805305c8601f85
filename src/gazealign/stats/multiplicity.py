"""Adjusted p-values for a family of tests (the per-class contrasts of one measure).

A *family* is the set of per-class rows of one contrast on one measure (e.g. "human - lrp",
MoRF accuracy AUC, the seven expressions): those are the tests a reader scans for "which
expression differs", so they are adjusted together. The pooled ("all") row is not part of the
family: it answers a different question and is read first.

Holm (1979, Scand. J. Stat. 6) step-down controls the family-wise error rate under any
dependence and is the default; Benjamini & Hochberg (1995, JRSS-B 57) controls the false
discovery rate (valid for independent or positively dependent tests). Both are the textbook
step-down / step-up formulas, written here because ``statsmodels.stats.multitest.multipletests``
(which the tests compare against) runs ``gc.collect()`` on every Holm call: about 0.1 s each
with a study's heap, for every family of every table.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Adjustment = Literal["holm", "fdr_bh", "none"]
#: Adjustment methods by their study-file name.
ADJUSTMENTS: tuple[str, ...] = ("holm", "fdr_bh", "none")


def adjust_p(p_values: npt.ArrayLike, *, method: Adjustment = "holm") -> FloatArray:
    """Adjusted p-values of one family, in input order; NaN entries stay NaN and do not count.

    ``method``: ``"holm"`` (family-wise error), ``"fdr_bh"`` (false discovery rate) or
    ``"none"`` (raw p returned).
    """
    if method not in ADJUSTMENTS:
        raise ValueError(f"unknown p-value adjustment {method!r}; available: {ADJUSTMENTS}")
    p = np.asarray(p_values, dtype=np.float64).ravel()
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if method == "none" or not ok.any():
        out[ok] = p[ok]
        return out
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    out[ok] = _holm(p[ok]) if method == "holm" else _benjamini_hochberg(p[ok])
    return out


def _holm(p: FloatArray) -> FloatArray:
    """Holm: sorted p_(k) times (m - k + 1), running maximum, capped at 1."""
    order = np.argsort(p, kind="stable")
    m = p.size
    stepped = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


def _benjamini_hochberg(p: FloatArray) -> FloatArray:
    """BH: sorted p_(k) times m / k, running minimum from the largest, capped at 1."""
    order = np.argsort(p, kind="stable")
    m = p.size
    scaled = p[order] * m / np.arange(1, m + 1)
    stepped = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out
