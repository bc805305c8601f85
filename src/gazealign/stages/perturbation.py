"""The ``perturbation`` stage: occlude tiles in human, network and random order, per image.

Per item (``items/<stimulus_id>.npz``, resumable), for the chosen split's stimuli that have a
network map (explain) and a human map (human_maps):

    true_class                       int, index of the true label in the network's labels
    <ordering>__<morf|lerf>__order   (n_tiles,) tile numbers, ordering = human, a method or a
                                     control (``comparison.perturbation.controls``)
    <ordering>__<morf|lerf>__prob    (n_steps + 1,) true-class probability; step 0 = intact
    <ordering>__<morf|lerf>__logit   (n_steps + 1,) true-class logit
    <ordering>__<morf|lerf>__correct (n_steps + 1,) bool, arg-max == true class
    random__order / __prob / __logit / __correct   the same with a leading (K,) axis
    <control>__sigma_model_px        (2,) rows, cols kernel sigma a blurring control used

Afterwards (aggregate):

    per_image_steps.parquet  one row per (image, ordering, order, measure, step): the value
                             (random: mean over the K random orders); every per-image table
                             carries the image's ``identity`` and ``session`` and each row its
                             ``ordering_kind``: human, method, random or control
    per_image_areas.parquet  one row per (image, ordering, order, measure): AUC and AOPC
    curves.parquet           mean curve per (label | all, ordering, order, measure, step) with a
                             bootstrap interval over identities
    auc_differences.parquet  contrasts (human - <method>, human - random, <method> - random, and
                             lerf - morf per ordering) per label and overall: mean difference,
                             identity-clustered bootstrap CI (BCa by default), identity sign-flip
                             permutation p, per-class p adjusted within the contrast (Holm by
                             default), Cohen's d_z, rank-biserial
    interaction.parquet      per contrast: does the difference depend on the expression
                             (identity-blocked permutation of the expression labels)
    controls.parquet         with controls: one row per control (what it is, the kernel sigma)
    control_differences.parquet  with controls: human - <control> AUC/AOPC contrasts per order
                             and measure, with the same intervals and tests as auc_differences

The controls (:mod:`gazealign.compare.controls`) are ranked like the human map and stay out of
``auc_differences``, ``per_image_differences`` and ``interaction``, which are the same with or
without them.

Orders are computed in the model-input frame from ``density_model`` (human) and ``<method>``
(explain). Fill and random-order seeds are derived per image from the stage seeds ``fill`` and
``random_orders`` and the stimulus id, so an image's result does not depend on which others run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gazealign.compare import controls as ctl
from gazealign.compare import perturbation as pt
from gazealign.compare.tile_ranking import ranking_map
from gazealign.coords import CropResize
from gazealign.errors import DataError, PipelineError
from gazealign.heatmaps.baselines import centre_bias_map
from gazealign.models import device as devices
from gazealign.models.bundle import ModelBundle
from gazealign.pipeline.artifacts import artifact_path, items, other, table
from gazealign.pipeline.registry import stage
from gazealign.pipeline.stage import StageContext
from gazealign.pipeline.store import (
    read_arrays,
    read_json,
    read_table,
    write_arrays,
    write_json,
    write_table,
)
from gazealign.stages.common import (
    INFERENCE_KEYS,
    PER_IMAGE_COLUMNS,
    SUMMARY_COLUMNS,
    TEST_COLUMNS,
    cached_model,
    inference_options,
    item_seed,
    network_methods,
    selected_stimuli,
    stage_device,
    stimulus_clusters,
)
from gazealign.stats.inference import bootstrap_mean_ci
from gazealign.stats.resampling import IntervalMethod
from gazealign.stats.tables import ALL, interaction_table, summarise
from gazealign.stimuli.artifacts import read_item, read_stimuli_table

MEASURES = {"correct": "accuracy", "prob": "probability", "logit": "logit"}

#: The settings stamped on every row of the stage's tables (what the captions state).
#: The precision decision of ``bf16 = "auto"`` (written before any item runs).
PRECISION_FILE = "precision.json"
SETTINGS: dict[str, str] = {
    "tile_px": "tile side in model-input px",
    "tile_score": "how a tile's relevance is scored",
    "tile_sign": "which relevance a network map's tile score sums: positive, signed, absolute",
    "fill": "what replaces a removed tile",
    "random_orders": "random orders per image",
    "bf16": "bool: the network ran as a bfloat16 copy (the study's choice or the 'auto' check)",
    "grid_rows": "tile rows over the model input",
    "grid_cols": "tile columns over the model input",
    "input_px": "model-input side in px",
    "sign": "sign policy of the network maps (as explain recorded it)",
}
_CURVE_KEYS = {
    "ordering": "human, a method, a control, or random",
    "ordering_kind": "human, method, random or control",
    "order": "morf or lerf",
    "measure": "accuracy, probability or logit",
}

WRITES = (
    other(
        "precision",
        PRECISION_FILE,
        "json",
        "bf16 = 'auto': the decision (bf16), why (reason), the checked sample and the largest "
        "per-image AUC differences bf16 - fp32 by measure",
        optional=True,
    ),
    items(
        "curves_per_item",
        "per image: tile orders and curves of every ordering",
        {
            "true_class": "int",
            "<ordering>__<morf|lerf>__order": "(n_tiles,) tile numbers",
            "<ordering>__<morf|lerf>__<prob|logit|correct>": "(n_steps + 1,), step 0 intact",
            "random__<order|prob|logit|correct>": "the same with a leading (K,) axis",
        },
        frame="model_input",
    ),
    table(
        "per_image_steps",
        "one row per (image, ordering, order, measure, step); random: mean of its orders",
        {**PER_IMAGE_COLUMNS, **_CURVE_KEYS, "step": "", "fraction_perturbed": "", "value": ""}
        | SETTINGS,
    ),
    table(
        "per_image_areas",
        "per (image, ordering, order, measure): AUC and AOPC",
        {**PER_IMAGE_COLUMNS, **_CURVE_KEYS, "auc": "", "aopc": ""} | SETTINGS,
    ),
    table(
        "curves",
        "mean curve per (label | all, ordering, order, measure, step) with its interval",
        {
            "label": "expression, or 'all'",
            **_CURVE_KEYS,
            "step": "tiles removed",
            "fraction_perturbed": "",
            "value": "mean",
            "ci_low": "",
            "ci_high": "",
            "n": "images",
        }
        | SETTINGS,
    ),
    table(
        "per_image_differences",
        "per image: the AUC/AOPC differences between orderings",
        {**PER_IMAGE_COLUMNS, "quantity": "auc or aopc", "measure": "", "order": "", "contrast": ""}
        | {"difference": ""}
        | SETTINGS,
    ),
    table(
        "auc_differences",
        "contrasts between orderings per label and overall, with intervals and tests",
        {"quantity": "auc or aopc", "measure": "", "order": "", "contrast": "a - b"}
        | SUMMARY_COLUMNS
        | TEST_COLUMNS
        | {"interaction_p": "expression x ordering interaction p of the contrast"}
        | SETTINGS,
    ),
    table(
        "interaction",
        "expression x ordering interaction test per contrast",
        {"quantity": "", "measure": "", "order": "", "contrast": "", "p_value": ""} | SETTINGS,
    ),
    table(
        "controls",
        "one row per control ordering of comparison.perturbation.controls",
        {
            "control": "the study's name",
            "entry": "the registered control",
            "description": "",
            "method": "explain method (<method>_blurred), else empty",
            "sigma_stimulus_px": "human kernel sigma the blur used, stimulus px (median)",
            "sigma_model_rows_px": "the same in model-input px along rows (median)",
            "sigma_model_cols_px": "along columns (median)",
            "sigma_values": "distinct kernel sigmas over the images",
            "images": "",
        },
        optional=True,
    ),
    table(
        "control_differences",
        "human - <control> AUC/AOPC contrasts per label and overall, with intervals and tests",
        {"quantity": "auc or aopc", "measure": "", "order": "", "contrast": "human - <control>"}
        | {"control": ""}
        | SUMMARY_COLUMNS
        | TEST_COLUMNS
        | SETTINGS,
        optional=True,
    ),
)


# --- per item ---------------------------------------------------------------------------------

#: Measures whose per-image AUCs the bf16 check compares (both lie in [0, 1]).
CHECKED_MEASURES = ("probability", "accuracy")


@dataclass(frozen=True)
class Orders:
    """The named (human / method x direction) orders and the random orders of one image."""

    named: list[tuple[str, npt.NDArray[np.int64]]]
    randoms: npt.NDArray[np.int64]
    #: Arrays stored beside the curves (the kernel sigma of a blurring control).
    extras: dict[str, npt.NDArray[Any]] = field(default_factory=dict)

    def stacked(self) -> npt.NDArray[np.int64]:
        return np.concatenate([np.stack([o for _, o in self.named]), self.randoms])


def _items(ctx: StageContext) -> list[str]:
    split = ctx.config.comparison.split
    items = selected_stimuli(ctx, split)["stimulus_id"].astype(str).tolist()
    if ctx.config.comparison.perturbation.bf16 == "auto":
        _decide_precision(ctx, items)
    return items


def use_bf16(ctx: StageContext) -> bool:
    """Whether this study's perturbation runs in bf16: the study's choice, or for ``"auto"``
    the decision recorded by the check (:func:`_decide_precision`)."""
    choice = ctx.config.comparison.perturbation.bf16
    if choice != "auto":
        return bool(choice)
    path = ctx.out_dir / PRECISION_FILE
    if not path.exists():
        raise PipelineError(f"{path}: the bf16 check has not run (it runs when items are listed)")
    return bool(read_json(path)["bf16"])


def _decide_precision(ctx: StageContext, items: list[str]) -> None:
    """``bf16 = "auto"``: bf16 where the hardware runs it fast and, on a sample of the study's
    images, every per-image AUC (true-class probability and accuracy, every order) is within
    ``bf16_tolerance`` of float32; float32 otherwise. The decision, the sample and the largest
    differences go to ``precision.json`` (and the stage notes); the sample's items are kept in
    the chosen precision, so no image is run twice for nothing."""
    cfg = ctx.config.comparison.perturbation
    path = ctx.out_dir / PRECISION_FILE
    if path.exists():
        record = read_json(path)
    else:
        record = _precision_check(ctx, items[: cfg.bf16_check_images])
        write_json(path, record)
    ctx.note("perturbation_bf16", bool(record["bf16"]))
    ctx.note("perturbation_bf16_reason", str(record["reason"]))


def _precision_check(ctx: StageContext, sample: list[str]) -> dict[str, Any]:
    cfg = ctx.config.comparison.perturbation
    device = devices.model_device(cached_model(ctx.input("train"), stage_device(ctx)).model)
    record: dict[str, Any] = {"tolerance": cfg.bf16_tolerance, "sample": sample}
    if not devices.bf16_is_fast(device):
        return record | {"bf16": False, "reason": f"no fast bfloat16 on this {device.type}"}
    if not sample:
        return record | {"bf16": False, "reason": "no image to check bf16 on"}
    worst = dict.fromkeys(CHECKED_MEASURES, 0.0)
    results = {}
    for sid in sample:
        runs = {bf16: _curves(ctx, sid, bf16=bf16) for bf16 in (False, True)}
        results[sid] = runs
        for measure in CHECKED_MEASURES:
            auc = [pt.curve_auc(_measure(runs[b][2], measure)) for b in (False, True)]
            worst[measure] = max(worst[measure], float(np.abs(auc[1] - auc[0]).max()))
    ok = max(worst.values()) <= cfg.bf16_tolerance
    for sid, runs in results.items():
        if not ctx.item_path(sid).exists():
            write_arrays(ctx.item_path(sid), _item_arrays(*runs[ok]))
    reason = (
        f"largest per-image AUC difference bf16 - fp32 on {len(sample)} image(s): "
        + ", ".join(f"{m} {v:.2e}" for m, v in worst.items())
        + f" ({'within' if ok else 'beyond'} {cfg.bf16_tolerance})"
    )
    return record | {"bf16": ok, "reason": reason, "max_auc_difference": worst}


def _measure(curves: pt.Curves, measure: str) -> npt.NDArray[np.float64]:
    if measure == "accuracy":
        return curves.correct.astype(np.float64)
    return curves.probability


def _item_orders(
    ctx: StageContext, stimulus_id: str
) -> tuple[ModelBundle, int, npt.NDArray[np.uint8], pt.TileGrid, npt.NDArray[np.uint8], Orders]:
    """The network, true class, image, tile grid, fill and named orders of one stimulus."""
    from gazealign.stimuli.artifacts import read_item

    cfg = ctx.config.comparison.perturbation
    bundle = cached_model(ctx.input("train"), stage_device(ctx))
    item = read_item(ctx.input("stimuli"), stimulus_id)
    table = read_stimuli_table(ctx.input("stimuli"))
    label = str(table.loc[table["stimulus_id"].astype(str) == stimulus_id, "label"].iloc[0])
    if label not in bundle.labels:
        raise DataError(f"stimulus {stimulus_id}: label {label!r} is not a network class")
    true_class = bundle.labels.index(label)
    image = item.model_image
    grid = pt.TileGrid(image.shape[0], image.shape[1], cfg.tile_px)
    explain = read_arrays(ctx.artifact("explain", "maps", stimulus_id))
    human = read_arrays(ctx.artifact("human_maps", "maps", stimulus_id))
    network = {m: ranking_map(explain, m, cfg.tile_sign) for m in network_methods(explain)}
    maps = {"human": human["density_model"]} | network
    extras: dict[str, npt.NDArray[Any]] = {}
    if cfg.controls:
        controls, extras = control_maps(ctx, stimulus_id, item.crop, human, network)
        maps |= controls
    fill = pt.fill_image(
        image,
        cfg.fill,
        seed=item_seed(ctx.seed("fill"), stimulus_id),
        blur_sigma_px=cfg.blur_sigma_px,
    )
    named: list[tuple[str, npt.NDArray[np.int64]]] = []
    for name, values in maps.items():
        for direction in cfg.orders:
            order = pt.tile_order(values, grid, score=cfg.tile_score, direction=direction)
            named.append((f"{name}__{direction}", order))
    randoms = pt.random_tile_orders(
        grid.n_tiles, cfg.random_orders, seed=item_seed(ctx.seed("random_orders"), stimulus_id)
    )
    return bundle, true_class, image, grid, fill, Orders(named, randoms, extras)


# --- controls ---------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _human_pool(
    human_dir: str, stimuli_dir: str, ids: tuple[str, ...], mtime_ns: int
) -> dict[str, Any]:
    """The compared images' model-input human maps, labels, identities and sessions (read once
    per process; ``mtime_ns`` of the human maps' folder is part of the cache key only)."""
    del mtime_ns
    table = read_stimuli_table(Path(stimuli_dir)).set_index("stimulus_id", drop=False)
    table.index = table.index.astype(str)
    clusters = stimulus_clusters(table).set_index("stimulus_id")
    human = {
        sid: np.asarray(
            read_arrays(artifact_path(Path(human_dir), "maps", sid))["density_model"],
            dtype=np.float64,
        )
        for sid in ids
    }
    return {
        "human": human,
        "labels": {sid: str(table.at[sid, "label"]) for sid in ids},
        "identities": {sid: str(clusters.at[sid, "identity"]) for sid in ids},
        "sessions": {sid: str(clusters.at[sid, "session"]) for sid in ids},
    }


