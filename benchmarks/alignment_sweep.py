"""Gaze-aligned training, measured: a lambda sweep on the built-in synthetic faces.

Usage: python benchmarks/alignment_sweep.py [--identities 40] [--size 64] [--epochs 25]
       [--objective harmonization] [--saliency gradient_x_input] [--lambdas 0 0.3 1 3 10]
       [--shortcut none|corner_mark|background_tint] [--participants 6]
       [--method gradient_x_input] [--until STAGE] [--out DIR] [--figure PATH]

Runs the real ``stimuli``, ``gaze`` (simulated observers viewing the training and the test
faces), ``human_maps`` and ``alignment_sweep`` stages of a demo-like study (small VGG-11 at
width 0.25) and prints, per lambda: test accuracy on held-out identities (95 % interval from a
bootstrap over identities), map alignment with the human maps (Spearman and CC, each also as
a share of the human split-half ceiling), the planted-region share and the human - network
MoRF area, plus how many training images had a human map. With ``--shortcut`` the training
and validation faces carry a cue that goes with the expression; test faces do not.

Built-in data: synthetic faces and simulated observers. The numbers demonstrate the method;
they are not a finding about people.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from gazealign.config import study_from_dict
from gazealign.demo import aligned_demo_study
from gazealign.pipeline import Runner
from gazealign.pipeline.store import read_json, read_table
from gazealign.stages import study_stages

COLUMNS = [
    "weight",
    "test_accuracy",
    "test_accuracy_ci_low",
    "test_accuracy_ci_high",
    "test_accuracy_cued",
    "spearman",
    "spearman_of_ceiling",
    "cc",
    "cc_of_ceiling",
    "planted_share",
    "morf_difference",
    "best_epoch",
    "train_images_with_map",
    "train_images",
]


def study(args: argparse.Namespace) -> dict[str, Any]:
    """``gazealign demo --aligned``'s study with the command line's changes."""
    s = aligned_demo_study()
    s["stimuli"]["input_size_px"] = args.size
    s["stimuli"]["synthetic"]["identities"] = args.identities
    s["model"]["train"] |= {"epochs": args.epochs, "patience": args.epochs}
    s["gaze"]["simulation"]["participants"] = args.participants
    s["comparison"]["perturbation"]["tile_px"] = args.size // 4
    s["alignment"] = {
        "objective": args.objective,
        "lambdas": args.lambdas,
        "saliency": args.saliency,
        "shortcut": args.shortcut,
    }
    if args.method is not None:
        s["alignment"]["method"] = args.method
    return s


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--identities", type=int, default=40)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=25)
    p.add_argument("--participants", type=int, default=6)
    p.add_argument("--objective", default="harmonization")
    p.add_argument("--saliency", default="gradient_x_input")
    p.add_argument("--lambdas", type=float, nargs="+", default=[0.0, 0.3, 1.0, 3.0, 10.0])
    p.add_argument("--shortcut", default="none")
    p.add_argument(
        "--method",
        default="gradient_x_input",
        help="explainer scoring the maps (alignment.method; gradient_x_input needs captum)",
    )
    p.add_argument("--until", default="alignment_sweep", help="last stage to run")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--figure", type=Path, default=None, help="draw the trade-off figure here")
    args = p.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="gazealign-alignment-"))
    config = study_from_dict(study(args), base_dir=out)
    runner = Runner(config, study_stages(), show_progress=False)
    start = time.perf_counter()
    folders = runner.run(until=args.until)
    elapsed = time.perf_counter() - start
    if args.until != "alignment_sweep":
        print(f"ran up to {args.until} in {elapsed:.0f} s; run folder {runner.run_dir}")
        return
    sweep = read_table(folders["alignment_sweep"] / "sweep.parquet")
    manifest = read_json(runner.run_dir / "manifest.json")
    print("Built-in data (synthetic faces, simulated observers): demonstrates the method only.")
    print(
        f"{args.identities} identities x 2 sessions, {args.size} px, {args.epochs} epochs, "
        f"objective {args.objective} ({args.saliency}), shortcut {args.shortcut}, "
        f"{args.participants} simulated observers"
    )
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(sweep[COLUMNS].round(3).to_string(index=False))
        paired = read_table(folders["alignment_sweep"] / "paired.parquet")
        shown = ["weight", "measure", "n", "n_groups", "estimate", "ci_low", "ci_high", "p_value"]
        print("paired differences against the smallest lambda (intervals resample identities):")
        print(paired[shown].round(3).to_string(index=False))
        shortcut = folders["alignment_sweep"] / "shortcut.parquet"
        if shortcut.exists():
            print("shortcut set (cue-free and cued test faces; cue_drop = cued - cue-free):")
            print(read_table(shortcut).round(3).to_string(index=False))
    times = {k: round(v.get("duration_s", float("nan")), 1) for k, v in manifest["stages"].items()}
    print(f"stage seconds: {times}; total {elapsed:.0f} s; run folder {runner.run_dir}")
    if args.figure is not None:
        args.figure.parent.mkdir(parents=True, exist_ok=True)
        from gazealign.report.alignment_figures import tradeoff_figure

        fig = tradeoff_figure(sweep, synthetic=True)
        fig.savefig(args.figure, dpi=110)


if __name__ == "__main__":
    main()
