"""Does a paired difference depend on the class? The expression x ordering interaction.

The per-image difference d = (human-ordering AUC) - (network-ordering AUC) is the ordering
effect of one image; an expression effect on d *is* the expression x ordering interaction.
Every identity is seen in several expressions, so d has an identity effect; the test keeps it:

    statistic  SS = sum_e n_e * mean_e(r)^2,  r = d - (mean of d over the image's identity)

(the between-expression sum of squares of the two-way additive model; for a balanced design it
is monotone in the repeated-measures F, because the within-identity total is fixed), and its
null distribution permutes the expression labels *within* each identity (Anderson & ter Braak
2003, J. Stat. Comput. Simul. 73(2): restricted permutation of a within-block factor). H0: the
differences of an identity are exchangeable across expressions (no interaction). The p-value
counts the observed labelling: (count + 1) / (P + 1) (Phipson & Smyth 2010).

Written by hand because no library permutes within blocks for this statistic; a linear mixed
model (statsmodels ``MixedLM`` with identity as a random intercept) is the parametric
alternative, and the benchmark ``benchmarks/inference_calibration.py`` measures this test's size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class InteractionTest:
    """Result of :func:`interaction_permutation_test` for one family of per-class rows."""

    statistic: float  # between-class sum of squares of identity-centred differences
    p_value: float
    permutations: int
    n: int
    n_groups: int  # identities
    n_classes: int
    seed: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _codes(labels: npt.ArrayLike) -> tuple[npt.NDArray[np.int64], int]:
    _, codes = np.unique(np.asarray(labels).astype(str), return_inverse=True)
    return codes.astype(np.int64), int(codes.max()) + 1 if codes.size else 0


def within_group_permutations(
    groups: npt.ArrayLike, permutations: int, *, seed: int
) -> npt.NDArray[np.int64]:
    """Index arrays (P, n): each row shuffles positions only among rows of the same group."""
    codes, _ = _codes(groups)
    n = codes.size
    rng = np.random.default_rng(seed)
    home = np.argsort(codes, kind="stable")  # positions, grouped
    keys = codes[home][None, :] + rng.random((permutations, n))
    shuffled = home[np.argsort(keys, axis=1)]  # same grouping, random order within each group
    idx = np.empty((permutations, n), dtype=np.int64)
    idx[:, home] = shuffled
    return idx


def class_sum_of_squares(
    values: npt.ArrayLike, groups: npt.ArrayLike, classes: npt.ArrayLike
) -> FloatArray:
    """SS of the class means of identity-centred ``values`` (..., n): (...)."""
    v = np.asarray(values, dtype=np.float64)
    g, n_g = _codes(groups)
    c, n_c = _codes(classes)
    r = _centre(v, g, n_g)
    onehot = np.zeros((v.shape[-1], n_c))
    onehot[np.arange(v.shape[-1]), c] = 1.0
    sums = r @ onehot
    return np.asarray((sums**2 / onehot.sum(axis=0)).sum(axis=-1), dtype=np.float64)


def _centre(v: FloatArray, g: npt.NDArray[np.int64], n_g: int) -> FloatArray:
    onehot = np.zeros((v.shape[-1], n_g))
    onehot[np.arange(v.shape[-1]), g] = 1.0
    means = (v @ onehot) / onehot.sum(axis=0)
    return np.asarray(v - means @ onehot.T, dtype=np.float64)


def interaction_p(
    values: npt.ArrayLike,
    groups: npt.ArrayLike,
    classes: npt.ArrayLike,
    *,
    permutations: int,
    seed: int,
    block_bytes: int = 64 * 2**20,
) -> tuple[FloatArray, FloatArray]:
    """Statistic and p-value (both (...)) for ``values`` (..., n), vectorised over leading axes.

    The same permutations serve every leading index; the work runs in blocks of permutations
    so that memory stays near ``block_bytes``.
    """
    v = np.asarray(values, dtype=np.float64)
    g, n_g = _codes(groups)
    c, n_c = _codes(classes)
    n = v.shape[-1]
    if g.size != n or c.size != n:
        raise ValueError(f"groups and classes must have {n} entries")
    r = _centre(v, g, n_g)
    onehot = np.zeros((n, n_c))
    onehot[np.arange(n), c] = 1.0
    n_e = onehot.sum(axis=0)
    observed = ((r @ onehot) ** 2 / n_e).sum(axis=-1)
    idx = within_group_permutations(g, permutations, seed=seed)
    lead = int(np.prod(r.shape[:-1], dtype=np.int64))
    step = max(1, block_bytes // max(1, 8 * n * lead))
    count = np.zeros(observed.shape)
    tol = 1e-12 * np.maximum(1.0, np.abs(observed))
    for start in range(0, permutations, step):
        perm = r[..., idx[start : start + step]]  # (..., p, n)
        null = ((perm @ onehot) ** 2 / n_e).sum(axis=-1)  # (..., p)
        count += (null >= observed[..., None] - tol[..., None]).sum(axis=-1)
    return np.asarray(observed), np.asarray((count + 1) / (permutations + 1))


def interaction_permutation_test(
    values: npt.ArrayLike,
    groups: npt.ArrayLike,
    classes: npt.ArrayLike,
    *,
    permutations: int = 5000,
    seed: int,
) -> InteractionTest:
    """Test whether the mean of ``values`` (n,) (paired differences) depends on ``classes`` (n,)
    once each identity in ``groups`` (n,) has its own level. When every value has its own
    identity the values are independent and the labels are permuted across all of them. NaN
    when fewer than two classes or no identity has two classes (nothing to permute)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(v)):
        raise ValueError("values contain NaN or infinite entries; drop them and report how many")
    g, n_g = _codes(groups)
    c, n_c = _codes(classes)
    if n_g == v.size:
        # Every image is its own identity (e.g. FER2013): images are independent, so the
        # labels are exchangeable across all images (one block).
        g = np.zeros_like(g)
    informative = any(
        np.unique(c[g == k]).size > 1 for k in range(int(g.max()) + 1 if g.size else 0)
    )
    if n_c < 2 or not informative:
        return InteractionTest(float("nan"), float("nan"), 0, v.size, n_g, n_c, seed)
    stat, p = interaction_p(v, g, c, permutations=permutations, seed=seed)
    return InteractionTest(float(stat), float(p), permutations, v.size, n_g, n_c, seed)