def control_pool(ctx: StageContext) -> dict[str, Any]:
    """The human maps the controls are made from: those of every compared image (the images of
    ``comparison.split`` with a network map and a human map), with their clusters."""
    split = ctx.config.comparison.split
    table = read_stimuli_table(ctx.input("stimuli"))
    if split != "all":
        table = table[table["split"].astype(str) == split]
    have = set(ctx.items_of("explain", "maps")) & set(ctx.items_of("human_maps", "maps"))
    ids = tuple(sorted(s for s in table["stimulus_id"].astype(str) if s in have))
    mtime = (ctx.input("human_maps") / "items").stat().st_mtime_ns
    return _human_pool(str(ctx.input("human_maps")), str(ctx.input("stimuli")), ids, mtime)


def study_centre_bias(crop: CropResize, sigma_fraction: float) -> npt.NDArray[np.float64]:
    """The study's centre-bias map (stimulus frame, as the metrics stage makes it) carried into
    the model-input frame through the image's crop/resize and renormalised, like a human map."""
    stimulus = centre_bias_map(
        (crop.stimulus_rows, crop.stimulus_cols), sigma_fraction=sigma_fraction
    )
    model = np.clip(crop.map_to_model(stimulus), 0.0, None)
    return np.asarray(model / model.sum(), dtype=np.float64)


