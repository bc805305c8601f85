"""The ``human_maps`` stage: one fixation density map per compared stimulus, in both frames.

Per item ``items/<stimulus_id>.npz``:

* ``density``: (rows, cols) float64, stimulus frame, sums to 1 (Gaussian of ``heatmap.sigma_deg``
  around each fixation of every kept subject; duration-weighted if so configured);
* ``density_model``: the same map resampled into the model-input frame through the stimulus'
  recorded crop/resize, renormalised to sum 1;
* ``fixations``, ``subjects``: counts; ``sigma_px``: kernel sigma in stimulus px;
* ``steps``: JSON text of the steps that made ``density_model``.

Afterwards ``maps.parquet`` lists the maps and ``class_maps.npz`` holds, per expression, the mean
of the model-input maps of its stimuli (all model inputs share one size).
The stimuli mapped are those of the comparison's split (``comparison.split``; every split for
``"all"``). Stimuli of that split without any kept fixation get no map, and eye-tracked stimuli
of other splits are left out; both are counted in the manifest.
With ``alignment.lambdas`` set, the training split is mapped too (the aligned networks train on
those maps); when the comparison does not cover it, ``train_maps.parquet`` lists those maps and
they stay out of ``maps.parquet`` and ``class_maps.npz``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from gazealign.errors import PipelineError
from gazealign.heatmaps.density import fixation_density, to_model_input
from gazealign.pipeline.artifacts import items as item_artifact
from gazealign.pipeline.artifacts import other, table
from gazealign.pipeline.registry import stage
from gazealign.pipeline.stage import ItemResult, StageContext
from gazealign.pipeline.store import read_arrays, read_table, write_arrays, write_table
from gazealign.stages.common import compared_splits, screen_of
from gazealign.stimuli.artifacts import read_item, read_stimuli_table


@lru_cache(maxsize=2)
def _fixations(path: Path, mtime_ns: int) -> pd.DataFrame:
    del mtime_ns  # part of the cache key only
    return read_table(path)


def fixations_of(ctx: StageContext) -> pd.DataFrame:
    path = ctx.artifact("gaze", "fixations")
    if not path.exists():
        raise PipelineError(f"{path}: missing; run the gaze stage first")
    table = _fixations(path, path.stat().st_mtime_ns)
    if ctx.config.gaze.correct_only and "correct" in table:
        kept = table["correct"].fillna(False).astype(bool)
        # Unknown correctness counts as not correct; both are counted in the manifest.
        ctx.note("fixations_dropped_incorrect", int((table["correct"] == False).sum()))  # noqa: E712
        ctx.note("fixations_dropped_unknown_correctness", int(table["correct"].isna().sum()))
        table = table[kept]
    return table


def mapped_splits(ctx: StageContext) -> tuple[str, ...]:
    """The splits that get human maps: the comparison's (``comparison.split``), and train for
    an alignment sweep (aligned training needs the human maps of its training images)."""
    splits = compared_splits(ctx)
    if ctx.config.alignment.enabled and "train" not in splits:
        splits = (*splits, "train")
    return splits


def items(ctx: StageContext) -> Sequence[str]:
    table = read_stimuli_table(ctx.input("stimuli"))
    have = set(fixations_of(ctx)["stimulus_id"].astype(str))
    splits = mapped_splits(ctx)
    chosen = table["split"].astype(str).isin(splits)
    ids = sorted(str(s) for s in table.loc[chosen, "stimulus_id"])
    out = [s for s in ids if s in have]
    for split in splits:
        n = int((table["split"].astype(str) == split).sum())
        ctx.note(f"human_maps_{split}_stimuli", n)
    ctx.note("human_maps_splits", list(splits))
    ctx.note("human_maps_without_fixations", len(ids) - len(out))
    # eye-tracked stimuli outside the compared split(s): counted, not silently ignored
    outside = {str(s) for s in table.loc[~chosen, "stimulus_id"]} & have
    ctx.note("human_maps_eye_tracked_outside_split", len(outside))
    return out


def run_item(ctx: StageContext, stimulus_id: str) -> ItemResult:
    item = read_item(ctx.input("stimuli"), stimulus_id)
    fix = fixations_of(ctx)
    fix = fix[fix["stimulus_id"].astype(str) == stimulus_id]
    scales = fix["scale"].to_numpy(dtype=np.float64) if "scale" in fix else np.array([])
    scale = float(np.median(scales)) if scales.size else float(ctx.config.gaze.stimulus_scale)
    hm = ctx.config.heatmap
    density = fixation_density(
        fix["x_px"].to_numpy(dtype=np.float64),
        fix["y_px"].to_numpy(dtype=np.float64),
        (int(item.image.shape[0]), int(item.image.shape[1])),
        stimulus_id=stimulus_id,
        sigma_deg=hm.sigma_deg,
        screen=screen_of(ctx),
        scale=scale,
        durations_ms=fix["duration_ms"].to_numpy(dtype=np.float64)
        if hm.duration_weighted
        else None,
    )
    model = to_model_input(density, item.crop)
    return {
        "density": density.values,
        "density_model": model.values,
        "fixations": np.int64(len(fix)),
        "subjects": np.int64(fix["subject"].nunique()),
        "sigma_px": np.float64(density.steps[0].params["sigma_px"]),
        "steps": np.str_(json.dumps(model.provenance(), sort_keys=True, default=str)),
    }


WRITES = (
    item_artifact(
        "maps",
        "one fixation density per stimulus with fixations (compared split; training split too "
        "with alignment.lambdas set)",
        {
            "density": "(rows, cols) float64, stimulus frame, sums to 1",
            "density_model": "(S, S) float64, model-input frame, sums to 1",
            "fixations": "count",
            "subjects": "count",
            "sigma_px": "kernel sigma in stimulus px",
            "steps": "0-d str, JSON steps that made density_model",
        },
        frame="stimulus",
    ),
    table(
        "summary",
        "one row per map",
        {"stimulus_id": "", "label": "", "fixations": "", "subjects": "", "sigma_px": ""},
        path="maps.parquet",
    ),
    table(
        "train_summary",
        "one row per map of the training split made only for the alignment sweep",
        {"stimulus_id": "", "label": "", "fixations": "", "subjects": "", "sigma_px": ""},
        path="train_maps.parquet",
        optional=True,
    ),
    other(
        "class_maps",
        "class_maps.npz",
        "arrays",
        "per expression: the mean model-input map of its stimuli",
        {"<label>": "(S, S) float64"},
        frame="model_input",
        optional=True,
    ),
)


@stage(
    "human_maps",
    description="Fixation density maps per compared stimulus (stimulus and model-input frames).",
    reads=("gaze", "heatmap", "comparison.split", "alignment.lambdas"),
    needs=("stimuli", "gaze"),
    writes=WRITES,
    items=items,
    run_item=run_item,
)
def run(ctx: StageContext) -> None:
    table = read_stimuli_table(ctx.input("stimuli"))
    labels = {str(r.stimulus_id): str(r.label) for r in table.itertuples()}
    compared = compared_splits(ctx)
    # training maps made only for an alignment sweep stay out of the comparison's tables
    split_of = {
        str(r.stimulus_id): "sweep_only" if str(r.split) not in compared else "compared"
        for r in table.itertuples()
    }
    rows: list[dict[str, object]] = []
    train_rows: list[dict[str, object]] = []
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    for path in sorted((ctx.out_dir / "items").glob("*.npz")):
        sid = path.stem
        arrays = read_arrays(path)
        label = labels.get(sid, "")
        (rows if split_of.get(sid) != "sweep_only" else train_rows).append(
            {
                "stimulus_id": sid,
                "label": label,
                "fixations": int(arrays["fixations"]),
                "subjects": int(arrays["subjects"]),
                "sigma_px": float(arrays["sigma_px"]),
            }
        )
        if split_of.get(sid) == "sweep_only":
            continue
        model = np.asarray(arrays["density_model"], dtype=np.float64)
        sums[label] = sums.get(label, np.zeros_like(model)) + model
        counts[label] = counts.get(label, 0) + 1
    columns = ["stimulus_id", "label", "fixations", "subjects", "sigma_px"]
    write_table(ctx.out_dir / "maps.parquet", pd.DataFrame(rows, columns=columns))
    if train_rows:
        write_table(ctx.out_dir / "train_maps.parquet", pd.DataFrame(train_rows, columns=columns))
    if sums:
        write_arrays(ctx.out_dir / "class_maps.npz", {k: v / counts[k] for k, v in sums.items()})
