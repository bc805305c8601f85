"""Confidence intervals, paired permutation tests and effect sizes for per-image quantities.

Every quantity (an AUC difference, a metric, a region share) is first computed per image, then
summarised over images. Images of one identity are not independent (a KDEF-style test set shows
each identity in every expression), so pooled estimates pass ``groups`` = the identity of each
image: the bootstrap resamples identities and the permutation test flips all of an identity's
differences together. A per-class row with one image per identity is unaffected by clustering.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

from gazealign.stats import resampling as rs
from gazealign.stats.resampling import INTERVAL_METHODS, IntervalMethod

FloatArray = npt.NDArray[np.float64]
Alternative = Literal["two-sided", "less", "greater"]


def _values(x: npt.ArrayLike, name: str = "values") -> FloatArray:
    v = np.asarray(x, dtype=np.float64).ravel()
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or infinite values; drop them and report how many")
    return v


@dataclass(frozen=True)
class Interval:
    """A mean with its bootstrap confidence interval, and how it was obtained.

    ``n``: values; ``n_groups``: clusters resampled (identities; = ``n`` when unclustered);
    ``method``: ``"bca"`` or ``"percentile"``.
    """

    estimate: float
    ci_low: float
    ci_high: float
    confidence: float
    n: int
    n_groups: int
    resamples: int
    seed: int
    method: str = "bca"
    expanded: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def bootstrap_mean_ci(
    values: npt.ArrayLike,
    *,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int,
    groups: npt.ArrayLike | None = None,
    method: IntervalMethod = "bca",
    expand: bool = False,
) -> Interval:
    """Bootstrap interval of the mean of ``values`` (n,), resampling ``groups`` (clusters).

    Without ``groups`` each value is resampled with replacement. With ``groups`` (n,) labels
    (identities), whole clusters are drawn with replacement and the statistic is the mean over
    all values of the drawn clusters (cluster bootstrap). ``method="bca"`` (default): the
    bias-corrected and accelerated interval (Efron 1987) with the acceleration from the
    jackknife over clusters; ``"percentile"``: the plain percentile interval. See
    :mod:`gazealign.stats.resampling`. ``expand``: Hesterberg's small-sample expansion for
    few clusters (:func:`~gazealign.stats.resampling.interval_levels`). With fewer than two
    clusters the interval is NaN; a constant sample gives the zero-width interval at its value.
    """
    v = _values(values)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if method not in INTERVAL_METHODS:
        raise ValueError(f"unknown interval method {method!r}; available: {INTERVAL_METHODS}")
    clusters = rs.cluster_totals(v, groups)
    n_groups = clusters.n_clusters
    estimate = float(v.mean()) if v.size else float("nan")
    if n_groups < 2:
        nan = float("nan")
        return Interval(
            estimate, nan, nan, confidence, int(v.size), n_groups, resamples, seed, method, expand
        )
    if np.all(v == v[0]):
        e = estimate
        return Interval(e, e, e, confidence, int(v.size), n_groups, resamples, seed, method, expand)
    boot = rs.bootstrap_means(clusters, resamples, seed=seed)
    jack = rs.jackknife_means(clusters) if method == "bca" else None
    lo_level, hi_level = rs.interval_levels(
        boot,
        estimate,
        confidence=confidence,
        method=method,
        jackknife=jack,
        expand_for=n_groups if expand else None,
    )
    low, high = rs.interval_from_levels(boot, lo_level, hi_level)
    return Interval(
        estimate,
        float(low),
        float(high),
        confidence,
        int(v.size),
        n_groups,
        resamples,
        seed,
        method,
        expand,
    )


@dataclass(frozen=True)
class PermutationTest:
    """A paired sign-flip permutation test of mean(differences) = 0.

    ``n_groups``: clusters whose signs flip together (= number of differences when unclustered).
    """

    statistic: float  # mean difference
    p_value: float
    permutations: int  # sign patterns evaluated (2**n_groups when exact)
    exact: bool
    alternative: str
    seed: int
    n_groups: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def paired_permutation_test(
    differences: npt.ArrayLike,
    *,
    permutations: int = 5000,
    seed: int,
    alternative: Alternative = "two-sided",
    groups: npt.ArrayLike | None = None,
) -> PermutationTest:
    """Sign-flip permutation test on paired differences d_i = a_i - b_i (n,).

    Under H0 (a and b exchangeable) every difference is as likely to have the other sign; with
    ``groups`` (identities) all differences of a cluster flip together, because they share the
    cluster's effect. The statistic is the mean over all differences. Exact (all 2**G patterns)
    when 2**G <= ``permutations``; otherwise Monte Carlo with ``permutations`` random patterns
    (the observed pattern counts, so p is never 0). Two-sided p = 2 min(P(null <= obs),
    P(null >= obs)), capped at 1 (as ``scipy.stats.permutation_test``, which the tests check).
    """
    d = _values(differences, "differences")
    if d.size < 1:
        raise ValueError("no differences to test")
    clusters = rs.cluster_totals(d, groups)
    patterns, exact = rs.sign_patterns(clusters.n_clusters, permutations, seed=seed)
    p = float(rs.sign_flip_p(clusters, patterns, exact, alternative=alternative))
    return PermutationTest(
        float(d.mean()),
        p,
        int(patterns.shape[0]),
        exact,
        alternative,
        seed,
        clusters.n_clusters,
    )


def cohens_dz(differences: npt.ArrayLike) -> float:
    """Cohen's d_z for paired data: mean(d) / sd(d) (ddof=1). NaN when sd is 0 or n < 2.

    Reference: Lakens (2013), Frontiers in Psychology 4:863, eq. 6.
    """
    d = _values(differences, "differences")
    if d.size < 2:
        return float("nan")
    sd = d.std(ddof=1)
    return float("nan") if sd == 0 else float(d.mean() / sd)


def rank_biserial(differences: npt.ArrayLike) -> float:
    """Matched-pairs rank-biserial correlation: (R+ - R-) / (R+ + R-), in [-1, 1].

    R+/R- are the sums of the ranks of |d| (average ranks for ties) over positive/negative d;
    zero differences are dropped (Wilcoxon). NaN when every difference is 0.
    Reference: Kerby (2014), Comprehensive Psychology 3:11.IT.3.1.
    """
    d = _values(differences, "differences")
    d = d[d != 0]
    if d.size == 0:
        return float("nan")
    ranks = stats.rankdata(np.abs(d))
    r_plus, r_minus = ranks[d > 0].sum(), ranks[d < 0].sum()
    return float((r_plus - r_minus) / (r_plus + r_minus))