def control_maps(
    ctx: StageContext,
    stimulus_id: str,
    crop: CropResize,
    human: dict[str, npt.NDArray[Any]],
    network: dict[str, npt.NDArray[np.float64]],
) -> tuple[dict[str, npt.NDArray[np.float64]], dict[str, npt.NDArray[Any]]]:
    """The maps of the study's controls for one image, and the kernel sigma each blurring
    control used (``<control>__sigma_model_px``: rows, cols in model-input px).

    The sigma is the ``sigma_px`` the human_maps stage stored for this image (stimulus px),
    scaled by the crop/resize of each axis: never derived again from ``heatmap.sigma_deg``.
    """
    cfg = ctx.config
    pool = control_pool(ctx)
    if stimulus_id not in pool["human"]:
        raise PipelineError(f"perturbation: {stimulus_id} is not among the compared images")
    sigma_px = float(human["sigma_px"])
    sigma = (sigma_px * crop.scale_y, sigma_px * crop.scale_x)
    inputs = ctl.ControlInputs(
        stimulus_id=stimulus_id,
        human=pool["human"],
        labels=pool["labels"],
        identities=pool["identities"],
        sessions=pool["sessions"],
        centre_bias=study_centre_bias(crop, cfg.comparison.metrics.centre_bias_sigma_fraction),
        network=network,
        sigma_model_px=sigma,
    )
    methods = list(network)
    maps, extras = {}, {}
    for name in cfg.comparison.perturbation.controls:
        maps[name] = ctl.control_map(name, inputs, methods)
        if ctl.resolve(name, methods)[0].uses_sigma:
            extras[f"{name}__sigma_model_px"] = np.array(sigma, dtype=np.float64)
    return maps, extras


