"""Frozen-backbone fine-tuning of a VGG-Face-shaped network: full path vs cached features.

Usage: python benchmarks/train_frozen.py [--images 16] [--full-epochs 1] [--copies 1]
       [--target-images 600] [--target-epochs 20] [--batch 16] [--fp32] [--threads 1]

VGG-Face layout (VGG16, 13 convs) with the thesis head (fc6 512, fc7 512, fc8 7), random He
weights, random 224 px images, the thesis augmentation, ``freeze = "conv"``, no validation set.
Both paths run in one process on the same subset (``--images``):

* full path (``feature_copies = 0``): ``--full-epochs`` epochs, every batch augmented and run
  through the frozen conv stack (no backward through it: its parameters need no gradient);
* cached path (``feature_copies = --copies``): the conv stack once per image and copy, then all
  ``--target-epochs`` epochs of the head on the cached features (the two phases timed
  separately through ``fit``'s progress hook).

The thesis scale (``--target-images`` x ``--target-epochs``) is extrapolated linearly from the
measured subset (``--images`` equal to ``--batch``: one optimiser step per epoch, so the head's
time, mostly Adam steps, scales with the images too): full = measured x (target images / images) x (target epochs / full epochs);
cached = features x (target images / images) + head x (target images / images); the cached
path with 4 copies is also derived from the per-copy feature time (features scale with copies).
Wall and process CPU seconds are printed, measured and extrapolated: on a shared machine CPU
seconds are the figure to compare, and 1 torch thread (the default here) keeps them free of
threads spinning while they wait for a core. bfloat16 autocast is used where the CPU has fast bf16
(oneDNN reports AVX-512 bf16 / AMX), the same for both paths; ``--fp32`` forces float32. The
printed header says which. Compare the ratio: absolute times depend on other load.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import numpy as np
import torch

from gazealign.models.architecture import ArchitectureSpec
from gazealign.models.augment import Augmentation
from gazealign.models.bundle import ModelBundle
from gazealign.models.io import make_bundle
from gazealign.models.train import TrainConfig, fit, frozen_features, frozen_prefix, set_trainable
from gazealign.types import LABELS

T = TypeVar("T")


def vggface_bundle() -> ModelBundle:
    torch.manual_seed(0)
    return make_bundle(
        ArchitectureSpec("vggface", len(LABELS), 224, head="thesis"),
        preprocessing="vggface",
        labels=LABELS,
    )


@contextlib.contextmanager
def precision(bf16: bool) -> Iterator[None]:
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        yield


class PhaseClock:
    """A ``track`` for :func:`fit` that times each phase it iterates over (by description)."""

    def __init__(self) -> None:
        self.seconds: dict[str, tuple[float, float]] = {}  # phase -> (wall, CPU)

    def track(self, iterable: Iterable[T], *, description: str = "", **_: Any) -> Iterator[T]:
        t0, c0 = time.perf_counter(), time.process_time()
        yield from iterable
        self.seconds[description] = (time.perf_counter() - t0, time.process_time() - c0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=16, help="images in the measured subset")
    parser.add_argument("--full-epochs", type=int, default=1, help="epochs of the full path")
    parser.add_argument("--copies", type=int, default=1, help="feature_copies of the cached path")
    parser.add_argument("--target-images", type=int, default=600)
    parser.add_argument("--target-epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--fp32", action="store_true", help="float32 even where bf16 is fast")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    bf16 = not args.fp32 and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (args.images, 224, 224, 3), dtype=np.uint8)
    labels = rng.integers(0, len(LABELS), args.images)
    aug = Augmentation()
    base = {
        "batch_size": args.batch,
        "learning_rate": 1e-4,
        "freeze": "conv",
        "augmentation": aug,
        "eval_batch_size": args.batch,
    }
    print(
        f"VGG-Face layout, thesis head, 224 px, random weights, freeze conv, augmentation on; "
        f"{'bf16 autocast' if bf16 else 'float32'}; {torch.get_num_threads()} torch threads; "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )
    with precision(bf16):  # warm-up: oneDNN kernels, allocations
        warm = vggface_bundle()
        set_trainable(warm.model, "conv")  # type: ignore[arg-type]
        frozen_features(warm, images[:2], frozen_prefix(warm.model), batch_size=2)  # type: ignore[arg-type]

    full_clock = PhaseClock()
    conf = TrainConfig(epochs=args.full_epochs, feature_copies=0, **base)  # type: ignore[arg-type]
    with precision(bf16):
        fit(vggface_bundle(), images, labels, config=conf, seed=1, track=full_clock.track)
    full = full_clock.seconds["train"]

    cached_clock = PhaseClock()
    conf = TrainConfig(epochs=args.target_epochs, feature_copies=args.copies, **base)  # type: ignore[arg-type]
    with precision(bf16):
        fit(vggface_bundle(), images, labels, config=conf, seed=1, track=cached_clock.track)
    feat, head = cached_clock.seconds["features"], cached_clock.seconds["train"]

    scale = args.target_images / args.images
    print(f"measured on {args.images} images (wall s / CPU s):")
    print(f"  full path, {args.full_epochs} epoch(s): {full[0]:.1f} / {full[1]:.1f}")
    print(
        f"  cached path: features of {args.copies} copy(ies) {feat[0]:.1f} / {feat[1]:.1f}, "
        f"head {args.target_epochs} epochs {head[0]:.1f} / {head[1]:.1f}"
    )
    print(f"extrapolated to {args.target_images} images x {args.target_epochs} epochs:")
    for what, i in (("wall", 0), ("CPU", 1)):
        full_x = full[i] * scale * args.target_epochs / args.full_epochs
        per_copy = feat[i] / args.copies
        line = f"  {what}: full path {full_x:.0f} s ({full_x / 60:.1f} min)"
        for copies in sorted({args.copies, 4}):
            cached_x = (per_copy * copies + head[i]) * scale
            kind = "measured" if copies == args.copies else "derived"
            line += (
                f"; cached, {copies} copies ({kind}) {cached_x:.0f} s ({full_x / cached_x:.1f}x)"
            )
        print(line)
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
