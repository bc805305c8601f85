"""Region perturbation: occlude image tiles in the order a map ranks them, re-classify each step.

Samek, Binder, Montavon, Lapuschkin, Muller (2017), "Evaluating the visualization of what a deep
neural network has learned", IEEE TNNLS 28(11). The image (model-input frame, uint8) is cut into
square tiles of ``tile_px``; tiles are ranked by the sum (or mean) of a map inside them; at step
k the first k tiles of the order are replaced by a fill, and the network's output is recorded.
Step 0 is the unperturbed image.

Where perturbation happens: in uint8 *image* space of the model-input frame (the ``model_image``
of the stimuli stage), before the bundle's preprocessing. Fill values are then natural image
values (noise in 0-255, the image's mean colour, a blurred copy, black) whatever the network's
preprocessing is. Tiles at the right/bottom edge are smaller when ``tile_px`` does not divide
the image side.

Orders:

* ``morf``: most relevant first (tile score descending); ``lerf``: least relevant first;
* random orders: ``random_tile_orders(n_tiles, n_orders, seed=...)`` (the baseline);

ties are broken by tile index (row-major), so an order is a deterministic function of the map.
Fills are registered in :mod:`gazealign.compare.fills`: ``uniform_noise`` (an independent
uniform 0-255 value per pixel and channel, seeded; not Quantus' one value per image), ``mean``
(the image's mean colour), ``blur`` (Gaussian blur of the image, ``blur_sigma_px``), ``zeros``
(black in image space). The fill image of a stimulus is made once and shared by all its orders,
so orders differ only in where the fill goes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import torch

from gazealign.compare.fills import make_fill
from gazealign.models.bundle import ModelBundle

TileScore = Literal["sum", "mean"]
Direction = Literal["morf", "lerf"]
TILE_SCORES: tuple[str, ...] = ("sum", "mean")
DIRECTIONS: tuple[str, ...] = ("morf", "lerf")

UInt8Image = npt.NDArray[np.uint8]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TileGrid:
    """Square tiles of ``tile_px`` over a (rows_px, cols_px) image, numbered row-major."""

    rows_px: int
    cols_px: int
    tile_px: int

    def __post_init__(self) -> None:
        if min(self.rows_px, self.cols_px, self.tile_px) <= 0:
            raise ValueError(f"tile grid sizes must be positive, got {self}")
        if self.tile_px > min(self.rows_px, self.cols_px):
            raise ValueError(
                f"tile_px={self.tile_px} is larger than the {self.rows_px}x{self.cols_px} image"
            )

    @property
    def n_tile_rows(self) -> int:
        return -(-self.rows_px // self.tile_px)

    @property
    def n_tile_cols(self) -> int:
        return -(-self.cols_px // self.tile_px)

    @property
    def n_tiles(self) -> int:
        return self.n_tile_rows * self.n_tile_cols

    def tile_index(self) -> IntArray:
        """(rows_px, cols_px): the number of the tile each pixel belongs to."""
        r = np.arange(self.rows_px) // self.tile_px
        c = np.arange(self.cols_px) // self.tile_px
        return (r[:, None] * self.n_tile_cols + c[None, :]).astype(np.int64)

    def scores(self, values: npt.ArrayLike, *, score: TileScore = "sum") -> FloatArray:
        """(n_tiles,) sum or mean of ``values`` (rows_px, cols_px) inside each tile."""
        v = np.asarray(values, dtype=np.float64)
        if v.shape != (self.rows_px, self.cols_px):
            raise ValueError(
                f"map has shape {v.shape}, the tile grid is for {(self.rows_px, self.cols_px)} "
                "(orders are computed in the model-input frame)"
            )
        if score not in TILE_SCORES:
            raise ValueError(f"unknown tile score {score!r}; choose one of {TILE_SCORES}")
        idx = self.tile_index().ravel()
        sums = np.bincount(idx, weights=v.ravel(), minlength=self.n_tiles)
        if score == "sum":
            return np.asarray(sums, dtype=np.float64)
        return np.asarray(sums / np.bincount(idx, minlength=self.n_tiles), dtype=np.float64)


def tile_order(
    values: npt.ArrayLike,
    grid: TileGrid,
    *,
    score: TileScore = "sum",
    direction: Direction = "morf",
) -> IntArray:
    """(n_tiles,) tile numbers in perturbation order: by score descending (MoRF) or ascending
    (LeRF); equal scores in tile-number order."""
    s = grid.scores(values, score=score)
    if direction == "morf":
        return np.argsort(-s, kind="stable").astype(np.int64)
    if direction == "lerf":
        return np.argsort(s, kind="stable").astype(np.int64)
    raise ValueError(f"unknown direction {direction!r}; choose one of {DIRECTIONS}")


def random_tile_orders(n_tiles: int, n_orders: int, *, seed: int) -> IntArray:
    """(n_orders, n_tiles) independent random permutations of the tiles."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(n_tiles) for _ in range(n_orders)]).astype(np.int64)


def fill_image(
    image: UInt8Image, fill: str, *, seed: int, blur_sigma_px: float = 8.0
) -> UInt8Image:
    """The (rows, cols, 3) uint8 image whose pixels replace perturbed tiles (a registered fill)."""
    return make_fill(fill, image, seed=seed, blur_sigma_px=blur_sigma_px)


