"""Saliency metrics written straight from Bylinskii et al. 2018 (TPAMI), slowly, in float64.

Loops over pixels, fixations and thresholds; no sorting tricks. Fixation maps are count maps:
each fixation is one positive sample.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

F = npt.NDArray[np.float64]


def _fixation_list(counts: npt.NDArray[np.int64]) -> list[tuple[int, int]]:
    out = []
    for r in range(counts.shape[0]):
        for c in range(counts.shape[1]):
            out.extend([(r, c)] * int(counts[r, c]))
    return out


def _mean(a: F) -> float:
    return sum(float(v) for v in a.ravel()) / a.size


def _std(a: F) -> float:
    m = _mean(a)
    return math.sqrt(sum((float(v) - m) ** 2 for v in a.ravel()) / a.size)


def nss(s: F, counts: npt.NDArray[np.int64]) -> float:
    m, sd = _mean(s), _std(s)
    fix = _fixation_list(counts)
    if sd == 0:
        return 0.0
    return sum((s[r, c] - m) / sd for r, c in fix) / len(fix)


def cc(p: F, q: F) -> float:
    mp, mq = _mean(p), _mean(q)
    num = sum((float(a) - mp) * (float(b) - mq) for a, b in zip(p.ravel(), q.ravel(), strict=True))
    den = math.sqrt(sum((float(a) - mp) ** 2 for a in p.ravel())) * math.sqrt(
        sum((float(b) - mq) ** 2 for b in q.ravel())
    )
    return 0.0 if den == 0 else num / den


def sim(p: F, q: F) -> float:
    def norm(a: F) -> F:
        lo, hi = float(a.min()), float(a.max())
        b = np.ones_like(a) if hi == lo else (a - lo) / (hi - lo)
        return b / b.sum()

    pn, qn = norm(p), norm(q)
    return sum(min(float(a), float(b)) for a, b in zip(pn.ravel(), qn.ravel(), strict=True))


def kld(p: F, q: F, eps: float = float(np.finfo(np.float64).eps)) -> float:
    pn, qn = p / p.sum(), q / q.sum()
    return sum(
        float(b) * math.log(eps + float(b) / (float(a) + eps))
        for a, b in zip(pn.ravel(), qn.ravel(), strict=True)
    )


def roc_area_by_thresholds(pos: list[float], neg: list[float], thresholds: list[float]) -> float:
    """ROC curve through the given thresholds (descending), from (0,0) to (1,1), trapezoid."""
    tp, fp = [0.0], [0.0]
    for t in sorted(set(thresholds), reverse=True):
        tp.append(sum(1 for v in pos if v >= t) / len(pos))
        fp.append(sum(1 for v in neg if v >= t) / len(neg))
    tp.append(1.0)
    fp.append(1.0)
    return sum((fp[i + 1] - fp[i]) * (tp[i + 1] + tp[i]) / 2 for i in range(len(tp) - 1))


def auc_judd(s: F, counts: npt.NDArray[np.int64]) -> float:
    fix = _fixation_list(counts)
    pos = [float(s[r, c]) for r, c in fix]
    neg = [
        float(s[r, c]) for r in range(s.shape[0]) for c in range(s.shape[1]) if counts[r, c] == 0
    ]
    return roc_area_by_thresholds(pos, neg, pos)


def mann_whitney_auc(pos: list[float], neg: list[float]) -> float:
    total = 0.0
    for a in pos:
        for b in neg:
            total += 1.0 if a > b else 0.5 if a == b else 0.0
    return total / (len(pos) * len(neg))


def auc_borji(s: F, counts: npt.NDArray[np.int64], n_splits: int, seed: int) -> float:
    # Same random draws as the library (flat pixel indices with replacement), scored by every
    # threshold of the positives and negatives.
    fix = _fixation_list(counts)
    pos = [float(s[r, c]) for r, c in fix]
    rng = np.random.default_rng(seed)
    flat = s.ravel()
    aucs = []
    for _ in range(n_splits):
        neg = [float(flat[i]) for i in rng.integers(0, flat.size, size=len(pos))]
        aucs.append(roc_area_by_thresholds(pos, neg, pos + neg))
    return sum(aucs) / n_splits


def information_gain(s: F, counts: npt.NDArray[np.int64], base: F) -> float:
    eps = float(np.finfo(np.float64).eps)
    p, b = s / s.sum(), base / base.sum()
    fix = _fixation_list(counts)
    return sum(math.log2(eps + p[r, c]) - math.log2(eps + b[r, c]) for r, c in fix) / len(fix)


def emd_1d_rows(p: F, q: F) -> float:
    """EMD of two maps with one row: the L1 distance of their cumulative sums (1-D closed form)."""
    pn, qn = (p / p.sum()).ravel(), (q / q.sum()).ravel()
    acc, total = 0.0, 0.0
    for a, b in zip(pn[:-1], qn[:-1], strict=True):
        acc += float(a) - float(b)
        total += abs(acc)
    return total
