"""Thesis-scale cost of the perturbation analysis: VGG16 at 224, fp32 vs bf16 autocast.

The seed study: 112 test images, a 4x4 grid of 56 px tiles (16 steps), MoRF orders from a human
map and a network map plus 10 random orders = 12 orders x 16 steps + 1 intact image = 193
forward passes per image. This measures a few images (random VGG-Face-layout weights, a noise
image: the cost does not depend on the content) and extrapolates to 112 images; it also reports
how far bf16 curves and AUCs are from fp32 on the same inputs.

    .venv/bin/python benchmarks/perturbation_scale.py [--images 1] [--batch-size 32]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from gazealign.compare import perturbation as pt
from gazealign.models.architecture import ArchitectureSpec, build_model
from gazealign.models.bundle import ModelBundle

THESIS_IMAGES = 112


def main(n_images: int, batch_size: int, threads: int) -> None:
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    spec = ArchitectureSpec("vggface", num_classes=7, input_size_px=224, head="thesis")
    bundle = ModelBundle(build_model(spec).eval(), preprocessing="thesis", input_size_px=224)
    grid = pt.TileGrid(224, 224, 56)
    rng = np.random.default_rng(0)
    results: dict[bool, list[pt.Curves]] = {False: [], True: []}
    seconds = {False: 0.0, True: 0.0}
    forwards = 0
    for i in range(n_images):
        image = rng.integers(0, 256, size=(224, 224, 3), dtype=np.uint8)
        maps = [rng.random((224, 224)) for _ in range(2)]  # stand-ins: human, network
        orders = np.concatenate(
            [
                np.stack([pt.tile_order(m, grid, direction="morf") for m in maps]),
                pt.random_tile_orders(grid.n_tiles, 10, seed=i),
            ]
        )
        fill = pt.fill_image(image, "uniform_noise", seed=i)
        forwards += orders.shape[0] * grid.n_tiles + 1
        for bf16 in (False, True):
            t0 = time.perf_counter()
            curves = pt.perturbation_curves(
                bundle, image, 0, orders, grid, fill, batch_size=batch_size, bf16=bf16
            )
            seconds[bf16] += time.perf_counter() - t0
            results[bf16].append(curves)
    print(f"torch {torch.__version__}, threads {threads}, batch {batch_size}, images {n_images}")
    print(f"forward passes per image: {forwards // n_images}")
    for bf16, name in ((False, "fp32"), (True, "bf16 autocast")):
        per_image = seconds[bf16] / n_images
        print(
            f"{name:>14}: {forwards / seconds[bf16]:6.2f} forward/s, {1 / per_image:6.3f} images/s, "
            f"{per_image:6.1f} s/image -> {THESIS_IMAGES} images: "
            f"{THESIS_IMAGES * per_image / 60:6.1f} min (extrapolated)"
        )
    prob32 = np.concatenate([c.probability for c in results[False]])
    prob16 = np.concatenate([c.probability for c in results[True]])
    pred32 = np.concatenate([c.predicted for c in results[False]])
    pred16 = np.concatenate([c.predicted for c in results[True]])
    auc32, auc16 = pt.curve_auc(prob32), pt.curve_auc(prob16)
    print(f"speed-up bf16 / fp32: {seconds[False] / seconds[True]:.2f}x")
    print(f"max |probability bf16 - fp32| over all steps: {np.abs(prob16 - prob32).max():.2e}")
    print(f"max |probability AUC bf16 - fp32| over orders: {np.abs(auc16 - auc32).max():.2e}")
    print(f"steps with the same predicted class: {np.mean(pred16 == pred32):.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    main(args.images, args.batch_size, args.threads)
