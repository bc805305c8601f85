"""Score one map against the human data on every saliency metric at once.

Used alike for network maps, baselines (centre bias, uniform) and the human noise ceiling, so
all are read on the same scale. Each metric is called from what it declares in the metric
registry (:mod:`gazealign.compare.metric_registry`): the human data it reads, its options, and
whether it compares distributions. Those (SIM, KLD, IG, EMD) need a non-negative map: signed
maps (LRP relevance) enter them as their positive part.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from gazealign.compare.metric_registry import METRICS, Metric


def metric_names() -> list[str]:
    """Every registered metric, in report order."""
    return METRICS.names()


def positive_part_metrics() -> frozenset[str]:
    """Metrics computed on max(map, 0) (they need a distribution)."""
    return frozenset(m.name for m in METRICS.entries() if m.positive_part)


def score_map(
    saliency_map: npt.ArrayLike,
    fixations: npt.ArrayLike,
    reference_map: npt.ArrayLike,
    *,
    baseline_map: npt.ArrayLike,
    other_fixations: npt.ArrayLike | None = None,
    metrics: Sequence[str] | None = None,
    n_splits: int = 100,
    emd_max_side_px: int = 32,
    seed: int = 0,
) -> dict[str, float]:
    """Every requested metric of ``saliency_map`` against the human data of one image.

    Parameters
    ----------
    saliency_map
        (rows, cols) map under test, in the frame of the human data.
    fixations
        (rows, cols) fixation counts.
    reference_map
        (rows, cols) human density.
    baseline_map
        (rows, cols) baseline map of information gain (e.g. centre bias).
    other_fixations
        (rows, cols) counts of fixations on other images (shuffled AUC; NaN when absent).
    metrics
        Names of registered metrics; default every one.
    n_splits, seed
        Random negative sets of the sampled AUCs, and their seed.
    emd_max_side_px
        Maps are area-downsized to this longer side before EMD.

    Returns
    -------
    dict
        metric name -> score. A map with no positive part scores NaN on the metrics that take
        its positive part.
    """
    chosen: list[Metric] = (
        METRICS.entries() if metrics is None else [METRICS.get(name) for name in metrics]
    )
    s = np.asarray(saliency_map, dtype=np.float64)
    pos = np.maximum(s, 0.0)
    has_mass = bool(pos.sum() > 0)
    data: dict[str, npt.ArrayLike | None] = {
        "fixations": fixations,
        "density": reference_map,
        "baseline": baseline_map,
        "other_fixations": other_fixations,
    }
    options = {"n_splits": n_splits, "seed": seed, "max_side_px": emd_max_side_px}
    out: dict[str, float] = {}
    for entry in chosen:
        args = [data[kind] for kind in entry.inputs]
        if (entry.positive_part and not has_mass) or any(a is None for a in args):
            out[entry.name] = float("nan")
            continue
        kwargs = {k: options[k] for k in entry.options}
        out[entry.name] = float(entry.fn(pos if entry.positive_part else s, *args, **kwargs))
    return out
