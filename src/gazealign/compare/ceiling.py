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

from collections.abc import Callable, Sequence

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
