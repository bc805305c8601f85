"""Tidy summary tables: one row per (quantity, comparison, class), with interval, test and
effect size, and the resampling settings that produced them.

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

#: Columns of every summary table written by :func:`summarise`.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "n",
    "n_groups",
    "estimate",
    "ci_low",
    "ci_high",
    "confidence",
    "bootstrap_resamples",
    "bootstrap_seed",
    "p_value",
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
) -> pd.DataFrame:
    """Summarise column ``value`` of a per-image table for each combination of ``keys``.

    For every key combination, and within it for every class of ``by_class`` plus ``"all"``:
    the mean with a bootstrap interval over images (or over ``group`` clusters) and, when
    ``test``, a paired sign-flip permutation test of mean = 0 with Cohen's d_z and the
    rank-biserial correlation (use ``test=True`` for columns that are differences). Seeds are
    derived from ``seed`` and the row's position, and written into the table.
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
            ci = bootstrap_mean_ci(
                v,
                resamples=resamples,
                confidence=confidence,
                seed=row_seed,
                groups=None if group is None else part[group].to_numpy(),
            )
            row: dict[str, Any] = dict(zip(keys, _as_tuple(key_values), strict=True))
            if by_class is not None:
                row[by_class] = class_name
            row.update(
                n=ci.n,
                n_groups=ci.n_groups,
                estimate=ci.estimate,
                ci_low=ci.ci_low,
                ci_high=ci.ci_high,
                confidence=confidence,
                bootstrap_resamples=resamples,
                bootstrap_seed=row_seed,
            )
            if test and v.size:
                perm = paired_permutation_test(v, permutations=permutations, seed=row_seed)
                row.update(
                    p_value=perm.p_value,
                    permutations=perm.permutations,
                    exact=perm.exact,
                    permutation_seed=row_seed,
                    cohens_dz=cohens_dz(v),
                    rank_biserial=rank_biserial(v),
                )
            rows.append(row)
    out = pd.DataFrame(rows)
    for column in SUMMARY_COLUMNS:
        if column not in out:
            out[column] = np.nan
    return out


def _as_tuple(x: Any) -> tuple[Any, ...]:
    return x if isinstance(x, tuple) else (x,)
