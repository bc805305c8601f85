"""The ``alignment_sweep`` stage: one network per lambda of ``[alignment]``, each scored on the
held-out identities against the human maps.

Per item ``lambda_<value>`` (resumable: a finished lambda is not trained again) it trains the
study's network (``[model]``, same init and data-order seeds for every lambda, so the
networks differ only in lambda) with the alignment objective on the training split, using the
human maps of the training images (``human_maps`` maps the training split when
``alignment.lambdas`` is set; images without a map train on cross-entropy alone), writes the
network to ``networks/lambda_<value>.safetensors`` and scores it on the test split:

* ``test_accuracy`` (cue-free test images), and ``test_accuracy_cued`` when a shortcut cue is
  configured (the test images with their class's cue added);
* per test image with a human map: Spearman and CC between the network's map
  (``alignment.method``, stimulus frame) and the human map, and the same between two halves of
  the observers (the ceiling); the share of positive relevance in the planted region
  (synthetic faces); the MoRF area under the true-class probability curve in the network's own
  tile order and in the human map's order (``morf_difference`` = human - network: above 0 the
  network's own order finds what it needs faster than the human order).

Afterwards, tables only (the report's ``alignment`` section draws the trade-off figure from
them; this stage imports neither the report nor the metric registry, so editing the report or
adding a metric does not retrain the sweep): ``sweep`` (one row per lambda; pooled values with
intervals from a bootstrap over test identities), ``test_images`` (correct or not, per lambda and
test image), ``per_image`` (map scores per lambda and scored test image), ``paired`` (per lambda
and measure, the mean paired difference against the smallest lambda, normally 0, with an
identity-clustered interval and sign-flip test: :func:`paired_differences`) and, with a
shortcut cue, ``shortcut`` (cue-free and cued accuracy and ``cue_drop`` = cued - cue-free).

With ``alignment.shortcut`` (synthetic faces) the training and validation images carry a cue
that goes with the expression (:mod:`gazealign.stimuli.shortcut`); test images do not.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import torch

from gazealign.compare.alignment import (
    map_agreement,
    morf_areas,
    planted_share,
    split_half_agreement,
)
from gazealign.compare.perturbation import fill_image
from gazealign.errors import DataError
from gazealign.explain.stimuli import explain_items
from gazealign.heatmaps.density import density_values, sigma_stimulus_px
from gazealign.models.alignment import AlignmentConfig, AlignmentTargets
from gazealign.models.io import save_bundle
from gazealign.models.train import evaluate, fit
from gazealign.pipeline import artifacts as art
from gazealign.pipeline.registry import stage
from gazealign.pipeline.stage import ItemResult, StageContext
from gazealign.pipeline.store import read_arrays, write_json, write_table
from gazealign.stages.common import (
    INFERENCE_KEYS,
    explain_options,
    inference_options,
    read_fixations,
    screen_of,
    stage_device,
)

# The sweep trains exactly as the train stage does; it uses its helpers, so its key follows
# that stage's code (a change there retrains the sweep, as it should).
from gazealign.stages.train import build_bundle, fold_batchnorm, train_config
from gazealign.stats.inference import bootstrap_mean_ci
from gazealign.stats.tables import SUMMARY_COLUMNS, summarise
from gazealign.stimuli.artifacts import StimulusItem, read_item, read_stimuli_table
from gazealign.stimuli.shortcut import add_cue
from gazealign.types import LABELS

PER_IMAGE = (
    "spearman",
    "cc",
    "ceiling_spearman",
    "ceiling_cc",
    "planted_share",
    "morf_network",
    "morf_human",
)


def item_name(weight: float) -> str:
    """``lambda_<value>`` (``repr`` of the float: distinct values give distinct names)."""
    return f"lambda_{float(weight)!r}"


def items_of_sweep(ctx: StageContext) -> Sequence[str]:
    """The sweep's items: one ``lambda_<value>`` per ``alignment.lambdas``."""
    cfg = ctx.config.alignment  # its cross-key rules are checked at load (config/alignment.py)
    return [item_name(w) for w in cfg.lambdas]


def _cued(item: StimulusItem, class_index: int, cue: str) -> npt.NDArray[np.uint8]:
    background = None
    if cue == "background_tint":
        bg = item.aois["background"].astype(np.float64)
        background = item.crop.map_to_model(bg, order=1) > 0.5
    return add_cue(item.model_image, class_index, cue, background=background)  # type: ignore[arg-type]


