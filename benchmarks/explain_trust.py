"""Do the demo network's maps depend on the class explained and on its weights?

On a finished run of the demo (or any synthetic study) with a trained network, prints

1. per target output (logit, contrastive, sglrp) and method: the share of positive relevance in
   each test face's planted region (stimulus frame, as the region_shares stage measures it)
   against the region's area share, per expression, and the happy faces' ratio;
2. class sensitivity: median Pearson r of the true class's signed map with the runner-up's and
   a random other class's, with the verdict at the default threshold;
3. cascading randomisation (logit target): per layer, from the top down, the median Spearman of
   |map| and SSIM with the trained network's maps.

Train the network once and reuse it::

    gazealign run examples/demo.toml --until train      # run_dir set to e.g. /tmp/run
    .venv/bin/python benchmarks/explain_trust.py /tmp/run [sanity_images]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from gazealign.compare.regions import relevance_shares
from gazealign.explain import explain, to_stimulus_frame
from gazealign.explain.sanity import SanityInputs, class_sensitivity, randomisation_curve, verdicts
from gazealign.models.io import load_bundle
from gazealign.stages.sanity_checks import evenly_spaced
from gazealign.stimuli.artifacts import read_item, read_stimuli_table

METHODS = ("lrp_epsilon_plus_flat", "lrp_epsilon_gamma_box", "gradient_x_input")
TARGETS = ("logit", "contrastive", "sglrp")


def stage_dir(run_dir: Path, name: str) -> Path:
    done = sorted(
        (run_dir / "stages" / name).glob("*/_stage.json"), key=lambda p: p.stat().st_mtime
    )
    if not done:
        raise SystemExit(f"{run_dir}: no finished {name} stage")
    return done[-1].parent


def planted_table(bundle, items, labels) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    images = np.stack([it.model_image for it in items])
    targets = np.array([bundle.labels.index(lab) for lab in labels])
    rows = []
    for kind in TARGETS:
        for method in METHODS:
            t0 = time.perf_counter()
            maps = explain(
                bundle, images, method=method, target=targets, target_output=kind,
                sign="signed", batch_size=32,
            )  # fmt: skip
            for item, lab, e in zip(items, labels, maps, strict=True):
                if item.planted is None or not item.planted.any():
                    continue
                stim = to_stimulus_frame(e.map, item.crop).values
                share = relevance_shares(stim, {"planted": item.planted}, regions=("planted",))
                rows.append(
                    {
                        "target_output": kind,
                        "method": method,
                        "label": lab,
                        "share": share["planted"],
                        "area": float(item.planted.mean()),
                    }
                )
            print(
                f"  explained {len(items)} faces: {kind} {method} {time.perf_counter() - t0:.1f} s"
            )
    return pd.DataFrame(rows)


def main() -> None:
    run_dir = Path(sys.argv[1])
    n_sanity = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    torch.set_num_threads(1)
    stimuli_dir = stage_dir(run_dir, "stimuli")
    bundle = load_bundle(stage_dir(run_dir, "train") / "model.safetensors")
    table = read_stimuli_table(stimuli_dir)
    test = table[table["split"].astype(str) == "test"].sort_values("stimulus_id")
    ids = [str(i) for i in test["stimulus_id"]]
    labels = [str(x) for x in test["label"]]
    items = [read_item(stimuli_dir, i) for i in ids]
    print(
        f"run {run_dir}: {len(ids)} test faces, network {bundle.metadata.get('architecture', '')}"
    )

    print("\n## 1. Positive relevance in the planted region vs its area share (test faces)")
    planted = planted_table(bundle, items, labels)
    per_class = (
        planted.groupby(["target_output", "method", "label"])
        .agg(share=("share", "mean"), area=("area", "mean"), n=("share", "size"))
        .reset_index()
    )
    per_class["ratio"] = per_class["share"] / per_class["area"]
    print("| target output | method | expression | relevance in planted | area share | ratio | n |")
    print("|---|---|---|---|---|---|---|")
    for r in per_class.itertuples():
        print(
            f"| {r.target_output} | {r.method} | {r.label} | {r.share:.3f} | {r.area:.3f} | "
            f"{r.ratio:.1f}x | {r.n} |"
        )
    happy = per_class[per_class["label"] == "happy"]
    print("\nhappy faces, ratio of planted relevance share to area share:")
    for r in happy.itertuples():
        print(f"  {r.target_output:12s} {r.method:24s} {r.ratio:.2f}x")

    chosen = evenly_spaced(ids, n_sanity)
    pos = [ids.index(i) for i in chosen]
    inputs = SanityInputs(
        np.stack([items[i].model_image for i in pos]),
        np.array([bundle.labels.index(labels[i]) for i in pos], dtype=np.int64),
        chosen,
    )
    print(f"\n## 2. Class sensitivity ({len(chosen)} test faces, evenly spaced)")
    print(
        "| target output | method | median r runner-up (positive maps) | random other | "
        "runner-up, signed maps | verdict |"
    )
    print("|---|---|---|---|---|---|")
    for kind in TARGETS:
        for method in METHODS:
            classes = class_sensitivity(bundle, inputs, method=method, seed=1, target_output=kind)
            v = verdicts(
                pd.DataFrame(columns=["method", "step", "spearman_abs", "ssim_abs"]),
                classes,
                randomisation_max_spearman=0.5,
                class_max_r=0.5,
            ).iloc[0]
            sentence = v["verdict"].split("; ")[1]
            print(
                f"| {kind} | {method} | {v['class_r']:.3f} | {v['class_r_other']:.3f} | "
                f"{v['class_r_signed']:.3f} | {sentence.split(' (')[0]} |"
            )

    print(f"\n## 3. Cascading randomisation, logit target ({len(chosen)} faces)")
    for method in METHODS:
        t0 = time.perf_counter()
        curve = randomisation_curve(bundle, inputs, method=method, seed=3)
        med = curve.groupby(["step", "layer"], sort=True)[["spearman_abs", "ssim_abs"]].median()
        print(f"\n{method} ({time.perf_counter() - t0:.0f} s): layers randomised from the top")
        print("| step | layer randomised | median Spearman of abs map | median SSIM |")
        print("|---|---|---|---|")
        for (step, layer), r in med.iterrows():
            print(f"| {step} | {layer} | {r['spearman_abs']:.3f} | {r['ssim_abs']:.3f} |")


if __name__ == "__main__":
    main()