def tile_rank_map(order: npt.ArrayLike, grid: TileGrid) -> IntArray:
    """(rows_px, cols_px): at which step each pixel's tile is perturbed (1 = first step)."""
    o = np.asarray(order, dtype=np.int64)
    if sorted(o.tolist()) != list(range(grid.n_tiles)):
        raise ValueError(f"an order must be a permutation of the {grid.n_tiles} tiles, got {o}")
    rank = np.empty(grid.n_tiles, dtype=np.int64)
    rank[o] = np.arange(1, grid.n_tiles + 1)
    return rank[grid.tile_index()]


@dataclass(frozen=True)
class Curves:
    """Network output after each step, (n_orders, n_steps + 1); column 0 = unperturbed."""

    probability: FloatArray  # softmax probability of the true class
    logit: FloatArray  # logit of the true class
    predicted: IntArray  # arg-max class
    correct: npt.NDArray[np.bool_]  # predicted == true class


def _autocast(device: torch.device, bf16: bool) -> contextlib.AbstractContextManager[object]:
    if not bf16:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def forward_logits(
    bundle: ModelBundle, images: UInt8Image, *, bf16: bool = False
) -> npt.NDArray[np.float64]:
    """(N, n_classes) float64 logits of (N, H, W, 3) uint8 images (in inference mode)."""
    try:
        device = next(bundle.model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    with torch.inference_mode(), _autocast(device, bf16):
        out = bundle.model(bundle.preprocess(images).to(device))
    return out.float().cpu().numpy().astype(np.float64)


def _steps_stream(
    image: UInt8Image, fill: UInt8Image, ranks: IntArray, n_steps: int, batch_size: int
) -> Iterator[tuple[IntArray, UInt8Image]]:
    """Yield (flat indices into (n_orders, n_steps), perturbed images) in batches, lazily."""
    n_orders = ranks.shape[0]
    flat = np.arange(n_orders * n_steps)
    for start in range(0, flat.size, batch_size):
        chunk = flat[start : start + batch_size]
        order_idx, step = np.divmod(chunk, n_steps)
        step = step + 1
        mask = ranks[order_idx] <= step[:, None, None]  # (B, rows, cols)
        yield chunk, np.where(mask[..., None], fill[None], image[None])


def perturbation_curves(
    bundle: ModelBundle,
    image: UInt8Image,
    true_class: int,
    orders: npt.ArrayLike,
    grid: TileGrid,
    fill: UInt8Image,
    *,
    n_steps: int | None = None,
    batch_size: int = 32,
    bf16: bool = False,
) -> Curves:
    """Run every step of every order of one image through the network, in batches.

    ``image`` (rows, cols, 3) uint8 in the model-input frame; ``orders`` (n_orders, n_tiles)
    tile numbers; ``fill`` the replacement image (:func:`fill_image`); ``n_steps`` defaults to
    all tiles. The unperturbed image is classified once and shared by all orders (column 0).
    Only ``batch_size`` perturbed images are held in memory at a time.
    """
    img = np.asarray(image)
    if img.shape[:2] != (grid.rows_px, grid.cols_px) or fill.shape != img.shape:
        raise ValueError(
            f"image {img.shape} and fill {fill.shape} must match the tile grid "
            f"{(grid.rows_px, grid.cols_px)}"
        )
    o = np.atleast_2d(np.asarray(orders, dtype=np.int64))
    steps = grid.n_tiles if n_steps is None else n_steps
    if not 1 <= steps <= grid.n_tiles:
        raise ValueError(f"n_steps must be in 1..{grid.n_tiles}, got {steps}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    ranks = np.stack([tile_rank_map(row, grid) for row in o])
    logits0 = forward_logits(bundle, img[None], bf16=bf16)[0]
    logits = np.empty((o.shape[0] * steps, logits0.size), dtype=np.float64)
    for chunk, batch in _steps_stream(img, fill, ranks, steps, batch_size):
        logits[chunk] = forward_logits(bundle, batch, bf16=bf16)
    logits_all = np.concatenate(
        [
            np.broadcast_to(logits0, (o.shape[0], 1, logits0.size)),
            logits.reshape(o.shape[0], steps, -1),
        ],
        axis=1,
    )
    return curves_from_logits(logits_all, true_class)


def curves_from_logits(logits: npt.ArrayLike, true_class: int) -> Curves:
    """:class:`Curves` from (n_orders, n_steps + 1, n_classes) logits."""
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    predicted = z.argmax(axis=-1).astype(np.int64)
    return Curves(
        probability=p[..., true_class],
        logit=z[..., true_class],
        predicted=predicted,
        correct=predicted == true_class,
    )


# --- areas ------------------------------------------------------------------------------------


def curve_auc(curve: npt.ArrayLike) -> FloatArray:
    """Area under curves (..., L + 1) over steps 0..L, trapezoid rule, divided by L.

    For an accuracy or probability curve the area lies in [0, 1]; under MoRF a lower area means
    the order found the tiles the network needs sooner.
    """
    y = np.asarray(curve, dtype=np.float64)
    n_steps = y.shape[-1] - 1
    if n_steps < 1:
        raise ValueError("a curve needs at least two points (step 0 and one perturbation)")
    return np.asarray(np.trapezoid(y, dx=1.0, axis=-1) / n_steps, dtype=np.float64)


def aopc(curve: npt.ArrayLike) -> FloatArray:
    """Area over the perturbation curve (Samek et al. 2017, eq. 12) for one image:
    (1 / (L + 1)) sum_{k=0..L} [f(x_0) - f(x_k)]; averaging over images gives the paper's AOPC.
    Higher under MoRF = the order found relevant tiles sooner."""
    y = np.asarray(curve, dtype=np.float64)
    return np.asarray((y[..., :1] - y).mean(axis=-1), dtype=np.float64)