def _human_map(ctx: StageContext, stimulus_id: str) -> dict[str, npt.NDArray[Any]] | None:
    path = ctx.artifact("human_maps", "maps", stimulus_id)
    return read_arrays(path) if path.exists() else None


def run_item(ctx: StageContext, name: str) -> ItemResult:
    acfg = ctx.config.alignment
    weight = float(name.removeprefix("lambda_"))
    stim_dir = ctx.input("stimuli")
    table = read_stimuli_table(stim_dir)
    table = table[table["split"].isin(["train", "val", "test"])].sort_values("stimulus_id")
    ids = table["stimulus_id"].astype(str).tolist()
    split = table["split"].astype(str).to_numpy()
    labels = np.array([LABELS.index(str(lab)) for lab in table["label"]], dtype=np.int64)
    stim_items = [read_item(stim_dir, i) for i in ids]
    size = ctx.config.stimuli.input_size_px
    clean = np.stack([it.model_image for it in stim_items])
    cued = (
        np.stack(
            [_cued(it, int(k), acfg.shortcut) for it, k in zip(stim_items, labels, strict=True)]
        )
        if acfg.shortcut != "none"
        else clean
    )
    train, val, test = (split == s for s in ("train", "val", "test"))
    if not train.any():
        raise DataError(f"{stim_dir / 'stimuli.parquet'}: no stimulus in the 'train' split")
    fit_images = np.where((train | val)[:, None, None, None], cued, clean)

    # Human maps of the training images, in the model-input frame (zeros where none).
    train_ids = [i for i, t in zip(ids, train, strict=True) if t]
    maps = np.zeros((len(train_ids), size, size), np.float32)
    has = np.zeros(len(train_ids), bool)
    for j, sid in enumerate(train_ids):
        hm = _human_map(ctx, sid)
        if hm is not None:
            maps[j], has[j] = hm["density_model"], True
    targets = AlignmentTargets(
        AlignmentConfig(
            objective=acfg.objective,
            weight=weight,
            saliency=acfg.saliency,
            pyramid_levels=acfg.pyramid_levels,
            dont_look_fraction=acfg.dont_look_fraction,
        ),
        torch.from_numpy(maps),
        torch.from_numpy(has),
    )

    bundle = build_bundle(ctx.config.model, size, seed=ctx.seed("init"))
    bundle.model.to(stage_device(ctx))
    tconf = train_config(ctx.config.model)
    # every lambda trains in float32: the alignment term differentiates input gradients, which
    # bf16 autocast does not cover, and lambda 0 must be trained the same way as the others
    tconf = replace(tconf, bf16=False, epochs=tconf.epochs if acfg.epochs is None else acfg.epochs)
    result = fit(
        bundle,
        fit_images[train],
        labels[train],
        fit_images[val],
        labels[val],
        config=tconf,
        seed=ctx.seed("train"),
        track=ctx.track,
        alignment=targets,
    )
    bundle = fold_batchnorm(bundle)
    save_bundle(bundle, ctx.out_dir / "networks" / f"{name}.safetensors")
    ev = evaluate(bundle, clean[test], labels[test], batch_size=tconf.eval_batch_size)
    ev_cued = evaluate(bundle, cued[test], labels[test], batch_size=tconf.eval_batch_size)
    scores = _score(ctx, bundle, [it for it, t in zip(stim_items, test, strict=True) if t])
    return {
        "weight": np.float64(weight),
        "stimulus_id": np.array(scores["stimulus_id"], dtype=np.str_),
        "correct": (ev.predicted == labels[test]).astype(np.bool_),
        "correct_cued": (ev_cued.predicted == labels[test]).astype(np.bool_),
        "test_ids": np.array([i for i, t in zip(ids, test, strict=True) if t], dtype=np.str_),
        **{k: np.asarray(scores[k], dtype=np.float64) for k in PER_IMAGE},
        "train_images": np.int64(len(train_ids)),
        "train_images_with_map": np.int64(has.sum()),
        "best_epoch": np.int64(result.best_epoch),
        "history": np.str_(result.history.to_json(orient="records")),
    }


