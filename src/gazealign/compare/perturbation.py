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

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import torch

from gazealign.compare.fills import make_fill
from gazealign.compare.incremental import IncrementalForward
from gazealign.models.bundle import ModelBundle
from gazealign.models.device import model_device

TileScore = Literal["sum", "mean"]
Direction = Literal["morf", "lerf"]
TILE_SCORES: tuple[str, ...] = ("sum", "mean")
DIRECTIONS: tuple[str, ...] = ("morf", "lerf")

#: ``incremental="auto"`` computes increments for networks of at least this many conv
#: multiply-adds per image (VGG16 at 224 px: 15.3 G; the demo's small network: about 0.03 G).
AUTO_INCREMENTAL_MACS = 200_000_000

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


@dataclass(frozen=True)
class _Net:
    """The network as the engine runs it: in eval mode and in its precision (its inputs are
    always channels-last)."""

    model: torch.nn.Module
    device: torch.device
    dtype: torch.dtype


# A bf16 copy of a bundle's network is made once per network and weight state, not per image:
# keyed by the model's identity plus every parameter's in-place version counter, so a model
# whose weights are changed (e.g. randomised for a sanity check) gets a fresh copy.
_CONVERTED: dict[int, tuple[tuple[int, ...], torch.nn.Module]] = {}


def _version(model: torch.nn.Module) -> tuple[int, ...]:
    return tuple(int(p._version) for p in model.parameters()) + tuple(
        p.data_ptr() for p in model.parameters()
    )


def inference_net(bundle: ModelBundle, *, bf16: bool = False) -> _Net:
    """The bundle's network for perturbation: in fp32 the network itself, fed channels-last
    inputs; a bf16-weight, channels-last copy with ``bf16`` (faster than autocast on CPUs with
    AVX-512 bf16; see ``models.predict``).

    In fp32 only the input is channels-last: a convolution given a channels-last input runs
    in channels-last whatever its weights' layout (1.7x at batch 64 on one CPU thread against
    contiguous inputs, ``benchmarks/RESULTS.md``), and with no copy of the network, state set on
    the module between images is seen."""
    device = model_device(bundle.model)
    if not bf16:
        return _Net(bundle.model, device, torch.float32)
    from gazealign.models.predict import inference_model

    key, version = id(bundle.model), _version(bundle.model)
    cached = _CONVERTED.get(key)
    if cached is None or cached[0] != version:
        _CONVERTED.clear()  # one converted network at a time (memory)
        cached = (version, inference_model(bundle.model, bf16=True, channels_last=True))
        _CONVERTED[key] = cached
    return _Net(cached[1], device, torch.bfloat16)


def _model_input(bundle: ModelBundle, net: _Net, images: UInt8Image) -> torch.Tensor:
    x = bundle.preprocess(images).to(net.device, net.dtype)
    return x.contiguous(memory_format=torch.channels_last)


def forward_logits(
    bundle: ModelBundle, images: UInt8Image, *, bf16: bool = False
) -> npt.NDArray[np.float64]:
    """(N, n_classes) float64 logits of (N, H, W, 3) uint8 images (in inference mode)."""
    net = inference_net(bundle, bf16=bf16)
    with torch.inference_mode():
        out = net.model(_model_input(bundle, net, images))
    return out.float().cpu().numpy().astype(np.float64)


def perturbed_images(
    image: UInt8Image, fill: UInt8Image, ranks: npt.ArrayLike, steps: npt.ArrayLike
) -> UInt8Image:
    """(B, rows, cols, 3) the images the network is shown: ``image`` with every tile whose rank
    is at most ``steps[b]`` replaced by ``fill``.

    ``ranks``: (B, rows, cols) or one (rows, cols) :func:`tile_rank_map` for all ``steps`` (B,).
    Every perturbed image the engine runs is made here (the report's strip figure too).
    """
    s = np.asarray(steps, dtype=np.int64).reshape(-1)
    r = np.asarray(ranks, dtype=np.int64)
    mask = (r if r.ndim == 3 else r[None]) <= s[:, None, None]  # (B, rows, cols)
    return np.where(mask[..., None], fill[None], image[None])


