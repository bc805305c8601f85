"""The human noise ceiling: how well one half of the observers predicts the other half.

For each of ``n_splits`` random splits of the subjects who saw an image into two halves, the
density map of half A is scored against half B's fixations and density map on every metric,
and vice versa; the ceiling of the image is the mean over splits and both directions.
A network map is scored against *all* observers, a half map only predicts half of them from
half of them, so the split-half value is a conservative (low) ceiling: a network reaching it is
as good as a group of n/2 people. Reference: Bylinskii et al. 2018 (sec. 2.2); Kummerer et al.
2015 (the gold standard via held-out observers).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from gazealign.compare.metrics import fixation_map
from gazealign.compare.scoring import score_map

FloatArray = npt.NDArray[np.float64]

#: Builds a human map of the image from fixations: (x_px, y_px, duration_ms) -> (rows, cols).
DensityFn = Callable[[FloatArray, FloatArray, FloatArray], FloatArray]


def split_half_ceiling(
    fixations: pd.DataFrame,
    shape: tuple[int, int],
    density: DensityFn,
    *,
    baseline_map: npt.ArrayLike,
    other_fixations: npt.ArrayLike | None = None,
    n_splits: int = 10,
    metrics: Sequence[str] | None = None,
    metric_splits: int = 20,
    emd_max_side_px: int = 32,
    seed: int,
) -> pd.DataFrame:
    """Split-half human-vs-human scores of one image: one row per (split, direction, metric).

    ``fixations``: the image's fixations (columns ``subject``, ``x_px``, ``y_px``,
    ``duration_ms``) in the frame of ``shape``. Returns columns ``split``, ``direction``
    (``"A->B"``/``"B->A"``), ``metric``, ``value``, ``n_subjects_a``, ``n_subjects_b``;
    empty when fewer than two subjects fixated the image.
    """
    columns = ["split", "direction", "metric", "value", "n_subjects_a", "n_subjects_b"]
    subjects = np.array(sorted(fixations["subject"].astype(str).unique()))
    if subjects.size < 2:
        return pd.DataFrame(columns=columns)
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    subj = fixations["subject"].astype(str).to_numpy()
    for split in range(n_splits):
        perm = rng.permutation(subjects)
        half = subjects.size // 2
        halves = (set(perm[:half]), set(perm[half:]))
        parts = []
        for members in halves:
            f = fixations[np.isin(subj, list(members))]
            x = f["x_px"].to_numpy(np.float64)
            y = f["y_px"].to_numpy(np.float64)
            counts, _ = fixation_map(x, y, shape)
            parts.append((density(x, y, f["duration_ms"].to_numpy(np.float64)), counts))
        for direction, (src, dst) in (("A->B", (0, 1)), ("B->A", (1, 0))):
            if parts[dst][1].sum() == 0:
                continue  # the other half's fixations all fell outside the map
            scores = score_map(
                parts[src][0],
                parts[dst][1],
                parts[dst][0],
                baseline_map=baseline_map,
                other_fixations=other_fixations,
                metrics=metrics,
                n_splits=metric_splits,
                emd_max_side_px=emd_max_side_px,
                seed=seed + split,
            )
            rows += [
                {
                    "split": split,
                    "direction": direction,
                    "metric": k,
                    "value": v,
                    "n_subjects_a": len(halves[0]),
                    "n_subjects_b": len(halves[1]),
                }
                for k, v in scores.items()
            ]
    return pd.DataFrame(rows, columns=columns)


#: Map name of the leave-one-observer-out gold standard in ceiling tables.
GOLD = "gold standard"


def leave_one_out_ceiling(
    fixations: pd.DataFrame,
    shape: tuple[int, int],
    density: DensityFn,
    *,
    baseline_map: npt.ArrayLike,
    maps: Mapping[str, npt.ArrayLike] | None = None,
    other_fixations: npt.ArrayLike | None = None,
    metrics: Sequence[str] | None = None,
    observer_counts: Sequence[int] = (),
    curve_draws: int = 3,
    metric_splits: int = 20,
    emd_max_side_px: int = 32,
    seed: int,
) -> pd.DataFrame:
    """Leave-one-observer-out gold standard of one image, with ``maps`` scored alike.

    For every observer o who fixated the image: the density of the *other* observers'
    fixations (built by ``density``, the human-map code) is scored against o's fixations and
    o's own density, and so is every map in ``maps`` (network maps, centre bias, uniform), so
    the ceiling and the models stand on the same held-out data (Kummerer, Wallis & Bethge 2015,
    PNAS 112(52), "gold standard"; pysaliency's ``GoldStandardModel`` is the same construction
    with a cross-validated bandwidth, which here is ``heatmap.sigma_deg``). The ceiling as a
    function of the number of observers: for each k in ``observer_counts`` (< N), the density
    of ``curve_draws`` random sets of k other observers is scored too.

    Returns columns ``held_out`` (observer), ``map`` (:data:`GOLD` or a key of ``maps``),
    ``n_observers`` (observers in the predicting density; 0 for ``maps``), ``metric``,
    ``value``; empty when fewer than two observers fixated the image.
    """
    columns = ["held_out", "map", "n_observers", "metric", "value"]
    subj = fixations["subject"].astype(str).to_numpy()
    observers = np.array(sorted(set(subj)))
    if observers.size < 2:
        return pd.DataFrame(columns=columns)
    x = fixations["x_px"].to_numpy(np.float64)
    y = fixations["y_px"].to_numpy(np.float64)
    d = fixations["duration_ms"].to_numpy(np.float64)
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []

    def score(values: npt.ArrayLike, counts: npt.ArrayLike, own: FloatArray) -> dict[str, float]:
        return score_map(
            values,
            counts,
            own,
            baseline_map=baseline_map,
            other_fixations=other_fixations,
            metrics=metrics,
            n_splits=metric_splits,
            emd_max_side_px=emd_max_side_px,
            seed=seed,
        )

    def add(held: str, name: str, k: int, scores: dict[str, float]) -> None:
        rows.extend(
            {"held_out": held, "map": name, "n_observers": k, "metric": m, "value": v}
            for m, v in scores.items()
        )

    for o in observers:
        mine = subj == o
        counts, _ = fixation_map(x[mine], y[mine], shape)
        if counts.sum() == 0:
            continue  # the held-out observer's fixations all fell outside the map
        own = density(x[mine], y[mine], d[mine])
        others = observers[observers != o]
        add(o, GOLD, others.size, score(density(x[~mine], y[~mine], d[~mine]), counts, own))
        for name, values in (maps or {}).items():
            add(o, name, 0, score(values, counts, own))
        for k in observer_counts:
            if not 0 < k < others.size:
                continue
            for _ in range(curve_draws):
                pick = np.isin(subj, rng.choice(others, size=k, replace=False))
                add(o, GOLD, k, score(density(x[pick], y[pick], d[pick]), counts, own))
    return pd.DataFrame(rows, columns=columns)


def spearman_brown_cc(cc_k: npt.ArrayLike, k: npt.ArrayLike) -> tuple[float, float]:
    """Single-observer reliability r and the CC of infinitely many observers, sqrt(r).

    Observer maps X_j = T + E_j (T shared, E_j independent): the CC of the mean map of k
    observers with one new observer's map is CC_k = r / sqrt(r + (1 - r) / k), r = var(T) /
    var(X) (Spearman 1910; Brown 1910, applied to the mean of k maps). As k grows CC_k tends
    to sqrt(r), the CC of T itself with an observer's map. r is fitted to all (k, CC_k) by
    least squares; (NaN, NaN) without a positive CC.
    """
    from scipy.optimize import minimize_scalar

    c = np.asarray(cc_k, dtype=np.float64)
    kk = np.asarray(k, dtype=np.float64)
    ok = np.isfinite(c) & (kk > 0)
    if not ok.any() or not (c[ok] > 0).any():
        return float("nan"), float("nan")
    c, kk = c[ok], kk[ok]

    def loss(r: float) -> float:
        return float(((r / np.sqrt(r + (1 - r) / kk) - c) ** 2).sum())

    r = float(minimize_scalar(loss, bounds=(1e-9, 1.0), method="bounded").x)
    return r, float(np.sqrt(r))


def extrapolate_ceiling(curve: pd.DataFrame, *, min_observers: int = 4) -> pd.DataFrame:
    """The ceiling for infinitely many observers, per metric, from a ceiling-vs-k curve.

    ``curve``: columns ``metric``, ``n_observers``, ``value`` (e.g. the :data:`GOLD` rows of
    :func:`leave_one_out_ceiling`, averaged over held-out observers and images). CC:
    :func:`spearman_brown_cc`; every other metric: least-squares line in 1/k through the
    points with k >= ``min_observers``, read at 1/k = 0 (the usual saturation model for a
    mean over k noisy maps; an approximation for the non-linear metrics). Returns columns
    ``metric``, ``extrapolated``, ``method``, ``max_observers``, ``at_max_observers``.
    """
    rows = []
    means = curve.groupby(["metric", "n_observers"], sort=True)["value"].mean().reset_index()
    for metric, sub in means.groupby("metric", sort=False):
        k = sub["n_observers"].to_numpy(np.float64)
        v = sub["value"].to_numpy(np.float64)
        at_max = float(v[np.argmax(k)])
        if metric == "cc":
            value, method = spearman_brown_cc(v, k)[1], "Spearman-Brown"
        else:
            use = (k >= min_observers) & np.isfinite(v)
            if use.sum() >= 2:
                _slope, intercept = np.polyfit(1.0 / k[use], v[use], 1)
                value, method = float(intercept), "linear in 1/k"
            else:
                value, method = float("nan"), "linear in 1/k"
        rows.append(
            {
                "metric": metric,
                "extrapolated": value,
                "method": method,
                "max_observers": int(k.max()),
                "at_max_observers": at_max,
            }
        )
    return pd.DataFrame(rows)


def chance_corrected(
    model: npt.ArrayLike, ceiling: npt.ArrayLike, chance: npt.ArrayLike
) -> FloatArray:
    """(model - chance) / (ceiling - chance): 0 = the chance map, 1 = the ceiling.

    The same formula serves lower-is-better metrics (KLD, EMD), whose signs flip together.
    NaN where the ceiling does not differ from chance.
    """
    m = np.asarray(model, dtype=np.float64)
    c = np.asarray(ceiling, dtype=np.float64)
    z = np.asarray(chance, dtype=np.float64)
    gap = c - z
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(np.abs(gap) > 0, (m - z) / np.where(gap == 0, 1.0, gap), np.nan))


def chance_corrected_interval(
    model: npt.ArrayLike,
    ceiling: npt.ArrayLike,
    chance: npt.ArrayLike,
    identities: npt.ArrayLike,
    observers: npt.ArrayLike,
    *,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int,
) -> tuple[float, float, float]:
    """(model - chance) / (ceiling - chance) of means over held-out cells, with an interval.

    Each of ``model``, ``ceiling``, ``chance`` (n,) holds one score per (image, held-out
    observer) cell, labelled by the image's identity and the observer. Identities and
    observers are both units here (crossed), so the interval is the percentile interval of
    the two-way (pigeonhole) bootstrap of Owen (2007), which reweights identities and
    observers independently (:func:`gazealign.stats.resampling.two_way_bootstrap_totals`);
    it is conservative for crossed designs. Returns (estimate, low, high); NaN interval with
    fewer than two identities or observers.
    """
    from gazealign.stats.resampling import two_way_bootstrap_totals

    stack = np.vstack([np.asarray(a, dtype=np.float64).ravel() for a in (model, ceiling, chance)])
    keep = np.isfinite(stack).all(axis=0)
    stack = stack[:, keep]
    ids = np.asarray(identities)[keep]
    obs = np.asarray(observers)[keep]
    if stack.shape[1] == 0:
        return float("nan"), float("nan"), float("nan")
    m, c, z = stack.mean(axis=1)
    estimate = float(chance_corrected(m, c, z))
    if np.unique(ids).size < 2 or np.unique(obs).size < 2:
        return estimate, float("nan"), float("nan")
    totals, _ = two_way_bootstrap_totals(stack, ids, obs, resamples, seed=seed)
    boot = chance_corrected(totals[0], totals[1], totals[2])  # counts cancel in the ratio
    boot = boot[np.isfinite(boot)]
    if boot.size == 0:
        return estimate, float("nan"), float("nan")
    alpha = (1 - confidence) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return estimate, float(low), float(high)