def _score(ctx: StageContext, bundle: Any, test_items: list[StimulusItem]) -> dict[str, list[Any]]:
    """Per test image with a human map: the columns of :data:`PER_IMAGE`."""
    acfg, ecfg = ctx.config.alignment, ctx.config.explain
    method = acfg.method or ecfg.methods[0]
    tile_px = acfg.tile_px or ctx.config.comparison.perturbation.tile_px
    fixations = read_fixations(ctx)
    by_stimulus = dict(list(fixations.groupby(fixations["stimulus_id"].astype(str))))
    screen = screen_of(ctx)
    sigma_deg = ctx.config.heatmap.sigma_deg
    duration_weighted = ctx.config.heatmap.duration_weighted
    out: dict[str, list[Any]] = {k: [] for k in ("stimulus_id", *PER_IMAGE)}
    with_map = [(it, _human_map(ctx, it.stimulus_id)) for it in test_items]
    scored = [(it, hm) for it, hm in with_map if hm is not None]
    if not scored:
        return out
    its = [it for it, _ in scored]
    table = read_stimuli_table(ctx.input("stimuli"))
    label_of = dict(zip(table["stimulus_id"].astype(str), table["label"].astype(str), strict=True))
    target = np.array([LABELS.index(label_of[it.stimulus_id]) for it in its], np.int64)
    maps = explain_items(
        bundle,
        its,
        target,
        methods=[method],
        sign=ecfg.sign,
        options=explain_options(ecfg),
        batch_size=ecfg.batch_size,
    )
    fill_seed = ctx.seed("fill")
    for (it, hm), k in zip(scored, target, strict=True):
        net = maps[it.stimulus_id]
        human = np.asarray(hm["density"], np.float64)
        rho, corr = map_agreement(net[method + "__stimulus"], human)
        fix = by_stimulus.get(it.stimulus_id, fixations.iloc[:0])
        sigma_px = sigma_stimulus_px(sigma_deg, screen, _scale(fix, ctx))

        def density(
            f: pd.DataFrame, shape: tuple[int, int] = human.shape, sigma_px: float = sigma_px
        ) -> Any:  # the human map's own kernel (and duration weights, when it has them)
            x, y = f["x_px"].to_numpy(np.float64), f["y_px"].to_numpy(np.float64)
            w = f["duration_ms"].to_numpy(np.float64) if duration_weighted else None
            return density_values(x, y, shape, sigma_px=sigma_px, weights=w)

        ceil_rho, ceil_cc = split_half_agreement(
            fix, density, n_splits=acfg.ceiling_splits, seed=ctx.seed("ceiling")
        )
        planted = (
            planted_share(net[method + "__stimulus"], it.planted)
            if it.planted is not None
            else float("nan")
        )
        fill = fill_image(
            it.model_image,
            ctx.config.comparison.perturbation.fill,
            seed=fill_seed,
            blur_sigma_px=ctx.config.comparison.perturbation.blur_sigma_px,
        )
        morf = morf_areas(
            bundle,
            it.model_image,
            int(k),
            {"network": net[method], "human": hm["density_model"]},
            tile_px=tile_px,
            fill=fill,
        )
        for key, value in (
            ("stimulus_id", it.stimulus_id),
            ("spearman", rho),
            ("cc", corr),
            ("ceiling_spearman", ceil_rho),
            ("ceiling_cc", ceil_cc),
            ("planted_share", planted),
            ("morf_network", morf["network"]),
            ("morf_human", morf["human"]),
        ):
            out[key].append(value)
    return out


def _scale(fix: pd.DataFrame, ctx: StageContext) -> float:
    if "scale" in fix and len(fix):
        return float(np.median(fix["scale"].to_numpy(np.float64)))
    return float(ctx.config.gaze.stimulus_scale)


def _interval(ctx: StageContext, values: npt.ArrayLike, groups: npt.ArrayLike) -> dict[str, Any]:
    v = np.asarray(values, np.float64)
    g = np.asarray(groups)
    ok = np.isfinite(v)
    iv = bootstrap_mean_ci(
        v[ok],
        groups=g[ok],
        resamples=ctx.config.comparison.bootstrap_resamples,
        confidence=ctx.config.comparison.confidence,
        seed=ctx.seed("bootstrap"),
    )
    return {"mean": iv.estimate, "ci_low": iv.ci_low, "ci_high": iv.ci_high, "n": iv.n}


#: Per-image quantities compared between each lambda and the baseline lambda (the smallest,
#: normally 0): ``test_images`` columns first (every test image), then ``per_image`` columns
#: (test images with a human map).
PAIRED_ACCURACY = ("correct", "correct_cued", "cue_drop")
PAIRED_MAPS = ("spearman", "cc", "planted_share", "morf_difference")