def _steps_stream(
    image: UInt8Image,
    fill: UInt8Image,
    ranks: IntArray,
    n_steps: int,
    batch_size: int,
    skip_last: bool = False,
) -> Iterator[tuple[IntArray, UInt8Image]]:
    """Yield (flat indices into (n_orders, n_steps), perturbed images) in batches, lazily;
    ``skip_last`` leaves every order's last step out of its batch."""
    n_orders = ranks.shape[0]
    flat = np.arange(n_orders * n_steps)
    for start in range(0, flat.size, batch_size):
        chunk = flat[start : start + batch_size]
        if skip_last:
            chunk = chunk[chunk % n_steps != n_steps - 1]
            if not chunk.size:
                continue
        order_idx, step = np.divmod(chunk, n_steps)
        yield chunk, perturbed_images(image, fill, ranks[order_idx], step + 1)


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
    incremental: bool | Literal["auto"] = "auto",
) -> Curves:
    """Run every step of every order of one image through the network, in batches.

    ``image`` (rows, cols, 3) uint8 in the model-input frame; ``orders`` (n_orders, n_tiles)
    tile numbers; ``fill`` the replacement image (:func:`fill_image`); ``n_steps`` defaults to
    all tiles. The unperturbed image is classified once and shared by all orders (column 0).
    Only ``batch_size`` perturbed images are held in memory at a time. When every tile is
    perturbed in the end, that last image is the fill for every order and is classified once.

    ``incremental``: each step is computed as an increment on the previous step of its order
    (:mod:`gazealign.compare.incremental`; up to ``batch_size`` orders advance together), equal
    to the full forward within floating-point rounding; networks that are not a chain of
    modules are run in full. ``"auto"``: incremental for chain networks of at least
    :data:`AUTO_INCREMENTAL_MACS` conv multiply-adds per image (below that, the many small
    operations of an increment cost more than they save). ``bf16``: a bfloat16,
    channels-last copy of the network.
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
    net = inference_net(bundle, bf16=bf16)
    engine = IncrementalForward.for_model(net.model) if incremental is not False else None
    if incremental == "auto" and engine is not None:
        if engine.conv_macs((grid.rows_px, grid.cols_px)) < AUTO_INCREMENTAL_MACS:
            engine = None
    if engine is not None:
        logits_all = _incremental_logits(bundle, net, engine, img, fill, ranks, steps, batch_size)
        return curves_from_logits(logits_all, true_class)
    # The last step of a full sequence is the fill image whatever the order: it is run once
    # (after the intact image, each on its own), and left out of the order-by-order batches.
    # The batches stay the same slices of the (order, step) positions as without it, so an
    # order's images meet the same batch neighbours whichever orders follow it.
    shared_last = steps == grid.n_tiles
    logits0 = forward_logits(bundle, img[None], bf16=bf16)[0]
    logits = np.empty((o.shape[0] * steps, logits0.size), dtype=np.float64)
    if shared_last:
        logits[steps - 1 :: steps] = forward_logits(bundle, fill[None], bf16=bf16)[0]
    for chunk, batch in _steps_stream(img, fill, ranks, steps, batch_size, shared_last):
        logits[chunk] = forward_logits(bundle, batch, bf16=bf16)
    logits_all = np.concatenate(
        [
            np.broadcast_to(logits0, (o.shape[0], 1, logits0.size)),
            logits.reshape(o.shape[0], steps, -1),
        ],
        axis=1,
    )
    return curves_from_logits(logits_all, true_class)


def _incremental_logits(
    bundle: ModelBundle,
    net: _Net,
    engine: IncrementalForward,
    image: UInt8Image,
    fill: UInt8Image,
    ranks: IntArray,
    n_steps: int,
    batch_size: int,
) -> npt.NDArray[np.float64]:
    """(n_orders, n_steps + 1, n_classes) logits, each step an increment on the one before."""
    n_orders = ranks.shape[0]
    out: npt.NDArray[np.float64] | None = None
    with torch.inference_mode():
        x0 = _model_input(bundle, net, image[None])
        for start in range(0, n_orders, batch_size):
            group = np.arange(start, min(start + batch_size, n_orders))
            first = engine.start(x0, group.size).float().cpu().numpy()
            if out is None:
                out = np.empty((n_orders, n_steps + 1, first.shape[-1]), dtype=np.float64)
            out[group, 0] = first[0]
            for step in range(1, n_steps + 1):
                batch = perturbed_images(image, fill, ranks[group], np.full(group.size, step))
                logits = engine.step(_model_input(bundle, net, batch))
                out[group, step] = logits.float().cpu().numpy()
    assert out is not None
    return out


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
