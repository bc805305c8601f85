"""Tile sign policy: which relevance ranks the tiles (Samek et al. 2017 rank signed relevance)."""

from __future__ import annotations

import numpy as np
import pytest

from gazealign.compare.perturbation import TileGrid, tile_order
from gazealign.compare.tile_ranking import ranking_map, tile_values
from gazealign.errors import DataError


def _signed_map() -> np.ndarray:
    """2x2 tiles of 2 px: tile 0 evidence (+3), tile 1 empty, tile 2 counter-evidence (-2),
    tile 3 mixed (+1 and -4, sum -3)."""
    m = np.zeros((4, 4))
    m[0:2, 0:2] = 0.75
    m[2:4, 0:2] = -0.5
    m[2, 2], m[3, 3] = 1.0, -4.0
    return m


def test_tile_values_follow_the_policy() -> None:
    m = _signed_map()
    assert np.array_equal(tile_values(m, "positive"), np.maximum(m, 0))
    assert np.array_equal(tile_values(m, "absolute"), np.abs(m))
    assert np.array_equal(tile_values(m, "signed"), m)
    with pytest.raises(DataError, match="unknown tile sign policy"):
        tile_values(m, "negative")


def test_lerf_under_signed_ranking_removes_counter_evidence_first() -> None:
    grid = TileGrid(4, 4, 2)
    m = _signed_map()
    signed = tile_order(tile_values(m, "signed"), grid, direction="lerf")
    positive = tile_order(tile_values(m, "positive"), grid, direction="lerf")
    absolute = tile_order(tile_values(m, "absolute"), grid, direction="morf")
    assert list(signed) == [3, 2, 1, 0]  # sums -3, -2, 0, +3
    # Positive only: tiles 1 and 2 both score 0 and tie (tile-number order); 3 scores +1.
    assert list(positive) == [1, 2, 3, 0]
    assert list(absolute) == [3, 0, 2, 1]  # 5, 3, 2, 0


def test_ranking_map_uses_the_signed_twin_and_refuses_to_guess() -> None:
    m = _signed_map()
    item = {"m": np.maximum(m, 0), "m__signed": m}
    assert np.array_equal(ranking_map(item, "m", "signed"), m)
    assert np.array_equal(ranking_map(item, "m", "positive"), np.maximum(m, 0))
    old = {"m": np.maximum(m, 0)}  # written before signed twins: only the positive part
    assert np.array_equal(ranking_map(old, "m", "positive"), np.maximum(m, 0))
    with pytest.raises(DataError, match="no signed map"):
        ranking_map(old, "m", "signed")
    signed_only = {"m": m}  # explain.sign = signed: the stored map is already signed
    assert np.array_equal(ranking_map(signed_only, "m", "absolute"), np.abs(m))
