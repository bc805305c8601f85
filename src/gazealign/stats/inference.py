"""Confidence intervals, paired permutation tests and effect sizes for per-image quantities.

The unit of analysis is the image (a stimulus): every quantity (an AUC difference, a metric, a
region share) is first computed per image, then summarised over images. Where the same images
are seen by several subjects and a quantity is computed per subject, pass ``groups`` to resample
whole clusters (subjects or images) instead of single rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]
Alternative = Literal["two-sided", "less", "greater"]


def _values(x: npt.ArrayLike, name: str = "values") -> FloatArray:
    v = np.asarray(x, dtype=np.float64).ravel()
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or infinite values; drop them and report how many")
    return v


@dataclass(frozen=True)
class Interval:
    """A mean with its percentile-bootstrap confidence interval, and how it was obtained."""

    estimate: float
    ci_low: float
    ci_high: float
    confidence: float
    n: int
    n_groups: int
    resamples: int
    seed: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def bootstrap_mean_ci(
    values: npt.ArrayLike,
    *,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int,
    groups: npt.ArrayLike | None = None,
) -> Interval:
    """Percentile bootstrap interval of the mean of ``values`` (n,).

    Without ``groups`` each value is resampled with replacement (the usual bootstrap over
    images). With ``groups`` (n,) labels, whole groups are resampled and the statistic is the
    mean over all rows of the drawn groups (cluster bootstrap, e.g. over subjects). Written by
    hand rather than with ``scipy.stats.bootstrap`` because SciPy has no cluster resampling; for
    the plain case both are the same percentile method (checked in the tests).
    With fewer than two values (or groups) the interval is NaN.
    """
    v = _values(values)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if groups is None:
        codes = np.arange(v.size)
    else:
        g = np.asarray(groups)
        if g.shape != v.shape:
            raise ValueError(f"groups has shape {g.shape}, values {v.shape}")
        _, codes = np.unique(g, return_inverse=True)
    n_groups = int(codes.max()) + 1 if v.size else 0
    estimate = float(v.mean()) if v.size else float("nan")
    if n_groups < 2:
        nan = float("nan")
        return Interval(estimate, nan, nan, confidence, int(v.size), n_groups, resamples, seed)
    sums = np.bincount(codes, weights=v, minlength=n_groups)
    counts = np.bincount(codes, minlength=n_groups).astype(np.float64)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_groups, size=(resamples, n_groups))
    boot = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return Interval(
        estimate, float(low), float(high), confidence, int(v.size), n_groups, resamples, seed
    )


@dataclass(frozen=True)
class PermutationTest:
    """A paired sign-flip permutation test of mean(differences) = 0."""

    statistic: float  # mean difference
    p_value: float
    permutations: int  # sign patterns evaluated (2**n when exact)
    exact: bool
    alternative: str
    seed: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def paired_permutation_test(
    differences: npt.ArrayLike,
    *,
    permutations: int = 5000,
    seed: int,
    alternative: Alternative = "two-sided",
) -> PermutationTest:
    """Sign-flip permutation test on paired differences d_i = a_i - b_i (n,).

    Under H0 (a and b exchangeable within each image) every d_i is as likely to have the other
    sign; the null distribution of mean(d) is built by flipping signs. Exact (all 2**n patterns)
    when 2**n <= ``permutations``; otherwise Monte Carlo with ``permutations`` random patterns
    (p-value includes the observed pattern, so it is never 0). Uses
    ``scipy.stats.permutation_test`` (one sample, ``permutation_type='samples'`` = sign flips).
    """
    d = _values(differences, "differences")
    if d.size < 1:
        raise ValueError("no differences to test")
    if d.size == 1:
        # scipy needs two observations; the exact null of one difference is {+d, -d}.
        null = np.array([d[0], -d[0]])
        if alternative == "two-sided":
            p = float(np.mean(np.abs(null) >= abs(d[0])))
        elif alternative == "greater":
            p = float(np.mean(null >= d[0]))
        else:
            p = float(np.mean(null <= d[0]))
        return PermutationTest(float(d[0]), p, 2, True, alternative, seed)
    res = stats.permutation_test(
        (d,),
        np.mean,
        permutation_type="samples",
        n_resamples=permutations,
        alternative=alternative,
        vectorized=True,
        axis=-1,
        rng=np.random.default_rng(seed),
    )
    n_null = int(np.asarray(res.null_distribution).size)
    exact = 2**d.size <= permutations
    return PermutationTest(float(d.mean()), float(res.pvalue), n_null, exact, alternative, seed)


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
