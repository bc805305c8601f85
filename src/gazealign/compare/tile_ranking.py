"""What a tile's score is made of: the sign policy of the ranking (Samek et al. 2017).

Region perturbation ranks tiles by the relevance inside them. Which relevance counts is a
choice, recorded as ``comparison.perturbation.tile_sign`` and stated in the report:

* ``positive``: evidence for the class only (negative relevance counts as 0). Under LeRF a tile
  with counter-evidence then ties with an empty one.
* ``signed``: relevance as it is, so counter-evidence lowers a tile's score (Samek et al. 2017,
  IEEE TNNLS, "Evaluating the visualization of what a deep neural network has learned", rank
  the signed heatmap): MoRF removes the strongest evidence first, LeRF the strongest
  counter-evidence first.
* ``absolute``: magnitude of evidence for or against.

The policy is applied to the network's signed map (the explain stage keeps it as
``<method>__signed`` beside the map after ``explain.sign``). Human fixation densities are never
negative, so all three policies leave them as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt

from gazealign.errors import DataError

TileSign = Literal["positive", "signed", "absolute"]
TILE_SIGNS: tuple[str, ...] = get_args(TileSign)

#: Suffix of the signed (before the sign policy) model-input map in an explain item.
SIGNED_SUFFIX = "__signed"


def tile_values(values: npt.ArrayLike, sign: str) -> npt.NDArray[np.float64]:
    """The map whose tile sums rank the tiles, from a signed map, under ``sign``."""
    v = np.asarray(values, dtype=np.float64)
    if sign == "positive":
        return np.maximum(v, 0.0)
    if sign == "absolute":
        return np.abs(v)
    if sign == "signed":
        return v.copy()
    raise DataError(f"unknown tile sign policy {sign!r}; expected one of {TILE_SIGNS}")


def ranking_map(
    explain_item: Mapping[str, npt.NDArray[Any]], method: str, sign: str
) -> npt.NDArray[np.float64]:
    """The map that ranks tiles for ``method`` of one explain item, under ``sign``.

    Uses the signed twin ``<method>__signed`` when the item has one. An item written without it
    holds only the map after ``explain.sign``: that serves ``positive`` (and ``absolute`` of a
    non-negative map) but not ``signed``, which is then an error rather than a silent change.
    """
    signed = explain_item.get(method + SIGNED_SUFFIX)
    if signed is not None:
        return tile_values(signed, sign)
    stored = np.asarray(explain_item[method], dtype=np.float64)
    if sign != "positive" and (stored >= 0).all():
        raise DataError(
            f"{method}: the explain item has no signed map ({method}{SIGNED_SUFFIX}), so tile "
            f"sign policy {sign!r} cannot be applied; rerun the explain stage"
        )
    return tile_values(stored, sign)
