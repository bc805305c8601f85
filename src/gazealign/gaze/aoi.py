"""Disjoint facial regions from a stimulus' AOI masks, and which region a fixation falls in."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from gazealign.errors import DataError

BoolArray = npt.NDArray[np.bool_]

#: Disjoint regions that cover a stimulus: the four features, the rest of the face, and the
#: rest of the image. Feature masks are made disjoint in this order of precedence.
REGIONS: tuple[str, ...] = ("eyes", "brows", "nose", "mouth", "face_other", "background")
_FEATURES = ("eyes", "brows", "nose", "mouth")


def region_masks(aois: Mapping[str, BoolArray]) -> dict[str, BoolArray]:
    """Disjoint (rows, cols) masks for :data:`REGIONS` from AOI masks (``face`` + features).

    A pixel in two feature masks goes to the first in ``eyes, brows, nose, mouth``;
    ``face_other`` is the face minus the features; ``background`` is everything else.
    """
    missing = [r for r in (*_FEATURES, "face") if r not in aois]
    if missing:
        raise DataError(f"AOI masks missing for {missing}; have {sorted(aois)}")
    shape = np.asarray(aois["face"]).shape
    taken = np.zeros(shape, dtype=bool)
    out: dict[str, BoolArray] = {}
    for name in _FEATURES:
        mask = np.asarray(aois[name], dtype=bool)
        if mask.shape != shape:
            raise DataError(f"AOI {name!r} has shape {mask.shape}, face mask is {shape}")
        out[name] = mask & ~taken
        taken |= mask
    face = np.asarray(aois["face"], dtype=bool)
    out["face_other"] = face & ~taken
    out["background"] = ~(face | taken)
    return out


def region_index_map(aois: Mapping[str, BoolArray]) -> npt.NDArray[np.int8]:
    """(rows, cols) int8: index into :data:`REGIONS` of each pixel."""
    masks = region_masks(aois)
    out = np.zeros(masks["eyes"].shape, dtype=np.int8)
    for k, name in enumerate(REGIONS):
        out[masks[name]] = k
    return out


def assign_regions(
    x_px: npt.ArrayLike, y_px: npt.ArrayLike, aois: Mapping[str, BoolArray]
) -> npt.NDArray[np.object_]:
    """Region name of each stimulus-frame position; ``"off"`` outside the image or NaN.

    Pixel (r, c) covers [c, c+1) x [r, r+1), so a position maps to pixel (floor y, floor x).
    """
    index = region_index_map(aois)
    rows, cols = index.shape
    x = np.asarray(x_px, dtype=np.float64)
    y = np.asarray(y_px, dtype=np.float64)
    inside = np.isfinite(x) & np.isfinite(y) & (x >= 0) & (x < cols) & (y >= 0) & (y < rows)
    out = np.full(x.shape, "off", dtype=object)
    c = np.floor(x[inside]).astype(np.int64)
    r = np.floor(y[inside]).astype(np.int64)
    out[inside] = np.asarray(REGIONS, dtype=object)[index[r, c]]
    return out