def paired_differences(
    test_images: pd.DataFrame,
    per_image: pd.DataFrame,
    *,
    shortcut: bool,
    seed: int,
    options: dict[str, Any],
) -> pd.DataFrame:
    """Per lambda above the baseline and per measure: the mean over test images of (value at
    lambda - value at the baseline lambda), with an interval and a sign-flip test that resample
    identities.

    The baseline is the smallest lambda (0 in a sweep that includes the plain network). Both
    networks are scored on the same test images, so the difference is paired per image
    (Harmonization compares its models on one shared test set, Fel et al. 2022); identities are
    the clusters (the bootstrap draws whole identities, :func:`gazealign.stats.tables.summarise`).

    Parameters
    ----------
    test_images
        One row per (``weight``, test image): ``stimulus_id``, ``identity``, ``correct``,
        ``correct_cued`` (0/1) and ``cue_drop`` (= ``correct_cued - correct``).
    per_image
        One row per (``weight``, scored test image): ``stimulus_id``, ``identity`` and the
        columns of :data:`PAIRED_MAPS` (NaN where undefined; such pairs are dropped).
    shortcut
        Whether the cued measures (``correct_cued``, ``cue_drop``) are compared.
    seed
        Base seed of the resampling (each row's seed is derived from it and written).
    options
        Keyword arguments of :func:`~gazealign.stats.tables.summarise` (the study's inference
        options: resamples, permutations, confidence, group, interval, ...).

    Returns
    -------
    pandas.DataFrame
        One row per (``weight``, ``measure``) with ``baseline_weight`` and the summary columns
        (``estimate``, ``ci_low``, ``ci_high``, ``p_value``, ``n``, ``n_groups``, ...). Empty
        (with those columns) when the sweep has a single lambda.
    """
    weights = sorted(set(test_images["weight"].astype(float)))
    measures = [m for m in PAIRED_ACCURACY if shortcut or m == "correct"]
    rows: list[pd.DataFrame] = []
    if len(weights) > 1:
        base = weights[0]
        for source, columns in ((test_images, measures), (per_image, list(PAIRED_MAPS))):
            ref = source[source["weight"].astype(float) == base].set_index("stimulus_id")
            for w in weights[1:]:
                cur = source[source["weight"].astype(float) == w].set_index("stimulus_id")
                shared = cur.index.intersection(ref.index)
                for m in columns:
                    d = cur.loc[shared, m].astype(np.float64) - ref.loc[shared, m].astype(
                        np.float64
                    )
                    rows.append(
                        pd.DataFrame(
                            {
                                "weight": w,
                                "measure": m,
                                "baseline_weight": base,
                                "stimulus_id": shared.astype(str),
                                "identity": cur.loc[shared, "identity"].astype(str).to_numpy(),
                                "difference": d.to_numpy(),
                            }
                        ).dropna(subset=["difference"])
                    )
    long = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(
            columns=[
                "weight",
                "measure",
                "baseline_weight",
                "stimulus_id",
                "identity",
                "difference",
            ]
        )
    )
    if long.empty:
        out = pd.DataFrame(columns=["weight", "measure", "baseline_weight", *SUMMARY_COLUMNS])
        return out
    summary = summarise(
        long,
        value="difference",
        keys=["weight", "measure", "baseline_weight"],
        by_class=None,
        test=True,
        seed=seed,
        **options,
    )
    order = {m: i for i, m in enumerate((*PAIRED_ACCURACY, *PAIRED_MAPS))}
    summary["_order"] = summary["measure"].map(order)
    summary = summary.sort_values(["weight", "_order"]).drop(columns="_order")
    return summary.reset_index(drop=True)


