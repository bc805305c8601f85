"""Region (AOI) shares: how much of the network's relevance and of people's gaze falls on the
eyes, brows, nose and mouth.

All shares are fractions of the whole image's total, so regions need not tile the image (AOIs
can overlap, and background / rest of the face are not listed unless asked for). Relevance
enters as its positive part (evidence *for* the class); fixations as counts and as dwell time
(sum of durations). Masks and gaze must be in one frame (the stimulus frame in the pipeline).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from gazealign.errors import DataError

#: Facial regions compared by default.
FACE_REGIONS: tuple[str, ...] = ("eyes", "brows", "nose", "mouth")


def _masks(
    aois: Mapping[str, npt.NDArray[np.bool_]], regions: Sequence[str], shape: tuple[int, ...]
) -> dict[str, npt.NDArray[np.bool_]]:
    missing = [r for r in regions if r not in aois]
    if missing:
        raise DataError(f"no AOI mask for region(s) {missing}; available: {sorted(aois)}")
    out = {}
    for r in regions:
        mask = np.asarray(aois[r], dtype=bool)
        if mask.shape != shape:
            raise ValueError(f"AOI {r!r} has shape {mask.shape}, expected {shape}")
        out[r] = mask
    return out


def relevance_shares(
    relevance: npt.ArrayLike,
    aois: Mapping[str, npt.NDArray[np.bool_]],
    *,
    regions: Sequence[str] = FACE_REGIONS,
) -> dict[str, float]:
    """Share of positive relevance in each region: sum(max(R, 0)[mask]) / sum(max(R, 0)).

    NaN for every region when the map has no positive relevance.
    """
    r = np.maximum(np.asarray(relevance, dtype=np.float64), 0.0)
    masks = _masks(aois, regions, r.shape)
    total = r.sum()
    if total <= 0:
        return {k: float("nan") for k in masks}
    return {k: float(r[mask].sum() / total) for k, mask in masks.items()}


def fixation_shares(
    x_px: npt.ArrayLike,
    y_px: npt.ArrayLike,
    duration_ms: npt.ArrayLike,
    aois: Mapping[str, npt.NDArray[np.bool_]],
    *,
    regions: Sequence[str] = FACE_REGIONS,
) -> tuple[dict[str, float], dict[str, float]]:
    """(share of fixations, share of dwell time) in each region.

    Denominators are all given fixations (and their summed duration), including those outside
    every region or outside the image; a fixation at (x, y) is in pixel (floor(y), floor(x)).
    NaN when there are no fixations (or no dwell time).
    """
    x = np.asarray(x_px, dtype=np.float64).ravel()
    y = np.asarray(y_px, dtype=np.float64).ravel()
    d = np.asarray(duration_ms, dtype=np.float64).ravel()
    if not x.size == y.size == d.size:
        raise ValueError("x_px, y_px and duration_ms must have the same length")
    first = next(iter(aois.values()))
    masks = _masks(aois, regions, np.asarray(first).shape)
    rows, cols = np.asarray(first).shape
    c = np.floor(np.nan_to_num(x, nan=-1.0)).astype(np.int64)
    r = np.floor(np.nan_to_num(y, nan=-1.0)).astype(np.int64)
    inside = (c >= 0) & (c < cols) & (r >= 0) & (r < rows)
    counts, dwell = {}, {}
    for k, mask in masks.items():
        hit = np.zeros(x.size, dtype=bool)
        hit[inside] = mask[r[inside], c[inside]]
        counts[k] = float(hit.sum() / x.size) if x.size else float("nan")
        dwell[k] = float(d[hit].sum() / d.sum()) if d.sum() > 0 else float("nan")
    return counts, dwell