def _curves(ctx: StageContext, stimulus_id: str, *, bf16: bool) -> tuple[int, Orders, pt.Curves]:
    cfg = ctx.config.comparison.perturbation
    bundle, true_class, image, grid, fill, orders = _item_orders(ctx, stimulus_id)
    # One pass through the network for every order of this image (step 0 shared).
    curves = pt.perturbation_curves(
        bundle,
        image,
        true_class,
        orders.stacked(),
        grid,
        fill,
        batch_size=cfg.batch_size,
        bf16=bf16,
        incremental=cfg.incremental,
    )
    return true_class, orders, curves


def perturb_item(ctx: StageContext, stimulus_id: str) -> dict[str, npt.NDArray[Any]]:
    return _item_arrays(*_curves(ctx, stimulus_id, bf16=use_bf16(ctx)))


def _item_arrays(true_class: int, orders: Orders, curves: pt.Curves) -> dict[str, npt.NDArray[Any]]:
    out: dict[str, npt.NDArray[Any]] = {"true_class": np.int64(true_class)}  # type: ignore[dict-item]
    for i, (key, order) in enumerate(orders.named):
        out[f"{key}__order"] = order
        out[f"{key}__prob"] = curves.probability[i]
        out[f"{key}__logit"] = curves.logit[i]
        out[f"{key}__correct"] = curves.correct[i]
    k = len(orders.named)
    out["random__order"] = orders.randoms
    out["random__prob"] = curves.probability[k:]
    out["random__logit"] = curves.logit[k:]
    out["random__correct"] = curves.correct[k:]
    out |= orders.extras
    return out