_SCORE = {
    "weight": "lambda",
    "objective": "harmonization or rrr",
    "saliency": "differentiable saliency of the loss",
    "test_images": "held-out test images",
    "test_identities": "their identities (the resampling unit)",
    "train_images": "training images",
    "train_images_with_map": "training images that had a human map (the rest: cross-entropy only)",
    "best_epoch": "epoch whose weights were kept",
    "test_accuracy": "accuracy on the cue-free test images",
    "test_accuracy_ci_low": "identity-bootstrap interval",
    "test_accuracy_ci_high": "identity-bootstrap interval",
    "test_accuracy_cued": "accuracy on the test images with their class's cue (= cue-free without)",
    "test_images_scored": "test images with a human map",
    "test_images_constant_map": "of those, with a constant network map (no Spearman)",
    "spearman": "mean Spearman(network map, human map)",
    "cc": "mean Pearson CC(network map, human map)",
    "planted_share": "share of positive relevance in the planted region (synthetic faces)",
    "morf_difference": "human-order - network-order MoRF area",
    "ceiling_spearman": "observers' split-half Spearman",
    "ceiling_cc": "observers' split-half CC",
    "spearman_of_ceiling": "spearman / ceiling_spearman",
    "cc_of_ceiling": "cc / ceiling_cc",
    "<measure>_ci_low": "identity-bootstrap interval of spearman, cc, planted_share, ...",
    "<measure>_ci_high": "",
}
_TEST_IMAGE = {
    "weight": "lambda",
    "stimulus_id": "",
    "identity": "person shown (the resampling unit)",
    "correct": "1: the network's class is the true one (cue-free image)",
    "correct_cued": "the same on the image with its class's cue",
    "cue_drop": "correct_cued - correct",
}
_PER_IMAGE = {
    "weight": "lambda",
    "stimulus_id": "",
    "identity": "person shown (the resampling unit)",
    **{k: "" for k in PER_IMAGE},
    "morf_difference": "morf_human - morf_network",
}
_SHORTCUT = {
    "weight": "lambda",
    "cue_free_accuracy": "accuracy on the cue-free test images",
    "cue_free_accuracy_ci_low": "identity-bootstrap interval",
    "cue_free_accuracy_ci_high": "",
    "cued_accuracy": "accuracy on the same images with their class's cue",
    "cued_accuracy_ci_low": "",
    "cued_accuracy_ci_high": "",
    "cue_drop": "cued - cue-free accuracy (what the network owes the cue)",
    "cue_drop_ci_low": "",
    "cue_drop_ci_high": "",
    "n": "test images",
    "n_groups": "identities",
}

WRITES = (
    art.other(
        "summary",
        "summary.json",
        "json",
        "enabled (bool), synthetic, the [alignment] table, lambdas, training histories",
    ),
    art.items(
        "scores_per_lambda",
        "per lambda: the trained network's per-test-image scores",
        {
            "weight": "lambda",
            "test_ids": "(n_test,) test stimulus ids",
            "correct": "(n_test,) bool",
            "correct_cued": "(n_test,) bool",
            "stimulus_id": "(n_scored,) test images with a human map",
            **{k: "(n_scored,)" for k in PER_IMAGE},
        },
    ),
    art.other(
        "networks", "networks", "folder", "networks/lambda_<value>.safetensors", optional=True
    ),
    art.table("sweep", "one row per lambda: accuracy and alignment scores", _SCORE, optional=True),
    art.table(
        "test_images", "per (lambda, test image): correct or not", _TEST_IMAGE, optional=True
    ),
    art.table(
        "per_image", "per (lambda, scored test image): map scores", _PER_IMAGE, optional=True
    ),
    art.table(
        "paired",
        "per (lambda, measure): mean paired difference against the baseline (smallest) lambda",
        {"weight": "lambda", "measure": "", "baseline_weight": "normally 0"}
        | {c: "" for c in ("n", "n_groups", "estimate", "ci_low", "ci_high", "p_value")},
        optional=True,
    ),
    art.table(
        "shortcut",
        "per lambda (alignment.shortcut set): cue-free and cued accuracy, cue_drop",
        _SHORTCUT,
        optional=True,
    ),
)


