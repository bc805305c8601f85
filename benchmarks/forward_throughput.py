"""VGG16 forward throughput at 224 px: float32 against bfloat16 (+ channels-last), with agreement.

Usage: python benchmarks/forward_throughput.py [--batch 16] [--batches 3] [--threads N]

Random weights (He init) and random images; reports images/s per variant and how often the
predicted class (argmax over 7 outputs) and the top logit agree with float32. Figures depend on
the CPU (bf16 needs AVX-512 bf16 or AMX to be fast) and on other load: compare ratios from one run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from gazealign.models.architecture import ArchitectureSpec
from gazealign.models.io import make_bundle
from gazealign.models.predict import predict
from gazealign.types import LABELS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    bundle = make_bundle(
        ArchitectureSpec("vggface", len(LABELS), 224, head="thesis"),
        preprocessing="vggface",
        labels=LABELS,
    )
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (args.batch * args.batches, 224, 224, 3), dtype=np.uint8)
    predict(bundle, images[:2], batch_size=2)  # warm-up (allocations, oneDNN kernels)
    results = {}
    for name, bf16, cl in [
        ("fp32", False, False),
        ("fp32 channels_last", False, True),
        ("bf16", True, False),
        ("bf16 channels_last", True, True),
    ]:
        predict(bundle, images[:2], batch_size=2, bf16=bf16, channels_last=cl)
        t0 = time.perf_counter()
        logits = predict(bundle, images, batch_size=args.batch, bf16=bf16, channels_last=cl)
        seconds = time.perf_counter() - t0
        results[name] = (len(images) / seconds, logits)
    ref = results["fp32"][1]
    print(
        f"VGG16 224 px, thesis head, batch {args.batch}, {len(images)} images, {torch.get_num_threads()} threads"
    )
    print(f"{'variant':<20} {'img/s':>8} {'argmax agree':>13} {'max |dlogit|/max|logit|':>24}")
    for name, (ips, logits) in results.items():
        agree = float((logits.argmax(1) == ref.argmax(1)).mean())
        rel = float(np.abs(logits - ref).max() / np.abs(ref).max())
        print(f"{name:<20} {ips:8.2f} {agree:13.3f} {rel:24.4f}")


if __name__ == "__main__":
    main()