# --- aggregate --------------------------------------------------------------------------------


def explain_sign(ctx: StageContext) -> str:
    """The sign policy the explain stage recorded in its maps' steps (``mixed`` if several)."""
    records = read_table(ctx.artifact("explain", "records"))
    policies = set()
    for steps in records["steps"].astype(str):
        policies |= {s["params"]["policy"] for s in json.loads(steps) if s.get("name") == "sign"}
    return policies.pop() if len(policies) == 1 else ("mixed" if policies else "none recorded")


def stage_settings(ctx: StageContext, stimulus_id: str) -> dict[str, Any]:
    """The settings stamped on every row: tiles, grid over the model input, fill, sign."""
    cfg = ctx.config.comparison.perturbation
    image = read_item(ctx.input("stimuli"), stimulus_id).model_image
    grid = pt.TileGrid(image.shape[0], image.shape[1], cfg.tile_px)
    return {
        "tile_px": cfg.tile_px,
        "tile_score": cfg.tile_score,
        "tile_sign": cfg.tile_sign,
        "fill": cfg.fill,
        "random_orders": cfg.random_orders,
        "bf16": use_bf16(ctx),
        "grid_rows": grid.n_tile_rows,
        "grid_cols": grid.n_tile_cols,
        "input_px": int(image.shape[0]),
        "sign": explain_sign(ctx),
    }


