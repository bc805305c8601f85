"""Key numbers of a finished demo run (or any run), as Markdown for RESULTS.md.

Reads only the run's artifacts: stage durations from ``manifest.json``, test accuracy from the
``train`` stage, AUC differences, the planted-region share of relevance against its area share
(synthetic faces), and each saliency metric against the human noise ceiling (leave one observer
out by default), with the chance-corrected % of ceiling.

    .venv/bin/python benchmarks/demo_summary.py runs/demo/run
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd


def markdown(table: pd.DataFrame) -> str:
    """A wide table as Markdown, three decimals."""
    head = [str(table.index.name or ""), *map(str, table.columns)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for index, row in table.iterrows():
        lines.append("| " + " | ".join([str(index), *(f"{v:.3f}" for v in row)]) + " |")
    return "\n".join(lines)


def stage_dir(run_dir: Path, stage: str, manifest: dict[str, object]) -> Path:
    key = manifest["stages"][stage]["key"]  # type: ignore[index]
    return run_dir / "stages" / stage / str(key)


def main(run_dir: Path) -> None:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    stages = manifest["stages"]
    total = sum(s["duration_s"] for s in stages.values())
    print("| stage | seconds | share |\n|---|---|---|")
    for name, record in sorted(stages.items(), key=lambda kv: -kv[1]["duration_s"]):
        print(f"| {name} | {record['duration_s']:.1f} | {record['duration_s'] / total:.0%} |")
    print(f"| all stages | {total:.1f} | |\n")

    metrics = json.loads((stage_dir(run_dir, "train", manifest) / "metrics.json").read_text())
    print(
        f"Identity-disjoint test accuracy: {metrics['test_accuracy']:.3f} "
        f"({metrics['images']['test']} images, {metrics['identities']['test']} identities; "
        f"best epoch {metrics['best_epoch']} of {metrics['epochs_run']}).\n"
    )

    auc = pd.read_parquet(stage_dir(run_dir, "perturbation", manifest) / "auc_differences.parquet")
    keep = (
        (auc["label"] == "all")
        & (auc["order"] == "morf")
        & (auc["quantity"] == "auc")
        & (auc["measure"] == "accuracy")
    )
    print(
        "MoRF accuracy-AUC differences over all test images (identity-clustered interval and "
        "sign-flip p; interaction: expression x ordering):\n"
    )
    print("| contrast | estimate | CI | p | images | identities | interval | interaction p |")
    print("|---|---|---|---|---|---|---|---|")
    for r in auc[keep].itertuples():
        method = f"{r.interval_method}{' expanded' if r.interval_expanded else ''}"
        print(
            f"| {r.contrast} | {r.estimate:+.3f} | [{r.ci_low:+.3f}, {r.ci_high:+.3f}] | "
            f"{r.p_value:.4f} | {r.n} | {r.n_groups} | {method} | {r.interaction_p:.3g} |"
        )

    shares = pd.read_parquet(
        stage_dir(run_dir, "region_shares", manifest) / "region_shares.parquet"
    )
    planted = shares[shares["region"] == "planted"]
    if not planted.empty:
        print("\nShare in the planted diagnostic regions (mean over test faces, 95% CI):\n")
        print(markdown(planted.pivot_table(index="label", columns="source", values="share")))

    mets = pd.read_parquet(stage_dir(run_dir, "saliency_metrics", manifest) / "metrics.parquet")
    mets = mets[mets["label"] == "all"] if "label" in mets.columns else mets
    print("\nSaliency metrics (network maps vs simulated observers, all observers):\n")
    print(markdown(mets.pivot_table(index="metric", columns="map", values="value")))
    ceiling_path = stage_dir(run_dir, "saliency_metrics", manifest) / "ceiling.parquet"
    if ceiling_path.exists():
        ceiling = pd.read_parquet(ceiling_path)
        print(
            "\nLeave-one-observer-out ceiling (held-out observers; chance map: centre bias; "
            "interval: two-way bootstrap over identities x observers):\n"
        )
        print(
            "| map | metric | held-out score | ceiling N-1 | ceiling inf | chance | % of ceiling | CI |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for r in ceiling.itertuples():
            print(
                f"| {r.map} | {r.metric} | {r.held_out_score:.3f} | {r.ceiling:.3f} | "
                f"{r.ceiling_extrapolated:.3f} | {r.chance_score:.3f} | "
                f"{100 * r.percent_of_ceiling:.0f} % | [{100 * r.percent_of_ceiling_ci_low:.0f}, "
                f"{100 * r.percent_of_ceiling_ci_high:.0f}] |"
            )


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/demo/run"))
