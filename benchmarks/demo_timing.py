"""Wall time of the built-in demo, stage by stage, and its network's test accuracy.

Runs ``gazealign demo`` (what ``make demo`` runs) in a fresh process into a temporary folder,
then prints the wall seconds of every stage (from the run's ``manifest.json``), the whole
command's wall seconds (start-up and imports included) and the identity-disjoint test accuracy
(the ``train`` stage's ``metrics.json``):

    .venv/bin/python benchmarks/demo_timing.py
    .venv/bin/python benchmarks/demo_timing.py --src /path/to/other/checkout/src --json a.json
    .venv/bin/python benchmarks/demo_timing.py --table before.json after.json

``--src`` runs another source tree's gazealign (put first on ``PYTHONPATH``), ``--json`` keeps
the figures, ``--table`` prints saved figures side by side without running anything. The
thread count is the environment's (``OMP_NUM_THREADS``, else every CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def stage_dir(run_dir: Path, manifest: dict[str, Any], stage: str) -> Path:
    return run_dir / "stages" / stage / str(manifest["stages"][stage]["key"])


def run_demo(src: Path | None, keep: Path | None) -> dict[str, Any]:
    """One ``gazealign demo`` in a fresh process; its stage seconds, total and accuracy."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [env.get("PYTHONPATH")])])
    with tempfile.TemporaryDirectory(prefix="demo-timing-") as tmp:
        out = keep or Path(tmp) / "demo"
        command = [sys.executable, "-m", "gazealign", "demo", "--out", str(out), "--no-progress"]
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        run_dir = out / "run"
        manifest = json.loads((run_dir / "manifest.json").read_text())
        metrics = json.loads((stage_dir(run_dir, manifest, "train") / "metrics.json").read_text())
    stages = {name: float(rec["duration_s"]) for name, rec in manifest["stages"].items()}
    return {
        "stages": stages,
        "stages_total_s": sum(stages.values()),
        "wall_s": wall,
        "test_accuracy": metrics["test_accuracy"],
        "best_epoch": metrics["best_epoch"],
        "epochs_run": metrics["epochs_run"],
        "threads": os.environ.get("OMP_NUM_THREADS", f"all ({os.cpu_count()} CPUs)"),
        "src": str(src) if src else "installed",
    }


def table(runs: dict[str, dict[str, Any]]) -> str:
    """Markdown: one row per stage (slowest first in the first run), one column per run."""
    names = list(runs)
    first = runs[names[0]]["stages"]
    stages = sorted({s for r in runs.values() for s in r["stages"]}, key=lambda s: -first.get(s, 0))
    lines = ["| stage | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for stage in stages:
        cells = [
            f"{r['stages'][stage]:.1f}" if stage in r["stages"] else "-" for r in runs.values()
        ]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    rows = {
        "all stages": lambda r: f"{r['stages_total_s']:.1f}",
        "**wall, whole command**": lambda r: f"**{r['wall_s']:.1f}**",
        "test accuracy": lambda r: f"{r['test_accuracy']:.3f}",
        "best epoch / epochs run": lambda r: f"{r['best_epoch']} / {r['epochs_run']}",
    }
    for label, cell in rows.items():
        lines.append(f"| {label} | " + " | ".join(cell(r) for r in runs.values()) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, help="a gazealign source folder to run instead")
    parser.add_argument("--label", default="seconds", help="column name of this run")
    parser.add_argument("--json", type=Path, help="save the figures here")
    parser.add_argument("--keep", type=Path, help="run the demo here (kept) instead of a temp dir")
    parser.add_argument("--table", type=Path, nargs="+", help="print saved figures side by side")
    args = parser.parse_args()
    if args.table:
        runs = {}
        for path in args.table:
            saved = json.loads(path.read_text())
            runs[saved.get("label", path.stem)] = saved
        print(table(runs))
        return
    result = run_demo(args.src, args.keep) | {"label": args.label}
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(table({args.label: result}))
    print(f"\nthreads: {result['threads']}; source: {result['src']}")


if __name__ == "__main__":
    main()