def item_rows(stimulus_id: str, label: str, arrays: dict[str, npt.NDArray[Any]]) -> pd.DataFrame:
    """Long per-step rows of one item (random orders averaged): one table built from whole
    columns (a small table per ordering and measure cost the stage 12 s on the demo)."""
    directions = sorted({k.split("__")[1] for k in arrays if k.count("__") == 2})
    blocks: list[tuple[str, list[str], str, npt.NDArray[np.float64]]] = []
    for key, values in arrays.items():
        parts = key.split("__")
        if parts[-1] not in MEASURES or parts[0] == "random":
            continue
        blocks.append((parts[0], [parts[1]], parts[-1], np.asarray(values, dtype=np.float64)))
    for measure in MEASURES:
        mean = np.asarray(arrays[f"random__{measure}"], dtype=np.float64).mean(axis=0)
        blocks.append(("random", directions, measure, mean))
    columns: dict[str, list[npt.NDArray[Any]]] = {
        "ordering": [],
        "order": [],
        "measure": [],
        "step": [],
        "fraction_perturbed": [],
        "value": [],
    }
    for ordering, orders, measure, v in blocks:
        steps = np.arange(v.size)
        rows = v.size * len(orders)
        columns["ordering"].append(np.full(rows, ordering))
        columns["order"].append(np.repeat(orders, v.size))
        columns["measure"].append(np.full(rows, MEASURES[measure]))
        columns["step"].append(np.tile(steps, len(orders)))
        columns["fraction_perturbed"].append(np.tile(steps / (v.size - 1), len(orders)))
        columns["value"].append(np.tile(v, len(orders)))
    joined = {name: np.concatenate(parts) for name, parts in columns.items()}
    n = len(joined["value"])
    return pd.DataFrame(
        {"stimulus_id": np.full(n, stimulus_id), "label": np.full(n, label)} | joined
    )


def areas(steps: pd.DataFrame) -> pd.DataFrame:
    """Per (image, ordering, order, measure): AUC (trapezoid / n_steps) and AOPC."""
    keys = ["stimulus_id", "label", *_cluster_keys(steps), "ordering", "order", "measure"]
    rows = []
    for key, sub in steps.sort_values("step").groupby(keys, sort=True):
        v = sub["value"].to_numpy()
        rows.append((*key, float(pt.curve_auc(v)), float(pt.aopc(v))))
    return pd.DataFrame(rows, columns=[*keys, "auc", "aopc"])


def contrasts(per_image: pd.DataFrame) -> pd.DataFrame:
    """Paired per-image differences of AUC and AOPC between orderings (long table)."""
    ids = ["stimulus_id", "label", *_cluster_keys(per_image)]
    methods = sorted(o for o in per_image["ordering"].unique() if o not in ("human", "random"))
    pairs = [("human", m) for m in methods] + [("human", "random")]
    pairs += [(m, "random") for m in methods]
    frames = ordering_differences(per_image, pairs)
    # LeRF - MoRF per ordering: larger = the ordering separates relevant from irrelevant tiles.
    both = per_image.pivot_table(
        index=[*ids, "ordering", "measure"], columns="order", values=["auc"]
    )
    if ("auc", "lerf") in both and ("auc", "morf") in both:
        d = (both[("auc", "lerf")] - both[("auc", "morf")]).rename("difference").reset_index()
        d = d.assign(quantity="auc", order="lerf - morf", contrast=d["ordering"] + ": lerf - morf")
        frames.append(d.drop(columns="ordering"))
    return pd.concat(frames, ignore_index=True)


def ordering_differences(
    per_image: pd.DataFrame, pairs: Sequence[tuple[str, str]], *, required: bool = False
) -> list[pd.DataFrame]:
    """Per image, order and measure: AUC and AOPC of ``a - b`` for each ordering pair (long
    frames, one per quantity and pair, with ``quantity`` and ``contrast`` = ``"a - b"``).

    A pair with an ordering the table lacks is skipped, or refused when ``required``.
    """
    ids = ["stimulus_id", "label", *_cluster_keys(per_image)]
    wide = per_image.pivot_table(
        index=[*ids, "order", "measure"],
        columns="ordering",
        values=["auc", "aopc"],
    )
    frames = []
    for quantity in ("auc", "aopc"):
        for a, b in pairs:
            if (quantity, a) not in wide or (quantity, b) not in wide:
                if required:
                    raise PipelineError(f"perturbation: no {quantity} of ordering {a!r} or {b!r}")
                continue
            d = (wide[(quantity, a)] - wide[(quantity, b)]).rename("difference").reset_index()
            frames.append(d.assign(quantity=quantity, contrast=f"{a} - {b}"))
    return frames


