"""A toy study used by the pipeline tests: real stages over numbers, run as a script.

Usage: python pipeline_toy.py STUDY.toml LOG_FILE [SLEEP_S]

Stage ``numbers`` (per item) writes one array per item and appends the item id to LOG_FILE
when it computes it, so tests can see which items were (re)computed. With the environment
variable ``TOY_GATE`` set to a path, each item waits until that file exists (a test holds a run
mid-stage for as long as it needs, whatever the machine's load).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from gazealign.config import StudyConfig, load_study
from gazealign.pipeline import Runner, Stage, StageContext
from gazealign.pipeline.store import read_arrays, write_json, write_table


def toy_stages(log_file: Path, sleep_s: float = 0.0) -> list[Stage]:
    def items(ctx: StageContext) -> list[str]:
        return [f"img{i:03d}" for i in range(ctx.config.stimuli.synthetic.identities)]

    def run_item(ctx: StageContext, item: str) -> dict[str, np.ndarray]:
        with log_file.open("a") as fh:
            fh.write(item + "\n")
        time.sleep(sleep_s)
        gate = os.environ.get("TOY_GATE")
        deadline = time.monotonic() + 120
        while gate and not Path(gate).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        ctx.note("items_computed", 1)
        rng = np.random.default_rng([ctx.seed("noise"), int(item[3:])])
        return {"values": rng.normal(size=(8, 8)), "id": np.array(int(item[3:]))}

    def summarise(ctx: StageContext) -> None:
        import pandas as pd

        rows = []
        for path in sorted((ctx.out_dir / "items").glob("*.npz")):
            arrays = read_arrays(path)
            rows.append({"item": path.stem, "mean": float(arrays["values"].mean())})
        write_table(ctx.out_dir / "summary.parquet", pd.DataFrame(rows))

    def train(ctx: StageContext) -> None:
        write_json(ctx.out_dir / "model.json", {"epochs": ctx.config.model.train.epochs})

    def gaze(ctx: StageContext) -> None:
        write_json(
            ctx.out_dir / "gaze.json", {"participants": ctx.config.gaze.simulation.participants}
        )

    def maps(ctx: StageContext) -> None:
        write_json(ctx.out_dir / "maps.json", {"sigma_deg": ctx.config.heatmap.sigma_deg})

    def compare(ctx: StageContext) -> None:
        write_json(ctx.out_dir / "compare.json", {"inputs": sorted(ctx.inputs)})

    return [
        Stage(
            "numbers",
            "toy per-item stage",
            reads=("study.seed", "stimuli.synthetic"),
            items=items,
            run_item=run_item,
            run=summarise,
        ),
        Stage("train", "toy training", reads=("model.train",), needs=("numbers",), run=train),
        Stage("gaze", "toy gaze", reads=("gaze.simulation",), run=gaze),
        Stage("human_maps", "toy maps", reads=("heatmap",), needs=("gaze",), run=maps),
        Stage(
            "compare",
            "toy compare",
            reads=("comparison",),
            needs=("train", "human_maps"),
            run=compare,
        ),
    ]


def make_runner(config: StudyConfig, log_file: Path, sleep_s: float = 0.0) -> Runner:
    return Runner(config, toy_stages(log_file, sleep_s), show_progress=False)


if __name__ == "__main__":
    # stages keyed by module "pipeline_toy", as the in-process tests key them, not "__main__"
    from pipeline_toy import make_runner

    from gazealign.cli import user_errors

    with user_errors():  # as the gazealign command: one message and exit 2 on a user error
        study = load_study(sys.argv[1])
        sleep = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
        make_runner(study, Path(sys.argv[2]), sleep).run()
