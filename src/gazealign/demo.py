"""The built-in demo study: synthetic faces, simulated observers, a small network."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from rich.console import Console

from gazealign.config import StudyConfig, dump_study, load_study, study_from_dict
from gazealign.pipeline import Runner
from gazealign.pipeline.store import write_text

SYNTHETIC_NOTICE = (
    "Built-in data: synthetic faces and simulated observers. These results demonstrate the "
    "method; they are not a finding about people."
)

#: The demo study. Sizes are chosen so the whole study runs in minutes on a 2-core laptop CPU:
#: 980 small faces (70 identities x 7 expressions x 2 sessions), a small VGG-style network
#: (one-cycle schedule, 40 epochs in bf16 autocast where the CPU has it; measured: 0.91
#: identity-disjoint test accuracy; 36 fp32 epochs: 0.92, 36 bf16 epochs: 0.89), eight
#: simulated observers, a 4x4 tile grid; per-item work in two
#: worker processes (``benchmarks/demo_timing.py`` times it).
DEMO_STUDY: dict[str, Any] = {
    "study": {
        "name": "gazealign demo",
        "seed": 7,
        "run_dir": "run",
        "synthetic": True,
        "workers": 2,
    },
    "stimuli": {
        "source": "synthetic",
        "crop": "none",
        "input_size_px": 96,
        "synthetic": {
            "identities": 70,
            "sessions": 2,
            "image_rows": 160,
            "image_cols": 128,
            "intensity_min": 0.8,
        },
        "split": {"test_fraction": 0.25, "val_fraction": 0.15},
    },
    "model": {
        "architecture": "small_vgg",
        "depth": 11,
        "width": 0.25,
        "batchnorm": True,
        "dropout": 0.3,
        "preprocessing": "thesis",
        "train": {
            "epochs": 40,
            "patience": 15,
            "batch_size": 16,
            "learning_rate": 2e-3,
            "lr_schedule": "one_cycle",
            # bfloat16 autocast where the CPU does it natively (1.5x per epoch), else float32
            "bf16": "auto",
            "augmentation": {
                "shift_fraction": 0.05,
                "zoom_fraction": 0.05,
                "brightness_min": 0.85,
                "brightness_max": 1.15,
            },
        },
    },
    "explain": {"methods": ["lrp_epsilon_plus_flat", "lrp_epsilon_gamma_box"], "target": "true"},
    "gaze": {"source": "simulated", "stimulus_scale": 4.0, "simulation": {"participants": 8}},
    "heatmap": {"sigma_deg": 1.0},
    "comparison": {
        # bf16 off: the 'auto' check (fp32 and bf16 on 4 images) rejects bf16 for this small
        # network anyway (AUC difference 5.5e-3 > 0.005), so it would only repeat work
        "perturbation": {"tile_px": 24, "random_orders": 5, "batch_size": 64, "bf16": False},
        "metrics": {"auc_splits": 20, "ceiling_splits": 5, "emd_max_side_px": 16},
        "bootstrap_resamples": 1000,
        "permutations": 2000,
    },
    # 8 test faces carry the sanity verdicts (cascading randomisation, class sensitivity) at
    # half the cost of the default 16
    "sanity": {"images": 8},
    "report": {"title": "gazealign demo: synthetic faces, simulated observers"},
}


def aligned_demo_study() -> dict[str, Any]:
    """The aligned-training demo (``gazealign demo --aligned``): the demo's faces and observers
    at 64 px, 40 identities, and a harmonization lambda sweep (lambda 0, 0.3, 1, 3, 10 with the
    gradient x input saliency in the loss, as measured in ``benchmarks/RESULTS.md``; one network
    per lambda, 25 epochs each) scored on the held-out identities. Kept apart from the plain
    demo, which it would slow down several-fold (every aligned step is a double backward
    pass)."""
    study = copy.deepcopy(DEMO_STUDY)
    study["study"]["name"] = "gazealign aligned-training demo"
    study["stimuli"]["input_size_px"] = 64
    study["stimuli"]["synthetic"]["identities"] = 40
    # the recipe its sweep was measured with (the plain demo's one-cycle recipe is tuned for it)
    study["model"]["train"] |= {
        "epochs": 25,
        "patience": 25,
        "learning_rate": 1e-3,
        "lr_schedule": "cosine",
        "bf16": False,
    }
    study["explain"]["methods"] = ["lrp_epsilon_plus_flat"]
    study["gaze"]["simulation"]["participants"] = 6
    study["comparison"]["perturbation"]["tile_px"] = 16
    study["alignment"] = {
        "objective": "harmonization",
        "lambdas": [0.0, 0.3, 1.0, 3.0, 10.0],
        "saliency": "gradient_x_input",
    }
    return study


def demo_config(out_dir: Path, *, aligned: bool = False) -> StudyConfig:
    """The demo study (or the aligned-training demo), with its run folder inside ``out_dir``."""
    study = aligned_demo_study() if aligned else DEMO_STUDY
    return study_from_dict(study, base_dir=out_dir, source=str(out_dir / "demo.toml"))


def run_demo(
    out_dir: Path,
    *,
    progress: bool = True,
    console: Console | None = None,
    aligned: bool = False,
) -> Path:
    """Run the demo in ``out_dir``; ``aligned``: the aligned-training demo (up to its sweep)."""
    from gazealign.stages import study_stages

    console = console or Console()
    out_dir.mkdir(parents=True, exist_ok=True)
    study_file = out_dir / "demo.toml"
    write_text(study_file, dump_study(demo_config(out_dir, aligned=aligned)))
    config = load_study(study_file)
    console.print(f"[bold]{SYNTHETIC_NOTICE}[/bold]")
    runner = Runner(config, study_stages(), show_progress=progress, console=console)
    folders = runner.run(until="alignment_sweep" if aligned else None)
    console.print(f"demo study: {study_file}\nrun folder: {runner.run_dir}")
    if "report" in folders:
        console.print(f"[bold]report: {folders['report'] / 'report.html'}[/bold]", soft_wrap=True)
    if aligned:
        from gazealign.report.build import report_from_run

        sweep = folders["alignment_sweep"]
        page, _ = report_from_run(runner.run_dir)  # the sweep's section; the rest is absent
        console.print(f"alignment sweep: {sweep / 'sweep.csv'}, {sweep / 'paired.csv'}")
        console.print(f"[bold]report: {page}[/bold]", soft_wrap=True)
    return runner.run_dir
