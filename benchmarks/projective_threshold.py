"""Krypton's projective-field thresholding on chained perturbation steps: work saved, error made.

Krypton (Nakandala, Kumar & Papakonstantinou 2019) cuts the region an occlusion patch can reach
at each layer to a fraction ``threshold`` of the map, keeping the cached activations outside it.
There every occluded image is an increment on the *intact* image. The perturbation engine chains
its increments instead (step k on step k - 1 of the same order), so whatever a cut leaves stale
stays stale for the rest of the order. This measures what that costs in accuracy, on a trained
network: the demo's (run ``gazealign demo`` first, or pass any finished run folder whose
stimuli, train and perturbation stages ran).

For each of ``--images`` test images (evenly spaced over the perturbation stage's items) it runs
the stage's own orders with the exact incremental engine and with each threshold, and prints the
convolution work (share of full forwards, counted by the engine), seconds, and the largest
probability and AUC differences against exact:

    .venv/bin/python benchmarks/projective_threshold.py --run demo-run/run [--images 20]
"""

from __future__ import annotations

import argparse
import json
import time
import tomllib
from pathlib import Path

import numpy as np
import torch

from gazealign.compare import perturbation as pt
from gazealign.compare.incremental import IncrementalForward
from gazealign.stages.common import load_trained
from gazealign.stimuli.artifacts import read_item

THRESHOLDS: list[float | None] = [None, 0.9, 0.75, 0.6, 0.5, 0.4]  # None: exact


def stage_dir(run: Path, stage: str) -> Path:
    """The folder of the stage's last run (its key in the run's ``manifest.json``)."""
    manifest = json.loads((run / "manifest.json").read_text())
    return run / "stages" / stage / str(manifest["stages"][stage]["key"])


def main(run: Path, n_images: int, tile_px: int, threads: int) -> None:
    torch.set_num_threads(threads)
    bundle = load_trained(stage_dir(run, "train"))
    stimuli = stage_dir(run, "stimuli")
    items = sorted((stage_dir(run, "perturbation") / "items").glob("*.npz"))
    items = items[:: max(1, len(items) // n_images)][:n_images]
    net = pt.inference_net(bundle)
    probs: dict[float | None, list[np.ndarray]] = {t: [] for t in THRESHOLDS}
    classes: dict[float | None, list[np.ndarray]] = {t: [] for t in THRESHOLDS}
    work = dict.fromkeys(THRESHOLDS, 0)
    seconds = dict.fromkeys(THRESHOLDS, 0.0)
    outputs, size = 0, (0, 0)
    for path in items:
        with np.load(path) as arrays:
            orders = np.concatenate(
                [np.atleast_2d(arrays[k]) for k in sorted(arrays.files) if k.endswith("__order")]
            )
            true_class = int(arrays["true_class"])
        image = read_item(stimuli, path.stem).model_image
        size = image.shape[:2]
        grid = pt.TileGrid(size[0], size[1], tile_px)
        fill = pt.fill_image(image, "uniform_noise", seed=1)
        ranks = np.stack([pt.tile_rank_map(o, grid) for o in orders])
        outputs += orders.shape[0] * (grid.n_tiles + 1)
        for t in THRESHOLDS:
            engine = IncrementalForward.for_model(net.model, threshold=t)
            if engine is None:
                raise SystemExit("the network is not a chain of modules: no incremental engine")
            start = time.perf_counter()
            logits = pt._incremental_logits(
                bundle, net, engine, image, fill, ranks, grid.n_tiles, 32
            )
            seconds[t] += time.perf_counter() - start
            work[t] += engine.conv_macs_done
            curves = pt.curves_from_logits(logits, true_class)
            probs[t].append(curves.probability)
            classes[t].append(curves.predicted)
    engine = IncrementalForward.for_model(net.model)
    assert engine is not None
    full = outputs * engine.conv_macs((int(size[0]), int(size[1])))
    print(
        f"{len(items)} images of {size[0]} px, {orders.shape[0]} orders, tiles of {tile_px} px, "
        f"{threads} threads"
    )
    print(
        "| threshold | conv work, share of full | s | max abs prob. diff | max abs AUC diff "
        "| mean abs AUC diff | same class |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for t in THRESHOLDS:
        dp = max(float(np.abs(p - q).max()) for p, q in zip(probs[t], probs[None], strict=True))
        da = np.concatenate(
            [
                np.abs(pt.curve_auc(p) - pt.curve_auc(q))
                for p, q in zip(probs[t], probs[None], strict=True)
            ]
        )
        same = np.mean(
            np.concatenate(
                [(a == b).ravel() for a, b in zip(classes[t], classes[None], strict=True)]
            )
        )
        print(
            f"| {'exact' if t is None else t} | {work[t] / full:.3f} | {seconds[t]:.1f} | {dp:.2e} "
            f"| {da.max():.4f} | {da.mean():.4f} | {same:.3f} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="a finished run folder")
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    study = tomllib.loads((args.run / "study.toml").read_text())
    main(args.run, args.images, int(study["comparison"]["perturbation"]["tile_px"]), args.threads)