def _cluster_keys(table: pd.DataFrame) -> list[str]:
    return [c for c in ("identity", "session") if c in table]


def mean_curves(
    steps: pd.DataFrame,
    *,
    resamples: int,
    confidence: float,
    seed: int,
    interval: IntervalMethod = "bca",
    expand: bool = True,
) -> pd.DataFrame:
    """Mean curve with a bootstrap interval over identities (images when the table has no
    ``identity``), per label and over all images."""
    rows = []
    keys = ["ordering", "order", "measure", "step"]
    for (ordering, order, measure, step), sub in steps.groupby(keys, sort=True):
        for label, part in [(ALL, sub), *sub.groupby("label", sort=True)]:
            ci = bootstrap_mean_ci(
                part["value"].to_numpy(),
                resamples=resamples,
                confidence=confidence,
                seed=seed,
                groups=part["identity"].to_numpy() if "identity" in part else None,
                method=interval,
                expand=expand,
            )
            rows.append(
                {
                    "label": str(label),
                    "ordering": ordering,
                    "order": order,
                    "measure": measure,
                    "step": int(str(step)),
                    "fraction_perturbed": float(part["fraction_perturbed"].iloc[0]),
                    "value": ci.estimate,
                    "ci_low": ci.ci_low,
                    "ci_high": ci.ci_high,
                    "n": ci.n,
                    "n_identities": ci.n_groups,
                    "interval_method": interval,
                    "interval_expanded": expand,
                }
            )
    return pd.DataFrame(rows)


@stage(
    "perturbation",
    description="Occlude tiles in human, network and random order; accuracy curves, AUCs, tests.",
    reads=(
        "comparison.perturbation",
        # the centre_bias control's map (the same Gaussian the metrics stage scores against)
        "comparison.metrics.centre_bias_sigma_fraction",
        *INFERENCE_KEYS,
    ),
    needs=("stimuli", "train", "explain", "human_maps"),
    writes=WRITES,
    # Incremental and full forwards give the same curves (to float rounding; tested).
    unkeyed=("comparison.perturbation.incremental",),
    items=_items,
    run_item=perturb_item,
)
def _aggregate(ctx: StageContext) -> None:
    cfg = ctx.config.comparison
    table = selected_stimuli(ctx, cfg.split)
    frames = []
    for row in ctx.track(table.itertuples(index=False), total=len(table), description="curves"):
        sid = str(row.stimulus_id)
        frames.append(item_rows(sid, str(row.label), read_arrays(ctx.item_path(sid))))
    if not frames:
        raise PipelineError(
            "perturbation: no stimulus has both a network map and a human map "
            f"in split {cfg.split!r}"
        )
    steps = pd.concat(frames, ignore_index=True).merge(
        stimulus_clusters(table), on="stimulus_id", how="left", validate="many_to_one"
    )
    controls = list(cfg.perturbation.controls)
    steps = with_kind(steps, controls)
    per_image = with_kind(areas(steps.drop(columns="ordering_kind")), controls)
    settings = stage_settings(ctx, str(table["stimulus_id"].iloc[0]))
    write_table(ctx.out_dir / "per_image_steps.parquet", steps.assign(**settings))
    write_table(ctx.out_dir / "per_image_areas.parquet", per_image.assign(**settings))
    curves = mean_curves(
        steps,
        resamples=cfg.bootstrap_resamples,
        confidence=cfg.confidence,
        seed=ctx.seed("curves"),
        interval=cfg.interval,
        expand=cfg.expand_intervals,
    )
    write_table(ctx.out_dir / "curves.parquet", with_kind(curves, controls).assign(**settings))
    is_control = per_image["ordering_kind"] == "control"
    all_diffs = contrasts(per_image[~is_control].drop(columns="ordering_kind"))
    diffs = all_diffs.dropna(subset=["difference"])
    ctx.note("perturbation_undefined_differences", int(len(all_diffs) - len(diffs)))
    write_table(ctx.out_dir / "per_image_differences.parquet", diffs.assign(**settings))
    summary = summarise(
        diffs,
        value="difference",
        keys=["quantity", "measure", "order", "contrast"],
        seed=ctx.seed("statistics"),
        **inference_options(ctx),
    )
    interaction = interaction_table(
        diffs,
        value="difference",
        keys=["quantity", "measure", "order", "contrast"],
        group="identity",
        permutations=cfg.permutations,
        seed=ctx.seed("interaction"),
    )
    write_table(ctx.out_dir / "interaction.parquet", interaction.assign(**settings))
    # The interaction p beside every row of its contrast: the report reads it before any
    # per-class row.
    keys = ["quantity", "measure", "order", "contrast"]
    summary = summary.merge(
        interaction[[*keys, "p_value"]].rename(columns={"p_value": "interaction_p"}),
        on=keys,
        how="left",
    )
    write_table(ctx.out_dir / "auc_differences.parquet", summary.assign(**settings))
    if controls:
        write_table(
            ctx.out_dir / "controls.parquet", control_table(ctx, table, controls).assign(**settings)
        )
        differences = control_contrasts(per_image, controls).dropna(subset=["difference"])
        ctx.note("perturbation_control_images", int(differences["stimulus_id"].nunique()))
        summary = summarise(
            differences,
            value="difference",
            keys=["quantity", "measure", "order", "contrast", "control"],
            seed=ctx.seed("control_statistics"),
            **inference_options(ctx),
        )
        write_table(ctx.out_dir / "control_differences.parquet", summary.assign(**settings))


