"""Thesis-scale cost of the perturbation analysis: VGG16 at 224, full vs incremental, fp32 vs bf16.

The seed study: 112 test images, a 4x4 grid of 56 px tiles (16 steps), MoRF orders from a human
map and a network map plus 10 random orders = 12 orders x 16 steps + 1 intact image = 193
network outputs per image. Four ways of computing them:

* full fp32: every step a full forward (the reference);
* full bf16: the same with a bfloat16, channels-last copy of the network;
* incremental fp32 / bf16: each step recomputes only the region its tile can reach, reusing the
  previous step's activations (``gazealign.compare.incremental``).

This times ``--images`` images (random VGG-Face-layout weights, noise images: the full
forwards' cost does not depend on the content; the increments' does, see below), the four
variants interleaved per image so that load on a shared machine hits them alike, and extrapolates linearly to 112 images. It prints how far each variant's
probability curves and AUCs are from full fp32 on the same inputs, and for the incremental
variants the convolution work they did as a share of full forwards (counted by the engine), the
multiply-add rate each variant reached, and the time the increments would take at the full
forward's rate (the floor for an exact increment that does this much work). Each image's
true-class logit range over its outputs is printed: a random network on which it is near 0
changes nowhere deep, and its increments are degenerate (cheap for no good reason). Such images
are screened out before timing (``--logit-floor``, default 1e-4, on three inputs per image;
each skip is printed), so the extrapolation is made from images the network responds to.

    .venv/bin/python benchmarks/perturbation_scale.py [--images 2] [--batch-size 32] [--fp32-only]

``--fp32-only`` leaves out the two bf16 variants, for a CPU without native bf16 (there torch
emulates bf16, far slower than fp32, and their figures would say nothing).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator

import numpy as np
import torch

from gazealign.compare import perturbation as pt
from gazealign.compare.incremental import IncrementalForward
from gazealign.models.architecture import ArchitectureSpec, build_model
from gazealign.models.bundle import ModelBundle

THESIS_IMAGES = 112
VARIANTS = {  # name: (bf16, incremental)
    "full fp32": (False, False),
    "full bf16": (True, False),
    "incremental fp32": (False, True),
    "incremental bf16": (True, True),
}


ENGINES: list[IncrementalForward] = []


def _capture_engines() -> None:
    """Keep every engine the perturbation code builds, to read its work counter."""
    build = IncrementalForward.for_model

    def capturing(model: torch.nn.Module, **kwargs: float) -> IncrementalForward | None:
        engine = build(model, **kwargs)
        if engine is not None:
            ENGINES.append(engine)
        return engine

    IncrementalForward.for_model = staticmethod(capturing)  # type: ignore[method-assign]


def _responsive_images(
    bundle: ModelBundle,
    grid: pt.TileGrid,
    rng: np.random.Generator,
    n_images: int,
    logit_floor: float,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(image, orders, fill) for ``n_images`` noise images on which the random network responds.

    With random weights some inputs' activations die out on the way: the true-class logit then
    barely changes whatever is occluded, deep layers see no change, and the incremental engine
    skips them (an image costing a fiftieth of a realistic one). Each candidate is screened on
    three inputs (intact, half filled along its first random order, filled); one whose logit
    range there is below ``logit_floor`` is skipped and said so, not timed.
    """
    found = 0
    for draw in range(50 * n_images):
        image = rng.integers(0, 256, size=(224, 224, 3), dtype=np.uint8)
        maps = [rng.random((224, 224)) for _ in range(2)]  # stand-ins: human, network
        orders = np.concatenate(
            [
                np.stack([pt.tile_order(m, grid, direction="morf") for m in maps]),
                pt.random_tile_orders(grid.n_tiles, 10, seed=draw),
            ]
        )
        fill = pt.fill_image(image, "uniform_noise", seed=draw)
        ranks = pt.tile_rank_map(orders[2], grid)  # pixel -> its step in the first random order
        half = pt.perturbed_images(image, fill, ranks, [grid.n_tiles // 2])[0]
        logit = pt.forward_logits(bundle, np.stack([image, half, fill]))[:, 0]
        spread = float(np.ptp(logit))
        if spread < logit_floor:
            print(
                f"skipped noise image {draw + 1}: true-class logit range {spread:.1e} over "
                f"intact, half-filled and filled < {logit_floor:.0e} (the random network does "
                "not respond to it; its increments would be degenerate)",
                flush=True,
            )
            continue
        yield image, orders, fill
        found += 1
        if found == n_images:
            return
    raise SystemExit(f"fewer than {n_images} responsive noise images in {50 * n_images} draws")


def main(
    n_images: int,
    batch_size: int,
    threads: int,
    *,
    fp32_only: bool = False,
    logit_floor: float = 1e-4,
) -> None:
    variants = {k: v for k, v in VARIANTS.items() if not (fp32_only and v[0])}
    _capture_engines()
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    spec = ArchitectureSpec("vggface", num_classes=7, input_size_px=224, head="thesis")
    bundle = ModelBundle(build_model(spec).eval(), preprocessing="thesis", input_size_px=224)
    grid = pt.TileGrid(224, 224, 56)
    rng = np.random.default_rng(0)
    curves: dict[str, list[pt.Curves]] = {name: [] for name in variants}
    seconds = dict.fromkeys(variants, 0.0)
    cpu_seconds = dict.fromkeys(variants, 0.0)
    outputs = 0
    work = dict.fromkeys(variants, 0)  # conv multiply-adds done
    full_macs = IncrementalForward.for_model(bundle.model).conv_macs((224, 224))  # type: ignore[union-attr]
    ENGINES.clear()
    for i, (image, orders, fill) in enumerate(
        _responsive_images(bundle, grid, rng, n_images, logit_floor)
    ):
        outputs += orders.shape[0] * grid.n_tiles + 1
        names = list(variants) if i % 2 == 0 else list(variants)[::-1]
        for name in names:
            bf16, incremental = variants[name]
            ENGINES.clear()
            t0, c0 = time.perf_counter(), time.process_time()
            result = pt.perturbation_curves(
                bundle,
                image,
                0,
                orders,
                grid,
                fill,
                batch_size=batch_size,
                bf16=bf16,
                incremental=incremental,
            )
            seconds[name] += time.perf_counter() - t0
            cpu_seconds[name] += time.process_time() - c0
            curves[name].append(result)
            n_out = orders.shape[0] * grid.n_tiles + 1
            done = sum(e.conv_macs_done for e in ENGINES) if incremental else n_out * full_macs
            work[name] += done
            logit_range = float(np.ptp(result.logit))
            print(
                f"image {i + 1}/{n_images} {name}: true-class logit range {logit_range:.2e}, "
                f"conv work {done / (n_out * full_macs):.3f} of full, "
                f"{seconds[name]:.1f} s wall, "
                f"{cpu_seconds[name]:.1f} s CPU so far",
                flush=True,
            )
    print(f"\ntorch {torch.__version__}, threads {threads}, batch {batch_size}")
    print(f"timed {n_images} image(s), {outputs // n_images} network outputs each;")
    print(f"thesis scale ({THESIS_IMAGES} images) extrapolated linearly from them;")
    print("'cpu min': CPU time of the process / threads (the wall time on idle cores)\n")
    ref = "full fp32"
    print("speed-ups from wall time; from CPU time:", end="")
    for name in variants:
        print(f" {name} {cpu_seconds[ref] / cpu_seconds[name]:.2f}x", end="")
    print("\n")
    prob_ref = np.concatenate([c.probability for c in curves[ref]])
    pred_ref = np.concatenate([c.predicted for c in curves[ref]])
    auc_ref = pt.curve_auc(prob_ref)
    bf16_ref = "full bf16" in variants
    header = (
        f"{'variant':>17} | {'s/image':>7} | {'thesis min':>10} | {'cpu min':>7} | "
        f"{'vs full fp32':>12} | "
        + (f"{'vs full bf16':>12} | " if bf16_ref else "")
        + f"{'max |dp|':>8} | {'max |dAUC|':>10} | same class"
    )
    print(header)
    print("-" * len(header))
    for name in variants:
        per_image = seconds[name] / n_images
        prob = np.concatenate([c.probability for c in curves[name]])
        pred = np.concatenate([c.predicted for c in curves[name]])
        print(
            f"{name:>17} | {per_image:7.1f} | {THESIS_IMAGES * per_image / 60:10.1f} | "
            f"{THESIS_IMAGES * cpu_seconds[name] / n_images / threads / 60:7.1f} | "
            f"{seconds[ref] / seconds[name]:11.2f}x | "
            + (f"{seconds['full bf16'] / seconds[name]:11.2f}x | " if bf16_ref else "")
            + f"{np.abs(prob - prob_ref).max():8.1e} | "
            f"{np.abs(pt.curve_auc(prob) - auc_ref).max():10.1e} | {np.mean(pred == pred_ref):.4f}"
        )
    print(f"\nconv work (full forward: {full_macs / 1e9:.2f} GMAC per output)")
    print(f"{'variant':>17} | {'share of full':>13} | {'GMAC/s (CPU)':>12} | floor at full rate")
    for name in variants:
        rate = work[name] / cpu_seconds[name] / 1e9
        share = work[name] / (outputs * full_macs)
        same = "full bf16" if variants[name][0] else ref
        floor = work[name] / (work[same] / cpu_seconds[same]) / threads / n_images
        print(
            f"{name:>17} | {share:13.3f} | {rate:12.1f} | {floor:.1f} s/image, "
            f"{THESIS_IMAGES * floor / 60:.1f} thesis min on {threads} thread(s)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--fp32-only",
        action="store_true",
        help="leave out the bf16 variants (for a CPU without native bf16, where it is emulated)",
    )
    parser.add_argument(
        "--logit-floor",
        type=float,
        default=1e-4,
        help="skip noise images whose true-class logit moves less than this (0: time every one)",
    )
    args = parser.parse_args()
    main(
        args.images,
        args.batch_size,
        args.threads,
        fp32_only=args.fp32_only,
        logit_floor=args.logit_floor,
    )
