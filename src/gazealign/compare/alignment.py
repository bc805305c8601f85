"""Scores of one network's alignment with people, per held-out image (pure functions).

Used by the alignment sweep to put every trained network on the same measures as the
comparison stages: agreement of the network's map with the human map (Spearman rank
correlation, as Harmonization's alignment score, and Pearson CC), each against the human
split-half ceiling of the same image; the share of positive relevance in the planted region of a
synthetic face; and the MoRF area of the network's own tile order and of the human order.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import spearmanr

from gazealign.compare import perturbation as pt
from gazealign.compare.correlation import pearson_cc
from gazealign.models.bundle import ModelBundle

FloatArray = npt.NDArray[np.float64]
DensityFn = Callable[[pd.DataFrame], FloatArray]


def map_agreement(model_map: npt.ArrayLike, human_map: npt.ArrayLike) -> tuple[float, float]:
    """(Spearman rank correlation, Pearson CC) between two maps of one shape.

    NaN where a map is constant (no ranking, no correlation).
    """
    a = np.asarray(model_map, dtype=np.float64)
    b = np.asarray(human_map, dtype=np.float64)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"maps must be 2-D of one shape, got {a.shape} and {b.shape}")
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan"), float("nan")
    rho = float(spearmanr(a.ravel(), b.ravel()).statistic)
    return rho, pearson_cc(a, b)


def split_half_agreement(
    fixations: pd.DataFrame, density: DensityFn, *, n_splits: int, seed: int
) -> tuple[float, float]:
    """Mean (Spearman, CC) between the maps of two random halves of the observers.

    ``fixations``: one image's fixations with a ``subject`` column; ``density`` makes a map from
    a subset of them. The human ceiling of :func:`map_agreement`; NaN with fewer than two
    observers.
    """
    subjects = np.array(sorted(fixations["subject"].astype(str).unique()))
    if subjects.size < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    subj = fixations["subject"].astype(str).to_numpy()
    scores = []
    for _ in range(n_splits):
        half = set(rng.permutation(subjects)[: subjects.size // 2])
        in_a = np.array([s in half for s in subj])
        scores.append(map_agreement(density(fixations[in_a]), density(fixations[~in_a])))
    values = np.array(scores, dtype=np.float64)
    return float(np.nanmean(values[:, 0])), float(np.nanmean(values[:, 1]))


def planted_share(model_map: npt.ArrayLike, planted: npt.ArrayLike) -> float:
    """Share of the map's positive relevance inside the planted region (NaN: none planted, or no
    positive relevance)."""
    r = np.maximum(np.asarray(model_map, dtype=np.float64), 0.0)
    mask = np.asarray(planted, dtype=bool)
    if mask.shape != r.shape:
        raise ValueError(f"planted mask {mask.shape} and map {r.shape} differ in shape")
    total = r.sum()
    if not mask.any() or total <= 0:
        return float("nan")
    return float(r[mask].sum() / total)


def morf_areas(
    bundle: ModelBundle,
    image: npt.NDArray[np.uint8],
    true_class: int,
    orderings: dict[str, npt.ArrayLike],
    *,
    tile_px: int,
    fill: npt.NDArray[np.uint8],
    batch_size: int = 64,
) -> dict[str, float]:
    """Area under the true-class probability curve when tiles are removed most relevant first.

    ``orderings``: name -> (rows, cols) map in the model-input frame that ranks the tiles
    (tile score: sum). Returns name -> area (:func:`gazealign.compare.perturbation.curve_auc`).
    """
    grid = pt.TileGrid(image.shape[0], image.shape[1], tile_px)
    names = list(orderings)
    orders = np.stack([pt.tile_order(orderings[n], grid, direction="morf") for n in names])
    curves = pt.perturbation_curves(
        bundle, image, true_class, orders, grid, fill, batch_size=batch_size
    )
    areas = pt.curve_auc(curves.probability)
    return {n: float(a) for n, a in zip(names, areas, strict=True)}
