"""Do the control orderings separate image-specific fixations from the face prior? By simulation.

Runs the real pipeline (synthetic faces, a small trained network, LRP, simulated observers,
human maps, perturbation with every control ordering) twice, the observers differing only in
``gaze.simulation.fixation_targets``:

* ``image``: each observer's fixations land in the regions of the face shown;
* ``expression_mean``: in the expression's mean region layout, the same for every identity.

With per-identity face shifts (``stimuli.synthetic.pose_jitter_px``) the regions differ between
identities, so image-following observers' maps carry information about *this* face that another
identity's map or the expression's mean map lack: the human order should beat
``other_identity`` and ``expression_mean`` (MoRF AUC lower, LeRF AUC higher, intervals excluding
0). Observers following the mean layout carry none: their intervals should include 0.

The held-out identities' faces (``test_fraction`` of the identities, both photo sessions) are
compared; the identity-clustered intervals rest on them.
Built-in data: these numbers demonstrate the method, they are not a finding about people.
Run::

    .venv/bin/python benchmarks/control_orderings.py [--identities 40] [--observers 12]
        [--pose-jitter-px 2] [--epochs 30] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from gazealign.config import study_from_dict
from gazealign.pipeline import Runner
from gazealign.pipeline.store import read_table
from gazealign.stages import study_stages

CONTROLS = [
    "other_identity",
    "expression_mean",
    "all_mean",
    "centre_bias",
    "lrp_epsilon_plus_flat_blurred",
]


def control_study(
    run_dir: Path,
    *,
    fixation_targets: str,
    identities: int = 40,
    sessions: int = 2,
    test_fraction: float = 0.3,
    observers: int = 12,
    pose_jitter_px: float = 2.0,
    input_px: int = 48,
    tile_px: int = 8,
    epochs: int = 30,
    resamples: int = 1000,
    controls: list[str] | None = None,
    seed: int = 7,
) -> dict[str, Any]:
    """A small synthetic study with every control ordering (see the module docstring)."""
    return {
        "study": {"name": "control orderings", "seed": seed, "run_dir": str(run_dir)}
        | {"synthetic": True},
        "stimuli": {
            "source": "synthetic",
            "crop": "none",
            "input_size_px": input_px,
            "synthetic": {
                "identities": identities,
                "sessions": sessions,
                "image_rows": 80,
                "image_cols": 64,
                "intensity_min": 0.8,
                "pose_jitter_px": pose_jitter_px,
            },
            "split": {"test_fraction": test_fraction, "val_fraction": 0.15},
        },
        "model": {
            "architecture": "small_vgg",
            "depth": 11,
            "width": 0.25,
            "batchnorm": True,
            "train": {"epochs": epochs, "patience": epochs, "batch_size": 16},
        },
        "explain": {"methods": ["lrp_epsilon_plus_flat"], "target": "true"},
        "gaze": {
            "source": "simulated",
            "stimulus_scale": 8.0,
            "simulation": {"participants": observers, "fixation_targets": fixation_targets},
        },
        "heatmap": {"sigma_deg": 1.0},
        "comparison": {
            "perturbation": {
                "tile_px": tile_px,
                "random_orders": 3,
                "batch_size": 128,
                "controls": CONTROLS if controls is None else controls,
            },
            "bootstrap_resamples": resamples,
            "permutations": resamples,
        },
    }


def run_controls(out_dir: Path, fixation_targets: str, **options: Any) -> dict[str, Any]:
    """Run the study up to the perturbation stage in ``out_dir`` (stages the settings share are
    reused): its human - control and human - method AUC rows over all images, the network's
    test accuracy and the stage folders."""
    study = control_study(out_dir / "run", fixation_targets=fixation_targets, **options)
    config = study_from_dict(study, base_dir=out_dir, source=str(out_dir / "study.toml"))
    dirs = Runner(config, study_stages(), show_progress=False).run(until="perturbation")
    pert_dir = dirs["perturbation"]
    controls = read_table(pert_dir / "control_differences.parquet")
    methods = read_table(pert_dir / "auc_differences.parquet")
    methods = methods[methods["contrast"].str.startswith("human - ")]
    both = pd.concat([controls, methods.assign(control="")], ignore_index=True)
    keep = (both["quantity"] == "auc") & (both["label"] == "all")
    keep &= both["order"].isin(["morf", "lerf"])
    accuracy = json.loads((dirs["train"] / "metrics.json").read_text())["test_accuracy"]
    return {
        "rows": both[keep].assign(fixation_targets=fixation_targets).reset_index(drop=True),
        "test_accuracy": accuracy,
        "dirs": dirs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identities", type=int, default=40)
    parser.add_argument("--observers", type=int, default=12)
    parser.add_argument("--pose-jitter-px", type=float, default=2.0)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None, help="keep the runs here")
    args = parser.parse_args()
    options = {
        "identities": args.identities,
        "observers": args.observers,
        "pose_jitter_px": args.pose_jitter_px,
        "epochs": args.epochs,
    }
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        frames = []
        for targets in ("image", "expression_mean"):
            start = time.perf_counter()
            result = run_controls(out, targets, **options)
            print(
                f"fixation_targets={targets}: {time.perf_counter() - start:.0f} s "
                f"(network test accuracy {result['test_accuracy']:.3f})",
                flush=True,
            )
            frames.append(result["rows"])
    rows = pd.concat(frames, ignore_index=True)
    print(
        f"{args.identities} identities x 7 expressions x 2 sessions, {args.observers} observers, "
        f"pose_jitter_px {args.pose_jitter_px}; AUC difference human - ordering over the held-out "
        "faces, 95% identity-clustered BCa CI, sign-flip p (synthetic data: demonstrates the "
        "method, not a finding about people)"
    )
    for measure in ("probability", "accuracy"):
        sub = rows[rows["measure"] == measure]
        print(f"\n{measure}")
        print("| observers | order | contrast | estimate | 95% CI | p | identities |")
        print("|---|---|---|---|---|---|---|")
        for r in sub.sort_values(["fixation_targets", "order", "contrast"]).itertuples():
            print(
                f"| {r.fixation_targets} | {r.order} | {r.contrast} | {r.estimate:+.4f} | "
                f"[{r.ci_low:+.4f}, {r.ci_high:+.4f}] | {r.p_value:.3g} | {r.n_groups} |"
            )


if __name__ == "__main__":
    main()
