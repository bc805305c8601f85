"""Tidy summary tables: one row per (quantity, comparison, class), with interval, test and
effect size, and the resampling settings that produced them.

Resampling unit: pooled rows ("all" classes) resample the clusters named by ``group`` (the
stimulus identity in every stage), so an identity's images enter or leave a resample together
and flip sign together in the permutation test. The per-class rows of one key combination form
one family of tests; their p-values are adjusted together (Holm by default) and the adjusted
value stands next to the raw one.

A researcher loads any of them in one line: ``pandas.read_parquet(path)`` (or the CSV twin).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from gazealign.stats.inference import (
    bootstrap_mean_ci,
    cohens_dz,
    paired_permutation_test,
    rank_biserial,
)
from gazealign.stats.interaction import interaction_permutation_test
from gazealign.stats.multiplicity import Adjustment, adjust_p
from gazealign.stats.resampling import IntervalMethod

#: Columns of every summary table written by :func:`summarise`.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "n",
    "n_groups",
    "resampling_unit",
    "estimate",
    "ci_low",
    "ci_high",
    "confidence",
    "interval_method",
    "interval_expanded",
    "bootstrap_resamples",
    "bootstrap_seed",
    "p_value",
    "p_adjusted",
    "p_adjust_method",
    "family_size",
    "permutations",
    "exact",
    "permutation_seed",
    "cohens_dz",
    "rank_biserial",
)

#: Label used for the row that pools all classes.
ALL = "all"


def summarise(
    table: pd.DataFrame,
    *,
    value: str,
    keys: Sequence[str],
    by_class: str | None = "label",
    test: bool = True,
    resamples: int = 2000,
    permutations: int = 5000,
    confidence: float = 0.95,
    seed: int,
    group: str | None = None,
    interval: IntervalMethod = "bca",
    expand: bool = True,
    adjust: Adjustment = "holm",
) -> pd.DataFrame:
    """Summarise column ``value`` of a per-image table for each combination of ``keys``.

    For every key combination, and within it for every class of ``by_class`` plus ``"all"``:
    the mean with a bootstrap interval (``interval``: ``"bca"`` or ``"percentile"``, with the
    small-sample expansion for few clusters when ``expand``) over
    ``group`` clusters (identities; over single rows when None) and, when ``test``, a paired
    sign-flip permutation test of mean = 0 (clusters flip together) with Cohen's d_z and the
    rank-biserial correlation (use ``test=True`` for columns that are differences; effect sizes
    treat rows as units). ``p_adjusted``: the per-class p-values of one key combination
    adjusted together (``adjust``: ``"holm"``, ``"fdr_bh"`` or ``"none"``), ``family_size``
    tests; the pooled row is its own family of one. ``n_groups`` counts the clusters
    (``resampling_unit`` names them). Seeds are derived from ``seed`` and the row's position,
    and written into the table.
    """
    missing = [c for c in (value, *keys, *(x for x in (by_class, group) if x)) if c not in table]
    if missing:
        raise ValueError(f"summarise: table has no column(s) {missing}")
    rows: list[dict[str, Any]] = []
    for key_values, sub in table.groupby(list(keys), sort=True, dropna=False):
        classes: list[tuple[str, pd.DataFrame]] = [(ALL, sub)]
        if by_class is not None:
            classes += [(str(c), s) for c, s in sub.groupby(by_class, sort=True)]
        for class_name, part in classes:
            row_seed = seed + len(rows)
            v = part[value].to_numpy(dtype=np.float64)
            groups = None if group is None else part[group].to_numpy()
            ci = bootstrap_mean_ci(
                v,
                resamples=resamples,
                confidence=confidence,
                seed=row_seed,
                groups=groups,
                method=interval,
                expand=expand,
            )
            row: dict[str, Any] = dict(zip(keys, _as_tuple(key_values), strict=True))
            if by_class is not None:
                row[by_class] = class_name
            row.update(
                n=ci.n,
                n_groups=ci.n_groups,
                resampling_unit=group or "row",
                estimate=ci.estimate,
                ci_low=ci.ci_low,
                ci_high=ci.ci_high,
                confidence=confidence,
                interval_method=interval,
                interval_expanded=expand,
                bootstrap_resamples=resamples,
                bootstrap_seed=row_seed,
            )
            if test and v.size:
                perm = paired_permutation_test(
                    v, permutations=permutations, seed=row_seed, groups=groups
                )
                row.update(
                    p_value=perm.p_value,
                    permutations=perm.permutations,
                    exact=perm.exact,
                    permutation_seed=row_seed,
                    cohens_dz=cohens_dz(v),
                    rank_biserial=rank_biserial(v),
                )
            rows.append(row)
        if test:
            _adjust_family(rows[len(rows) - len(classes) :], adjust)
    out = pd.DataFrame(rows)
    for column in SUMMARY_COLUMNS:
        if column not in out:
            out[column] = np.nan
    return out


def _adjust_family(rows: list[dict[str, Any]], adjust: Adjustment) -> None:
    """Adjust the per-class rows' p-values together; the pooled row (first) stands alone."""
    pooled, per_class = rows[0], rows[1:]
    pooled.update(p_adjusted=pooled.get("p_value", np.nan), p_adjust_method="none", family_size=1)
    p = np.array([r.get("p_value", np.nan) for r in per_class], dtype=np.float64)
    adjusted = adjust_p(p, method=adjust)
    size = int(np.isfinite(p).sum())
    for r, q in zip(per_class, adjusted, strict=True):
        r.update(p_adjusted=float(q), p_adjust_method=adjust, family_size=size)


#: Columns of the table written by :func:`interaction_table`.
INTERACTION_COLUMNS: tuple[str, ...] = (
    "statistic",
    "p_value",
    "permutations",
    "n",
    "n_groups",
    "n_classes",
    "permutation_seed",
    "test",
)


def interaction_table(
    table: pd.DataFrame,
    *,
    value: str,
    keys: Sequence[str],
    by_class: str = "label",
    group: str,
    permutations: int = 5000,
    seed: int,
) -> pd.DataFrame:
    """One row per combination of ``keys``: does the mean of ``value`` depend on ``by_class``?

    :func:`gazealign.stats.interaction.interaction_permutation_test` with ``group`` (identity)
    blocks: for a column of paired differences this is the class x contrast interaction.
    """
    missing = [c for c in (value, by_class, group, *keys) if c not in table]
    if missing:
        raise ValueError(f"interaction_table: table has no column(s) {missing}")
    rows: list[dict[str, Any]] = []
    for i, (key_values, sub) in enumerate(table.groupby(list(keys), sort=True, dropna=False)):
        res = interaction_permutation_test(
            sub[value].to_numpy(np.float64),
            sub[group].to_numpy(),
            sub[by_class].to_numpy(),
            permutations=permutations,
            seed=seed + i,
        )
        row: dict[str, Any] = dict(zip(keys, _as_tuple(key_values), strict=True))
        row.update(
            statistic=res.statistic,
            p_value=res.p_value,
            permutations=res.permutations,
            n=res.n,
            n_groups=res.n_groups,
            n_classes=res.n_classes,
            permutation_seed=seed + i,
            test=f"{by_class} effect on {value}, {group}-blocked permutation",
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=[*keys, *INTERACTION_COLUMNS])


def _as_tuple(x: Any) -> tuple[Any, ...]:
    return x if isinstance(x, tuple) else (x,)
