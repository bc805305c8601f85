"""Do KLD and information gain of the demo's network maps measure the maps or the epsilon?

On a run of the demo with finished stimuli, train, gaze and human_maps stages: explains the test
faces with the demo's LRP methods (positive relevance, stimulus frame, as the saliency_metrics
stage scores them), calibrates each method's maps into a fixation density
(:mod:`gazealign.compare.calibration`: blur and centre-bias weight fitted by likelihood on the
other identity fold) and prints mean KLD and IG, raw and calibrated, at eps 1e-12 and 1e-8, and
how far the epsilon moves them.

    .venv/bin/python benchmarks/calibrated_metrics.py RUN_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from gazealign.compare.calibration import (
    calibrated_map,
    default_sigmas_px,
    fit_calibration,
    identity_folds,
)
from gazealign.compare.metrics import fixation_map, information_gain, kld
from gazealign.explain import explain, to_stimulus_frame
from gazealign.heatmaps.baselines import centre_bias_map
from gazealign.models.io import load_bundle
from gazealign.pipeline.store import read_arrays, read_table
from gazealign.stimuli.artifacts import read_item, read_stimuli_table

METHODS = ("lrp_epsilon_plus_flat", "lrp_epsilon_gamma_box")
EPS = (1e-12, 1e-8)


def newest(run_dir: Path, name: str, what: str) -> Path:
    found = sorted(
        (
            p
            for p in (run_dir / "stages" / name).glob(f"*/{what}")
            if "partial" not in p.parent.name
        ),
        key=lambda p: p.stat().st_mtime,
    )
    if not found:
        raise SystemExit(f"{run_dir}: no {name} stage with {what}")
    return found[-1].parent


def main() -> None:
    run_dir = Path(sys.argv[1])
    torch.set_num_threads(1)
    stimuli_dir = newest(run_dir, "stimuli", "stimuli.parquet")
    bundle = load_bundle(newest(run_dir, "train", "model.safetensors") / "model.safetensors")
    fixations = read_table(newest(run_dir, "gaze", "fixations.parquet") / "fixations.parquet")
    if "correct" in fixations:
        fixations = fixations[fixations["correct"].fillna(False).astype(bool)]
    human_dir = newest(run_dir, "human_maps", "items") / "items"
    table = read_stimuli_table(stimuli_dir)
    test = table[table["split"].astype(str) == "test"].sort_values("stimulus_id")
    ids = [str(i) for i in test["stimulus_id"]]
    identity = dict(zip(ids, test["subject"].astype(str), strict=True))
    items = [read_item(stimuli_dir, i) for i in ids]
    targets = np.array([bundle.labels.index(str(x)) for x in test["label"]])
    by_image = dict(tuple(fixations.groupby(fixations["stimulus_id"].astype(str))))
    counts, centres, humans = {}, {}, {}
    for sid, item in zip(ids, items, strict=True):
        shape = item.image.shape[:2]
        fix = by_image.get(sid)
        counts[sid] = fixation_map(fix["x_px"], fix["y_px"], shape)[0] if fix is not None else None
        centres[sid] = centre_bias_map(shape, sigma_fraction=0.25)
        humans[sid] = read_arrays(human_dir / f"{sid}.npz")["density"]
    ids = [s for s in ids if counts[s] is not None and counts[s].sum() > 0]
    folds = identity_folds([identity[s] for s in ids], folds=2)
    print(f"run {run_dir}: {len(ids)} test faces with fixations, {len(set(folds))} identities")
    print("| method | map | metric | eps 1e-12 | eps 1e-8 | change |")
    print("|---|---|---|---|---|---|")
    images = np.stack([it.model_image for it in items])
    for method in METHODS:
        maps = explain(bundle, images, method=method, target=targets, sign="positive")
        stim = {
            it.stimulus_id: to_stimulus_frame(e.map, it.crop).values
            for it, e in zip(items, maps, strict=True)
        }
        fits = {}
        for fold in sorted(set(folds.values())):
            fit_on = [s for s in ids if folds[identity[s]] != fold]
            fits[fold] = fit_calibration(
                [stim[s] for s in fit_on],
                [counts[s] for s in fit_on],
                [centres[s] for s in fit_on],
                sigmas_px=default_sigmas_px(stim[ids[0]].shape),
            )
            f = fits[fold]
            print(
                f"<!-- {method} fold {fold}: sigma {f.sigma_px} px, centre weight "
                f"{f.centre_weight:.3f}, {f.log_likelihood_bits:.3f} bits/fixation -->"
            )
        for kind in ("raw", "calibrated"):
            values = {}
            for s in ids:
                m = stim[s]
                if kind == "calibrated":
                    f = fits[folds[identity[s]]]
                    m = calibrated_map(
                        m, centres[s], sigma_px=f.sigma_px, centre_weight=f.centre_weight
                    )
                for eps in EPS:
                    values.setdefault(("information_gain", eps), []).append(
                        information_gain(m, counts[s], centres[s], eps=eps)
                    )
                    values.setdefault(("kld", eps), []).append(kld(m, humans[s], eps=eps))
            for metric in ("information_gain", "kld"):
                a, b = (float(np.mean(values[(metric, e)])) for e in EPS)
                unit = " bits" if metric == "information_gain" else ""
                print(f"| {method} | {kind} | {metric} | {a:.4f} | {b:.4f} | {b - a:+.4f}{unit} |")


if __name__ == "__main__":
    main()