@stage(
    "alignment_sweep",
    description="train one network per alignment lambda and score each on held-out identities",
    reads=(
        "study.seed",
        "study.synthetic",
        "model",
        "stimuli.input_size_px",
        "explain",
        "heatmap",
        "gaze.correct_only",
        "gaze.stimulus_scale",
        "gaze.screen",
        "comparison.perturbation",
        *INFERENCE_KEYS,
        "alignment",
    ),
    needs=("stimuli", "gaze", "human_maps"),
    writes=WRITES,
    items=items_of_sweep,
    run_item=run_item,
)
def run(ctx: StageContext) -> None:
    names = list(items_of_sweep(ctx))
    if not names:  # no [alignment] lambdas: nothing to train; the stage records that
        write_json(ctx.out_dir / "summary.json", {"enabled": False, "lambdas": []})
        ctx.note("alignment_networks", 0)
        return
    acfg = ctx.config.alignment
    table = read_stimuli_table(ctx.input("stimuli"))
    identity = dict(
        zip(table["stimulus_id"].astype(str), table["subject"].astype(str), strict=True)
    )
    rows, per_image, test_images, shortcut_rows = [], [], [], []
    for name in names:
        a = read_arrays(ctx.item_path(name))
        weight = float(a["weight"])
        test_ids = [str(s) for s in a["test_ids"]]
        test_groups = [identity[s] for s in test_ids]
        correct = a["correct"].astype(np.float64)
        correct_cued = a["correct_cued"].astype(np.float64)
        test_images.append(
            pd.DataFrame(
                {
                    "weight": weight,
                    "stimulus_id": test_ids,
                    "identity": test_groups,
                    "correct": correct,
                    "correct_cued": correct_cued,
                    "cue_drop": correct_cued - correct,
                }
            )
        )
        img = pd.DataFrame({"stimulus_id": [str(s) for s in a["stimulus_id"]]})
        for k in PER_IMAGE:
            img[k] = a[k]
        img["identity"] = [identity[s] for s in img["stimulus_id"]]
        img["morf_difference"] = img["morf_human"] - img["morf_network"]
        img.insert(0, "weight", weight)
        per_image.append(img)
        acc = _interval(ctx, correct, test_groups)
        row: dict[str, Any] = {
            "weight": weight,
            "objective": acfg.objective,
            "saliency": acfg.saliency,
            "test_images": len(test_ids),
            "test_identities": len(set(test_groups)),
            "train_images": int(a["train_images"]),
            "train_images_with_map": int(a["train_images_with_map"]),
            "best_epoch": int(a["best_epoch"]),
            "test_accuracy": acc["mean"],
            "test_accuracy_ci_low": acc["ci_low"],
            "test_accuracy_ci_high": acc["ci_high"],
            "test_accuracy_cued": float(correct_cued.mean()) if len(test_ids) else np.nan,
            "test_images_scored": len(img),
            # a constant network map (e.g. no positive relevance) has no rank correlation
            "test_images_constant_map": int(img["spearman"].isna().sum()),
        }
        for k in PAIRED_MAPS:
            iv = _interval(ctx, img[k], img["identity"])
            row |= {k: iv["mean"], f"{k}_ci_low": iv["ci_low"], f"{k}_ci_high": iv["ci_high"]}
        for k in ("spearman", "cc"):
            ceiling = float(np.nanmean(img[f"ceiling_{k}"])) if len(img) else np.nan
            row[f"ceiling_{k}"] = ceiling
            row[f"{k}_of_ceiling"] = (
                row[k] / ceiling if ceiling and np.isfinite(ceiling) else np.nan
            )
        rows.append(row)
        if acfg.shortcut != "none":
            short: dict[str, Any] = {"weight": weight}
            for key, values in (
                ("cue_free_accuracy", correct),
                ("cued_accuracy", correct_cued),
                ("cue_drop", correct_cued - correct),
            ):
                iv = _interval(ctx, values, test_groups)
                short |= {key: iv["mean"], f"{key}_ci_low": iv["ci_low"]}
                short[f"{key}_ci_high"] = iv["ci_high"]
            short |= {"n": len(test_ids), "n_groups": len(set(test_groups))}
            shortcut_rows.append(short)
    sweep = pd.DataFrame(rows)
    images = pd.concat(test_images, ignore_index=True)
    scored = pd.concat(per_image, ignore_index=True)
    write_table(ctx.out_dir / "sweep.parquet", sweep)
    write_table(ctx.out_dir / "test_images.parquet", images)
    write_table(ctx.out_dir / "per_image.parquet", scored)
    paired = paired_differences(
        images,
        scored,
        shortcut=acfg.shortcut != "none",
        seed=ctx.seed("paired"),
        options=inference_options(ctx),
    )
    write_table(ctx.out_dir / "paired.parquet", paired)
    if shortcut_rows:
        write_table(ctx.out_dir / "shortcut.parquet", pd.DataFrame(shortcut_rows))
    write_json(
        ctx.out_dir / "summary.json",
        {
            "enabled": True,
            "synthetic": ctx.config.study.synthetic,
            "alignment": ctx.config.get("alignment"),
            "lambdas": [float(w) for w in sweep["weight"]],
            "histories": {
                n: json.loads(str(read_arrays(ctx.item_path(n))["history"])) for n in names
            },
        },
    )
    ctx.note("alignment_networks", len(sweep))
    ctx.note("alignment_train_images_with_map", int(sweep["train_images_with_map"].iloc[0]))