def ordering_kind(ordering: str, controls: Sequence[str]) -> str:
    """``human``, ``random``, ``control`` (a name of ``controls``) or ``method``."""
    if ordering in ("human", "random"):
        return ordering
    return "control" if ordering in controls else "method"


def with_kind(table: pd.DataFrame, controls: Sequence[str]) -> pd.DataFrame:
    """``table`` with the column ``ordering_kind`` right after ``ordering``."""
    out = table.drop(columns="ordering_kind", errors="ignore")
    kinds = [ordering_kind(str(o), controls) for o in out["ordering"]]
    out.insert(int(out.columns.get_loc("ordering")) + 1, "ordering_kind", kinds)  # type: ignore[arg-type]
    return out


def control_contrasts(per_image: pd.DataFrame, controls: Sequence[str]) -> pd.DataFrame:
    """Per image, order and measure: AUC and AOPC of human minus each control (long table).

    A positive MoRF AOPC (negative MoRF AUC) difference: the human order removes the network's
    evidence sooner than the control's order.
    """
    pairs = [("human", name) for name in controls]
    frames = ordering_differences(per_image, pairs, required=True)
    return pd.concat(
        [f.assign(control=f["contrast"].str.removeprefix("human - ")) for f in frames],
        ignore_index=True,
    )


def control_table(ctx: StageContext, table: pd.DataFrame, controls: Sequence[str]) -> pd.DataFrame:
    """One row per control: its entry, description, method and the kernel sigma it blurred
    with (read back from the items: the values the orders were made with)."""
    methods = ctx.config.explain.methods
    rows = []
    for name in controls:
        entry, method = ctl.resolve(name, methods)
        row: dict[str, Any] = {
            "control": name,
            "entry": entry.name,
            "description": entry.description.replace("<method>", method or "<method>"),
            "method": method or "",
            "sigma_stimulus_px": np.nan,
            "sigma_model_rows_px": np.nan,
            "sigma_model_cols_px": np.nan,
            "sigma_values": 0,
            "images": len(table),
        }
        if entry.uses_sigma:
            stimulus, model = [], []
            for sid in table["stimulus_id"].astype(str):
                model.append(read_arrays(ctx.item_path(sid))[f"{name}__sigma_model_px"])
                human = read_arrays(ctx.artifact("human_maps", "maps", sid))
                stimulus.append(float(human["sigma_px"]))
            grid = np.asarray(model, dtype=np.float64)
            row |= {
                "sigma_stimulus_px": float(np.median(stimulus)),
                "sigma_model_rows_px": float(np.median(grid[:, 0])),
                "sigma_model_cols_px": float(np.median(grid[:, 1])),
                "sigma_values": len({round(v, 9) for v in stimulus}),
            }
        rows.append(row)
    return pd.DataFrame(rows)
