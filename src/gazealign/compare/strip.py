"""The perturbation strip: the images one face's orderings showed the network, step by step.

The figure of the thesis' perturbation analysis (after Samek et al. 2017, Fig. 2): one row per
ordering (random, each network method, human), and in each row the input, the map the order was
ranked from, the tile-order grid (the step at which each tile is removed) and the perturbed
image after the shown steps. The perturbed images are made by
:func:`gazealign.compare.perturbation.perturbed_images`, the function that makes every image the
perturbation engine feeds the network, from the order the perturbation stage stored and the same
fill image; nothing is ranked again here.

For a grid of at most ``max_steps`` tiles every step is shown; for a finer grid,
:func:`strip_steps` picks ``max_steps`` steps evenly spaced from the first to the last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gazealign.compare.perturbation import TileGrid, perturbed_images, tile_rank_map

UInt8Image = npt.NDArray[np.uint8]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class StripOrdering:
    """One ordering of a strip, as the perturbation stage ran it.

    Attributes
    ----------
    name
        ``random``, a network method, or ``human``.
    order
        (n_tiles,) tile numbers in removal order (the stage's stored order).
    values
        The map the order was ranked from, in the model-input frame (``None`` for random).
    probability
        The true-class probability the network gave after each step, (n_tiles + 1,) with step 0
        the intact image (the stage's stored curve), or ``None``.
    """

    name: str
    order: IntArray
    values: FloatArray | None = None
    probability: FloatArray | None = None


@dataclass(frozen=True)
class StripRow:
    """One row of the strip figure."""

    name: str
    values: FloatArray | None
    order: IntArray
    ranks: IntArray  # (rows, cols): the step at which each pixel's tile is removed (1 = first)
    images: UInt8Image  # (len(steps), rows, cols, 3): what the network was shown at those steps
    probability: FloatArray | None  # (len(steps),) true-class probability at those steps


@dataclass(frozen=True)
class Strip:
    """The strip of one face: its rows share the image, fill, grid and shown steps."""

    stimulus_id: str
    label: str
    image: UInt8Image
    grid: TileGrid
    steps: IntArray
    direction: str
    rows: list[StripRow]

    @property
    def all_steps(self) -> bool:
        """Whether every step of the order is shown."""
        return self.steps.size == self.grid.n_tiles


def strip_steps(n_tiles: int, max_steps: int = 16) -> IntArray:
    """The steps a strip shows: all of 1..``n_tiles`` when they are at most ``max_steps``,
    else ``max_steps`` steps evenly spaced from 1 to ``n_tiles`` (rounded, both ends kept)."""
    if n_tiles < 1 or max_steps < 1:
        raise ValueError(f"n_tiles and max_steps must be positive, got {n_tiles}, {max_steps}")
    if n_tiles <= max_steps:
        return np.arange(1, n_tiles + 1, dtype=np.int64)
    if max_steps == 1:
        return np.array([n_tiles], dtype=np.int64)
    picked = np.round(np.linspace(1, n_tiles, max_steps)).astype(np.int64)
    return np.unique(picked)


def make_strip(
    stimulus_id: str,
    label: str,
    image: UInt8Image,
    fill: UInt8Image,
    grid: TileGrid,
    orderings: Sequence[StripOrdering],
    *,
    steps: npt.ArrayLike,
    direction: str = "morf",
) -> Strip:
    """The strip of one face.

    Parameters
    ----------
    image, fill
        (rows, cols, 3) uint8: the model-input image and the fill image its perturbation used.
    grid
        The perturbation's tile grid over the image.
    orderings
        The rows, in the order shown.
    steps
        The steps shown (each in 1..n_tiles; :func:`strip_steps`).
    direction
        ``morf`` or ``lerf``: which of the stage's orders the rows hold (for the caption).
    """
    s = np.asarray(steps, dtype=np.int64).reshape(-1)
    if s.size == 0 or s.min() < 1 or s.max() > grid.n_tiles:
        raise ValueError(f"strip steps must lie in 1..{grid.n_tiles}, got {s.tolist()}")
    if image.shape[:2] != (grid.rows_px, grid.cols_px) or fill.shape != image.shape:
        raise ValueError(
            f"image {image.shape} and fill {fill.shape} must match the tile grid "
            f"{(grid.rows_px, grid.cols_px)}"
        )
    rows = []
    for o in orderings:
        ranks = tile_rank_map(o.order, grid)
        prob = None
        if o.probability is not None:
            curve = np.asarray(o.probability, dtype=np.float64)
            if curve.size <= int(s.max()):
                raise ValueError(
                    f"{o.name}: its curve has {curve.size} points, the strip shows step {s.max()}"
                )
            prob = curve[s]
        rows.append(
            StripRow(
                name=o.name,
                values=None if o.values is None else np.asarray(o.values, dtype=np.float64),
                order=np.asarray(o.order, dtype=np.int64),
                ranks=ranks,
                images=perturbed_images(image, fill, ranks, s),
                probability=prob,
            )
        )
    return Strip(stimulus_id, label, image, grid, s, direction, rows)
