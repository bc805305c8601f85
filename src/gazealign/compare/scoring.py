"""Score one map against the human data on every saliency metric at once.

Used alike for network maps, baselines (centre bias, uniform) and the human noise ceiling, so
all are read on the same scale. Metrics that compare distributions (SIM, KLD, IG, EMD) need a
non-negative map: signed maps (LRP relevance) enter them as their positive part, and
:data:`POSITIVE_PART_METRICS` says which metrics that is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from gazealign.compare import metrics as m

FloatArray = npt.NDArray[np.float64]

#: Every metric :func:`score_map` can compute, in report order.
METRICS: tuple[str, ...] = (
    "nss",
    "cc",
    "sim",
    "kld",
    "auc_judd",
    "auc_borji",
    "auc_shuffled",
    "information_gain",
    "emd",
)

#: Metrics computed on max(map, 0) (they need a distribution).
POSITIVE_PART_METRICS: frozenset[str] = frozenset({"sim", "kld", "information_gain", "emd"})


def score_map(
    saliency_map: npt.ArrayLike,
    fixations: npt.ArrayLike,
    reference_map: npt.ArrayLike,
    *,
    baseline_map: npt.ArrayLike,
    other_fixations: npt.ArrayLike | None = None,
    metrics: Sequence[str] = METRICS,
    n_splits: int = 100,
    emd_max_side_px: int = 32,
    seed: int = 0,
) -> dict[str, float]:
    """Every requested metric of ``saliency_map`` against the human data of one image.

    ``fixations`` (rows, cols) fixation counts and ``reference_map`` (rows, cols) human density,
    both in the map's frame; ``baseline_map`` for information gain; ``other_fixations`` counts
    of fixations on other images (shuffled AUC; NaN when absent). A map with no positive part
    gets NaN on :data:`POSITIVE_PART_METRICS`.
    """
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; available: {METRICS}")
    s = np.asarray(saliency_map, dtype=np.float64)
    pos = np.maximum(s, 0.0)
    has_mass = bool(pos.sum() > 0)
    out: dict[str, float] = {}
    for name in metrics:
        if name in POSITIVE_PART_METRICS and not has_mass:
            out[name] = float("nan")
        elif name == "nss":
            out[name] = m.nss(s, fixations)
        elif name == "cc":
            out[name] = m.cc(s, reference_map)
        elif name == "sim":
            out[name] = m.sim(pos, reference_map)
        elif name == "kld":
            out[name] = m.kld(pos, reference_map)
        elif name == "auc_judd":
            out[name] = m.auc_judd(s, fixations)
        elif name == "auc_borji":
            out[name] = m.auc_borji(s, fixations, n_splits=n_splits, seed=seed)
        elif name == "auc_shuffled":
            out[name] = (
                float("nan")
                if other_fixations is None
                else m.auc_shuffled(s, fixations, other_fixations, n_splits=n_splits, seed=seed)
            )
        elif name == "information_gain":
            out[name] = m.information_gain(pos, fixations, baseline_map)
        elif name == "emd":
            out[name] = m.emd(pos, reference_map, max_side_px=emd_max_side_px)
    return out
