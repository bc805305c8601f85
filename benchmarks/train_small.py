"""Train the small network on the synthetic faces, as the demo does; print accuracy and time.

Usage: python benchmarks/train_small.py [--identities 70] [--sessions 2] [--intensity-min 0.8]
       [--size 64] [--width 0.25] [--depth 11] [--epochs 50] [--lr 1e-3]
       [--batchnorm/--no-batchnorm] [--out DIR]

Runs the real ``stimuli`` and ``train`` stages (synthetic faces, identity-disjoint split) in a
temporary run folder and prints the test accuracy on held-out identities and each stage's time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from gazealign.config import study_from_dict
from gazealign.pipeline import Runner
from gazealign.pipeline.store import read_json
from gazealign.stages import study_stages


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--identities", type=int, default=70)
    p.add_argument("--sessions", type=int, default=2)
    p.add_argument("--intensity-min", type=float, default=0.8)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--width", type=float, default=0.25)
    p.add_argument("--depth", type=int, default=11)
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--patience", type=int, default=15)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--batchnorm", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="gazealign-train-small-"))
    config = study_from_dict(
        {
            "study": {"seed": args.seed, "run_dir": "run", "synthetic": True},
            "stimuli": {
                "source": "synthetic",
                "crop": "none",
                "input_size_px": args.size,
                "synthetic": {
                    "identities": args.identities,
                    "sessions": args.sessions,
                    "intensity_min": args.intensity_min,
                },
            },
            "model": {
                "architecture": "small_vgg",
                "width": args.width,
                "depth": args.depth,
                "batchnorm": args.batchnorm,
                "dropout": 0.3,
                "train": {
                    "epochs": args.epochs,
                    "patience": args.patience,
                    "learning_rate": args.lr,
                    "lr_schedule": "cosine",
                    "batch_size": args.batch,
                    "augmentation": {
                        "shift_fraction": 0.05,
                        "zoom_fraction": 0.05,
                        "brightness_min": 0.85,
                        "brightness_max": 1.15,
                    },
                },
            },
            "comparison": {"perturbation": {"tile_px": min(56, args.size)}},
        },
        base_dir=out,
    )
    runner = Runner(config, study_stages(), show_progress=False)
    t0 = time.perf_counter()
    runner.run(until="train")
    total = time.perf_counter() - t0
    metrics = read_json(runner.stage_dir("train") / "metrics.json")
    t_stim = read_json(runner.stage_dir("stimuli") / "_stage.json")["duration_s"]
    t_train = read_json(runner.stage_dir("train") / "_stage.json")["duration_s"]
    print(
        f"identities={args.identities} sessions={args.sessions} intensity>={args.intensity_min} "
        f"size={args.size} width={args.width} "
        f"depth={args.depth} batchnorm={args.batchnorm} epochs<={args.epochs} lr={args.lr}"
    )
    print(
        f"test accuracy {metrics['test_accuracy']:.3f} ({metrics['images']['test']} images, "
        f"{metrics['identities']['test']} held-out identities); val {metrics['val_accuracy']:.3f}; "
        f"best epoch {metrics['best_epoch']} of {metrics['epochs_run']}"
    )
    print(
        f"time: stimuli {t_stim:.1f} s, train {t_train:.1f} s (total {total:.1f} s); run in {out}"
    )


if __name__ == "__main__":
    main()
