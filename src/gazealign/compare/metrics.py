"""Saliency metrics: how well a map predicts where people looked.

Every metric is a pure function. Data arguments are positional (the map under test first, then
the human reference), options keyword-only. Shapes are checked; maps are converted to float64;
nothing is normalised behind the caller's back except the normalisation the metric's definition
itself contains (stated in each docstring).

Human reference comes in two forms:

* a *fixation map*: (rows, cols) non-negative integer counts (or bool) of fixations per pixel
  (see :func:`fixation_map`). Each fixation is one positive sample: a pixel fixated twice counts
  twice (as in pysaliency; for a binary map this equals the MIT benchmark code);
* a *density map*: (rows, cols) non-negative continuous human map (e.g. a fixation density).

Definitions follow Bylinskii, Judd, Oliva, Torralba, Durand (2018), "What do different evaluation
metrics tell us about saliency models?", IEEE TPAMI 41(3), and the MIT saliency benchmark code.
Each metric registers itself (:func:`~gazealign.compare.metric_registry.metric`) with its
direction, the human data it reads and whether it needs a non-negative map.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from gazealign.compare.correlation import pearson_cc, zscore
from gazealign.compare.metric_registry import metric

FloatArray = npt.NDArray[np.float64]

#: Default epsilon of KLD and IG: the MIT benchmark code uses Matlab's ``eps`` (2.2e-16).
EPS = float(np.finfo(np.float64).eps)


# --- input handling ---------------------------------------------------------------------------


def _as_map(values: npt.ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (rows, cols) map, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _same_shape(a: FloatArray, b: npt.NDArray[np.generic], names: tuple[str, str]) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} has shape {a.shape} but {names[1]} has shape {b.shape}; "
            "bring both into the same frame first"
        )


def _non_negative(a: FloatArray, name: str) -> FloatArray:
    if (a < 0).any():
        raise ValueError(
            f"{name} has negative values; this metric compares distributions, so pass a "
            "non-negative map (e.g. the positive part of a relevance map, as a recorded step)"
        )
    return a


def _counts(fixations: npt.ArrayLike, shape: tuple[int, ...], name: str) -> npt.NDArray[np.int64]:
    arr = np.asarray(fixations)
    if arr.shape != shape:
        raise ValueError(f"{name} has shape {arr.shape}, expected {shape} (same as the map)")
    if arr.dtype == np.bool_:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.number) or (arr < 0).any() or (arr != np.round(arr)).any():
        raise ValueError(f"{name} must hold non-negative integer fixation counts (or bool)")
    counts = arr.astype(np.int64)
    if counts.sum() == 0:
        raise ValueError(f"{name} has no fixations")
    return counts


def _sum_normalise(a: FloatArray, name: str) -> FloatArray:
    total = a.sum()
    if total <= 0:
        raise ValueError(f"{name} sums to {total}; a distribution needs positive mass")
    return a / total


def fixation_map(
    x_px: npt.ArrayLike, y_px: npt.ArrayLike, shape: tuple[int, int]
) -> tuple[npt.NDArray[np.int64], int]:
    """Count fixations per pixel: (counts (rows, cols) int64, number of fixations outside).

    ``x_px``/``y_px`` are gaze positions in the map's frame; pixel (r, c) covers
    [c, c+1) x [r, r+1), so a fixation at (x, y) falls in (floor(y), floor(x)). Fixations outside
    the map are not counted; their number is returned so the caller can report it.
    """
    x = np.asarray(x_px, dtype=np.float64).ravel()
    y = np.asarray(y_px, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x_px has {x.size} values but y_px has {y.size}")
    rows, cols = shape
    finite = np.isfinite(x) & np.isfinite(y)
    c = np.floor(np.where(finite, x, -1)).astype(np.int64)
    r = np.floor(np.where(finite, y, -1)).astype(np.int64)
    inside = finite & (c >= 0) & (c < cols) & (r >= 0) & (r < rows)
    counts = np.zeros(shape, dtype=np.int64)
    np.add.at(counts, (r[inside], c[inside]), 1)
    return counts, int((~inside).sum())


def _roc_auc(
    positives: FloatArray, negatives: FloatArray, pos_weights: FloatArray | None = None
) -> float:
    """Area under the ROC curve separating ``positives`` from ``negatives`` (ties count half).

    Equals the curve through the thresholds at every distinct value, integrated with the
    trapezoid rule; computed as the Mann-Whitney statistic by sorting.
    """
    w = np.ones_like(positives) if pos_weights is None else pos_weights
    neg = np.sort(negatives)
    below = np.searchsorted(neg, positives, side="left")
    not_above = np.searchsorted(neg, positives, side="right")
    wins = below + 0.5 * (not_above - below)
    return float((w * wins).sum() / (w.sum() * neg.size))


# --- metrics ----------------------------------------------------------------------------------


@metric(
    "nss",
    description="Normalized scanpath saliency: mean z-scored map value at fixations",
    higher_is_better=True,
    inputs=("fixations",),
)
def nss(saliency_map: npt.ArrayLike, fixations: npt.ArrayLike) -> float:
    """Normalized Scanpath Saliency (higher is better; chance 0).

    NSS = (1/N) sum_i Sbar(x_i), Sbar = (S - mean(S)) / std(S), over the N fixations x_i.
    A constant map scores 0. Reference: Bylinskii et al. 2018, sec. 3.2.1; Peters et al. 2005.

    ``saliency_map`` (rows, cols); ``fixations`` (rows, cols) fixation counts.
    """
    s = _as_map(saliency_map, "saliency_map")
    counts = _counts(fixations, s.shape, "fixations")
    z = zscore(s)
    return float((z * counts).sum() / counts.sum())


@metric(
    "cc",
    description="Pearson correlation of the map with the human density",
    higher_is_better=True,
    inputs=("density",),
)
def cc(saliency_map: npt.ArrayLike, reference_map: npt.ArrayLike) -> float:
    """Pearson's linear correlation coefficient of two maps (higher is better; range [-1, 1]).

    CC = cov(P, Q) / (std(P) std(Q)) = mean(Pbar * Qbar) with z-scored maps. Symmetric.
    A constant map scores 0. Reference: Bylinskii et al. 2018, sec. 3.2.3.
    """
    p = _as_map(saliency_map, "saliency_map")
    q = _as_map(reference_map, "reference_map")
    _same_shape(p, q, ("saliency_map", "reference_map"))
    return pearson_cc(p, q)


def _min_max(a: FloatArray) -> FloatArray:
    span = a.max() - a.min()
    # A constant map has no structure: treat it as uniform (all ones) rather than divide by 0.
    return np.ones_like(a) if span == 0 else (a - a.min()) / span


@metric(
    "sim",
    description="Similarity (histogram intersection) with the human density",
    higher_is_better=True,
    inputs=("density",),
    positive_part=True,
)
def sim(saliency_map: npt.ArrayLike, reference_map: npt.ArrayLike) -> float:
    """Similarity (histogram intersection) of two maps (higher is better; range [0, 1]).

    Both maps are min-max scaled to [0, 1] and divided by their sum, then
    SIM = sum_i min(P_i, Q_i). A constant map is treated as uniform. Symmetric.
    Reference: Bylinskii et al. 2018, sec. 3.2.2; Judd et al. 2012.
    """
    p = _as_map(saliency_map, "saliency_map")
    q = _as_map(reference_map, "reference_map")
    _same_shape(p, q, ("saliency_map", "reference_map"))
    p = _sum_normalise(_min_max(p), "saliency_map")
    q = _sum_normalise(_min_max(q), "reference_map")
    return float(np.minimum(p, q).sum())


@metric(
    "kld",
    description="Kullback-Leibler divergence of the human density from the map",
    higher_is_better=False,
    inputs=("density",),
    positive_part=True,
)
def kld(saliency_map: npt.ArrayLike, reference_map: npt.ArrayLike, *, eps: float = EPS) -> float:
    """Kullback-Leibler divergence of the saliency map P from the human map Q (lower is better).

    Both non-negative maps are divided by their sum, then
    KLD = sum_i Q_i log(eps + Q_i / (P_i + eps)) (natural log). 0 for identical maps; not
    symmetric. Reference: Bylinskii et al. 2018, sec. 3.2.4 (MIT benchmark ``KLdiv``).
    """
    p = _non_negative(_as_map(saliency_map, "saliency_map"), "saliency_map")
    q = _non_negative(_as_map(reference_map, "reference_map"), "reference_map")
    _same_shape(p, q, ("saliency_map", "reference_map"))
    p = _sum_normalise(p, "saliency_map")
    q = _sum_normalise(q, "reference_map")
    return float((q * np.log(eps + q / (p + eps))).sum())


@metric(
    "auc_judd",
    description="ROC area: fixated pixels against all other pixels",
    higher_is_better=True,
    inputs=("fixations",),
)
def auc_judd(saliency_map: npt.ArrayLike, fixations: npt.ArrayLike) -> float:
    """AUC-Judd: ROC area, fixated pixels against all other pixels (higher is better; chance 0.5).

    Thresholds are the map's values at the fixations; at threshold t,
    TP(t) = fraction of fixations with S >= t, FP(t) = fraction of non-fixated pixels with
    S >= t; the curve from (0, 0) through these points to (1, 1) is integrated with the trapezoid
    rule. The MIT code adds random jitter to break ties; this does not, so a constant map scores
    exactly 0.5. Reference: Bylinskii et al. 2018, sec. 3.1.1;
    Judd et al. 2009.
    """
    s = _as_map(saliency_map, "saliency_map")
    counts = _counts(fixations, s.shape, "fixations")
    fixated = counts > 0
    if fixated.all():
        raise ValueError("every pixel is fixated: AUC-Judd has no negatives")
    pos, weights = s[fixated], counts[fixated].astype(np.float64)
    neg = np.sort(s[~fixated])
    thresholds = np.unique(pos)[::-1]  # descending
    order = np.argsort(pos)
    pos_sorted, w_cum = pos[order], np.cumsum(weights[order][::-1])[::-1]
    # TP(t): weight of fixations with S >= t; FP(t): negatives with S >= t.
    first = np.searchsorted(pos_sorted, thresholds, side="left")
    tp = w_cum[first] / weights.sum()
    fp = (neg.size - np.searchsorted(neg, thresholds, side="left")) / neg.size
    tp = np.concatenate([[0.0], tp, [1.0]])
    fp = np.concatenate([[0.0], fp, [1.0]])
    return float(np.trapezoid(tp, fp))


def _fixation_values(s: FloatArray, counts: npt.NDArray[np.int64]) -> FloatArray:
    return np.repeat(s.ravel(), counts.ravel())


@metric(
    "auc_borji",
    description="ROC area: fixations against uniformly sampled pixels",
    higher_is_better=True,
    inputs=("fixations",),
    options=("n_splits", "seed"),
)
def auc_borji(
    saliency_map: npt.ArrayLike,
    fixations: npt.ArrayLike,
    *,
    n_splits: int = 100,
    seed: int = 0,
) -> float:
    """AUC-Borji: fixations against uniformly sampled pixels (higher is better; chance 0.5).

    For each of ``n_splits`` splits, as many negatives as there are fixations are drawn
    uniformly (with replacement) from all pixels; the ROC area between the map's values at the
    fixations and at the negatives is averaged over splits. The MIT code thresholds at fixed
    steps of 0.1 of the normalised map; this uses every distinct value (the exact ROC area, ties
    half), which is what the coarse grid approximates. Reference: Bylinskii et al. 2018,
    sec. 3.1.1; Borji et al. 2013.
    """
    s = _as_map(saliency_map, "saliency_map")
    counts = _counts(fixations, s.shape, "fixations")
    pos = _fixation_values(s, counts)
    rng = np.random.default_rng(seed)
    flat = s.ravel()
    aucs = [_roc_auc(pos, flat[rng.integers(0, flat.size, size=pos.size)]) for _ in range(n_splits)]
    return float(np.mean(aucs))


@metric(
    "auc_shuffled",
    description="ROC area: fixations against fixations on other images",
    higher_is_better=True,
    inputs=("fixations", "other_fixations"),
    options=("n_splits", "seed"),
)
def auc_shuffled(
    saliency_map: npt.ArrayLike,
    fixations: npt.ArrayLike,
    other_fixations: npt.ArrayLike,
    *,
    n_splits: int = 100,
    seed: int = 0,
) -> float:
    """Shuffled AUC: fixations against fixations made on *other* images (higher is better).

    ``other_fixations`` (rows, cols) counts fixations on other stimuli, mapped into this map's
    frame. For each split, min(N, M) negatives are drawn without replacement from those M
    fixations; the ROC area is averaged over splits. Because negatives share the human centre
    bias, a pure centre-bias map scores about 0.5. Reference: Bylinskii et al. 2018, sec. 3.1.2;
    Zhang et al. 2008.
    """
    s = _as_map(saliency_map, "saliency_map")
    counts = _counts(fixations, s.shape, "fixations")
    others = _counts(other_fixations, s.shape, "other_fixations")
    pos = _fixation_values(s, counts)
    other_values = _fixation_values(s, others)
    k = min(pos.size, other_values.size)
    rng = np.random.default_rng(seed)
    aucs = [
        _roc_auc(pos, other_values[rng.choice(other_values.size, size=k, replace=False)])
        for _ in range(n_splits)
    ]
    return float(np.mean(aucs))


@metric(
    "information_gain",
    description="Information gain over the baseline map, bits per fixation",
    higher_is_better=True,
    inputs=("fixations", "baseline"),
    positive_part=True,
)
def information_gain(
    saliency_map: npt.ArrayLike,
    fixations: npt.ArrayLike,
    baseline_map: npt.ArrayLike,
    *,
    eps: float = EPS,
) -> float:
    """Information gain over a baseline map, bits per fixation (higher is better; 0 = baseline).

    Both non-negative maps are divided by their sum, then
    IG = (1/N) sum_i [log2(eps + P(x_i)) - log2(eps + B(x_i))] over the N fixations x_i.
    The baseline is usually a centre-bias map. Reference: Bylinskii et al. 2018, sec. 3.2.5;
    Kummerer et al. 2015.
    """
    p = _non_negative(_as_map(saliency_map, "saliency_map"), "saliency_map")
    b = _non_negative(_as_map(baseline_map, "baseline_map"), "baseline_map")
    _same_shape(p, b, ("saliency_map", "baseline_map"))
    counts = _counts(fixations, p.shape, "fixations")
    p = _sum_normalise(p, "saliency_map")
    b = _sum_normalise(b, "baseline_map")
    gain = np.log2(eps + p) - np.log2(eps + b)
    return float((gain * counts).sum() / counts.sum())


def downsize(values: npt.ArrayLike, *, max_side_px: int) -> FloatArray:
    """Area-average ``values`` so that its longer side is at most ``max_side_px`` (mass kept)."""
    import cv2

    a = _as_map(values, "map")
    rows, cols = a.shape
    factor = max(rows, cols) / max_side_px
    if factor <= 1:
        return a
    out_rows, out_cols = max(1, round(rows / factor)), max(1, round(cols / factor))
    small = cv2.resize(a, (out_cols, out_rows), interpolation=cv2.INTER_AREA)
    # INTER_AREA averages; rescale so the total mass equals the original's.
    return np.asarray(small, dtype=np.float64) * (a.sum() / max(small.sum(), 1e-300))


EmdSolver = Literal["auto", "pot", "linprog"]


def _transport_cost(a: FloatArray, b: FloatArray, cost: FloatArray, solver: EmdSolver) -> float:
    if solver in ("auto", "pot"):
        try:
            import ot  # POT, the optional extra ``gazealign[emd]``
        except ImportError:
            if solver == "pot":
                raise ImportError(
                    "EMD with solver='pot' needs POT: pip install 'gazealign[emd]'"
                ) from None
        else:
            return float(ot.emd2(a, b, cost, numItermax=10_000_000))
    # Exact transport LP without POT: min <T, C> s.t. T 1 = a, T^T 1 = b, T >= 0. It is slow
    # (n^2 variables), so keep maps small when POT is missing.
    from scipy import sparse
    from scipy.optimize import linprog

    n = a.size
    ones = sparse.csr_array(np.ones((1, n)))
    identity = sparse.eye_array(n, format="csr")
    a_eq = sparse.vstack([sparse.kron(identity, ones), sparse.kron(ones, identity)]).tocsr()
    res = linprog(
        cost.ravel(), A_eq=a_eq, b_eq=np.concatenate([a, b]), bounds=(0, None), method="highs"
    )
    if not res.success:
        raise RuntimeError(f"EMD transport LP failed: {res.message}")
    return float(res.fun)


@metric(
    "emd",
    description="Earth mover's distance to the human density, in map pixels",
    higher_is_better=False,
    inputs=("density",),
    options=("max_side_px",),
    positive_part=True,
)
def emd(
    saliency_map: npt.ArrayLike,
    reference_map: npt.ArrayLike,
    *,
    max_side_px: int = 32,
    solver: EmdSolver = "auto",
) -> float:
    """Earth mover's distance between two maps, in pixels of the input maps (lower is better).

    Both non-negative maps are area-downsized so the longer side is ``max_side_px`` cells, divided
    by their sum, and the minimal cost of moving one onto the other is solved exactly as an optimal
    transport problem with Euclidean ground distance between cell centres, scaled back to input
    pixels. Symmetric; 0 for identical maps. Solver: POT's network simplex (``gazealign[emd]``),
    else scipy's HiGHS LP (slow above ~16x16). Reference: Bylinskii et al. 2018, sec. 3.2.6;
    Rubner et al. 2000 (the MIT code also downsizes before solving).
    """
    p = _non_negative(_as_map(saliency_map, "saliency_map"), "saliency_map")
    q = _non_negative(_as_map(reference_map, "reference_map"), "reference_map")
    _same_shape(p, q, ("saliency_map", "reference_map"))
    ps = _sum_normalise(downsize(p, max_side_px=max_side_px), "saliency_map")
    qs = _sum_normalise(downsize(q, max_side_px=max_side_px), "reference_map")
    cell_rows = p.shape[0] / ps.shape[0]
    cell_cols = p.shape[1] / ps.shape[1]
    rr, cc_ = np.mgrid[0 : ps.shape[0], 0 : ps.shape[1]]
    pos = np.stack([rr.ravel() * cell_rows, cc_.ravel() * cell_cols], axis=1)
    cost = np.sqrt(((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1))
    return _transport_cost(ps.ravel(), qs.ravel(), cost, solver)
