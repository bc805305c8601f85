"""The ``saliency_metrics`` stage: network maps vs human fixations on every saliency metric,
read against a centre-bias map, a uniform map and the observers' noise ceiling.

Everything is scored in the stimulus frame (where people looked): network maps
``<method>__stimulus`` (explain), human density ``density`` (human_maps), fixations from the gaze
stage's ``fixations.parquet`` (stimulus frame; correct trials only when ``gaze.correct_only``).

Artifacts:

    per_image_metrics.parquet    stimulus_id, label, identity, session, map, metric, value,
                                 higher_is_better (map: a method, "centre bias", "uniform",
                                 "human (split-half ceiling)")
    metrics.parquet              mean per (map, metric, label | all) with a bootstrap CI over
                                 identities (``n_groups`` of them)
    metrics_vs_baselines.parquet per-image differences <method> - centre bias and
                                 <method> - ceiling, summarised with identity-clustered CI and
                                 permutation test

With ``comparison.metrics.ceiling = "leave_one_out"`` (default) the ceiling is the gold
standard (:func:`gazealign.compare.ceiling.leave_one_out_ceiling`) on
``comparison.metrics.ceiling_metrics``, and also:

    ceiling_per_image.parquet    per (image, map, n_observers, metric): the mean over held-out
                                 observers (map: "gold standard", each method, centre bias,
                                 uniform; all scored on the same held-out fixations)
    ceiling_curve.parquet        gold standard vs number of predicting observers k (mean over
                                 images and held-out observers)
    ceiling.parquet              per (method, metric): held-out score, ceiling at N - 1 and
                                 extrapolated to infinitely many observers, the chance map and
                                 (model - chance) / (ceiling - chance) for both ceilings,
                                 images, identities and observers counted

The chance map of the chance-corrected score is the centre bias. ``metrics.parquet`` carries
``percent_of_ceiling`` (chance-corrected, as a fraction), ``chance_map`` and ``all_zero_maps``
(images whose network map is all zero) on the network methods' rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gazealign.compare.calibration import (
    Calibration,
    calibrated_map,
    default_sigmas_px,
    fit_calibration,
    identity_folds,
)
from gazealign.compare.ceiling import (
    GOLD,
    DensityFn,
    chance_corrected,
    chance_corrected_interval,
    extrapolate_ceiling,
    leave_one_out_ceiling,
    split_half_ceiling,
)
from gazealign.compare.metric_registry import higher_is_better
from gazealign.compare.metrics import fixation_map
from gazealign.compare.scoring import score_map
from gazealign.config.comparison import MetricsSection
from gazealign.errors import DataError, PipelineError
from gazealign.heatmaps.baselines import centre_bias_map, uniform_map
from gazealign.heatmaps.density import density_values
from gazealign.pipeline.artifacts import table
from gazealign.pipeline.registry import stage
from gazealign.pipeline.stage import StageContext
from gazealign.pipeline.store import read_arrays, write_table
from gazealign.stages.common import (
    INFERENCE_KEYS,
    PER_IMAGE_COLUMNS,
    SUMMARY_COLUMNS,
    TEST_COLUMNS,
    inference_options,
    network_methods,
    read_fixations,
    selected_stimuli,
    stimulus_clusters,
    write_and_summarise,
)
from gazealign.stats.tables import ALL, summarise

CEILING = "human (split-half ceiling)"
#: Suffix of a calibrated network map's name in the metric tables.
CALIBRATED = " (calibrated)"
#: The metrics that read a map as a distribution: the ones calibration is for.
CALIBRATED_METRICS = ("kld", "information_gain", "cc", "sim")
CEILING_LOO = "human (leave-one-out ceiling)"
CENTRE_BIAS = "centre bias"
UNIFORM = "uniform"

WRITES = (
    table(
        "per_image_metrics",
        "per (image, map, metric): the value (NaN where undefined)",
        {**PER_IMAGE_COLUMNS, "map": "a method or a baseline", "metric": "", "value": ""}
        | {"higher_is_better": "bool"},
    ),
    table(
        "metrics",
        "mean per (map, metric, label | all) with its interval",
        {"map": "", "metric": ""}
        | SUMMARY_COLUMNS
        | {
            "value": "mean",
            "higher_is_better": "",
            "percent_of_ceiling": "network rows, label all: (model - chance) / (ceiling - "
            "chance), a fraction",
            "chance_map": "the chance map of percent_of_ceiling (centre bias)",
            "held_out_score": "leave-one-out, network rows: mean score on held-out observers",
            "held_out_ceiling": "the gold standard on the same held-out data",
            "held_out_chance": "the centre bias on the same held-out data",
            "all_zero_maps": "network rows: images whose map is all zero",
            "n_observers": "observers in the fixation table",
        },
    ),
    table(
        "ceiling_per_image",
        "leave-one-out: per (image, map, n_observers, metric) the mean over held-out observers",
        {**PER_IMAGE_COLUMNS, "map": "gold standard, a method or a baseline"}
        | {"n_observers": "observers in the predicting density (0: a map)", "metric": ""}
        | {"value": "", "n_held_out": "held-out observers averaged"},
        optional=True,
    ),
    table(
        "ceiling_per_observer",
        "leave-one-out: every (image, held-out observer) score of the gold standard at N - 1 "
        "and of every map",
        {"stimulus_id": "", "identity": "", "session": "", "held_out": "observer"}
        | {"map": "", "n_observers": "", "metric": "", "value": ""},
        optional=True,
    ),
    table(
        "ceiling_curve",
        "leave-one-out: gold standard vs number of predicting observers",
        {"metric": "", "n_observers": "k", "value": "mean over images and held-out observers"},
        optional=True,
    ),
    table(
        "ceiling",
        "leave-one-out: per (method, metric) held-out score, ceiling (N - 1 and extrapolated), "
        "chance map and chance-corrected % of ceiling with its interval",
        {
            "map": "network method",
            "metric": "",
            "held_out_score": "",
            "ceiling": "gold standard with every other observer",
            "ceiling_extrapolated": "for infinitely many observers",
            "extrapolation": "Spearman-Brown (CC) or linear in 1/k",
            "chance_map": "",
            "chance_score": "",
            "percent_of_ceiling": "(model - chance) / (ceiling - chance)",
            "percent_of_ceiling_ci_low": "",
            "percent_of_ceiling_ci_high": "",
            "percent_of_ceiling_interval": "two-way bootstrap (identities x observers)",
            "percent_of_ceiling_extrapolated": "against the extrapolated ceiling",
            "n_images": "",
            "n_identities": "",
            "n_observers": "",
        },
        optional=True,
    ),
    table(
        "calibration",
        "per (method, identity fold): blur and centre-bias weight fitted on the other folds",
        {
            "method": "",
            "fold": "identity fold the parameters are applied to",
            "sigma_px": "Gaussian blur, stimulus px",
            "centre_weight": "mixture weight of the centre bias",
            "log_likelihood_bits": "mean log2 p per fixation on the fitting images",
            "fixations": "fixations fitted",
        },
        optional=True,
    ),
    table(
        "metrics_vs_baselines",
        "<method> - centre bias and <method> - ceiling, with intervals and tests",
        {"versus": "", "metric": ""} | SUMMARY_COLUMNS | TEST_COLUMNS,
    ),
)


def gaussian_density(
    sigma_px: float, shape: tuple[int, int], *, duration_weighted: bool
) -> DensityFn:
    """The human-map density (:func:`gazealign.heatmaps.density.density_values`) for the
    split-half ceiling, so ceiling halves are built exactly like the human maps."""

    def density(
        x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], duration_ms: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        weights = duration_ms if duration_weighted else None
        return density_values(x, y, shape, sigma_px=sigma_px, weights=weights)

    return density


class _AllFixations:
    """Every fixation's image, position and image size, gathered once for the whole stage."""

    def __init__(self, fixations: pd.DataFrame, sizes: dict[str, tuple[int, int]]) -> None:
        self.sizes = sizes
        self.sid = fixations["stimulus_id"].astype(str).to_numpy()
        shape = np.array([sizes[s] for s in self.sid], dtype=float).reshape(-1, 2)
        self.rows, self.cols = shape[:, 0], shape[:, 1]
        self.x = fixations["x_px"].to_numpy(np.float64)
        self.y = fixations["y_px"].to_numpy(np.float64)


def _other_fixations(every: _AllFixations, sid: str) -> npt.NDArray[np.int64]:
    """Fixations on the other images, rescaled into this image's frame (for shuffled AUC)."""
    rows, cols = every.sizes[sid]
    other = every.sid != sid
    fx = every.x[other] * cols / every.cols[other]
    fy = every.y[other] * rows / every.rows[other]
    counts, _ = fixation_map(fx, fy, (rows, cols))
    return counts


@dataclass(frozen=True)
class _ImageJob:
    """What scoring one image needs (sent to a worker process with ``study.workers``)."""

    stimulus_id: str
    label: str
    ident: dict[str, str]
    shape: tuple[int, int]
    fixations: pd.DataFrame
    other: npt.NDArray[np.int64] | None
    explain: Path
    human: Path
    metrics: MetricsSection
    #: The calibration of each network method for this image's identity fold.
    calibrations: dict[str, Calibration]
    seed: int
    duration_weighted: bool


@dataclass(frozen=True)
class _ImageScores:
    rows: list[dict[str, Any]]
    all_zero: dict[str, int]
    #: Leave-one-out: per (map, n_observers, metric) means, and the per-observer cells.
    held: pd.DataFrame | None = None
    cells: pd.DataFrame | None = None


def _ceiling_name(mcfg: MetricsSection) -> str:
    """The map name of the noise ceiling the study's ``comparison.metrics.ceiling`` makes."""
    return CEILING_LOO if mcfg.ceiling == "leave_one_out" else CEILING


def _score_image(job: _ImageJob) -> _ImageScores | None:
    """Every map of one image on every metric, and its noise ceiling; ``None`` for an image
    without fixations on it."""
    mcfg = job.metrics
    sid, label, ident, shape = job.stimulus_id, job.label, job.ident, job.shape
    fix = job.fixations
    counts, _ = fixation_map(fix["x_px"], fix["y_px"], shape)
    if counts.sum() == 0:
        return None
    explain = read_arrays(job.explain)
    human = read_arrays(job.human)
    reference = np.asarray(human["density"], dtype=np.float64)
    if reference.shape != shape:
        raise DataError(f"human map of {sid} has shape {reference.shape}, stimulus {shape}")
    centre = centre_bias_map(shape, sigma_fraction=mcfg.centre_bias_sigma_fraction)
    other = job.other
    if other is not None and other.sum() == 0:
        other = None
    maps = {m: explain[f"{m}__stimulus"] for m in network_methods(explain)}
    all_zero = {m: int(not np.any(np.asarray(values) != 0)) for m, values in maps.items()}
    maps |= {CENTRE_BIAS: centre, UNIFORM: uniform_map(shape)}
    scored: dict[str, tuple[npt.NDArray[Any], list[str] | None]] = {
        name: (values, mcfg.names or None) for name, values in maps.items()
    }
    for m in network_methods(explain):
        fit = job.calibrations.get(m)
        if fit is not None:
            calibrated = calibrated_map(
                explain[f"{m}__stimulus"],
                centre,
                sigma_px=fit.sigma_px,
                centre_weight=fit.centre_weight,
            )
            wanted = [n for n in CALIBRATED_METRICS if not mcfg.names or n in mcfg.names]
            scored[m + CALIBRATED] = (calibrated, wanted)
    rows: list[dict[str, Any]] = []
    for name, (values, names) in scored.items():
        scores = score_map(
            values,
            counts,
            reference,
            baseline_map=centre,
            other_fixations=other,
            n_splits=mcfg.auc_splits,
            emd_max_side_px=mcfg.emd_max_side_px,
            metrics=names,
            seed=job.seed,
        )
        for metric, value in scores.items():
            rows.append(
                {
                    "stimulus_id": sid,
                    "label": label,
                    **ident,
                    "map": name,
                    "metric": metric,
                    "value": value,
                }
            )
    # The kernel the human map of this image was made with (derived once, by human_maps:
    # with placement = "messages" it depends on the image's recorded scale).
    density = gaussian_density(
        float(human["sigma_px"]), shape, duration_weighted=job.duration_weighted
    )
    held = cells = None
    if mcfg.ceiling == "leave_one_out":
        loo = leave_one_out_ceiling(
            fix,
            shape,
            density,
            baseline_map=centre,
            maps=maps,
            other_fixations=other,
            metrics=[m for m in mcfg.ceiling_metrics if not mcfg.names or m in mcfg.names],
            observer_counts=mcfg.ceiling_observer_counts,
            curve_draws=1,
            metric_splits=max(1, mcfg.auc_splits // 10),
            emd_max_side_px=mcfg.emd_max_side_px,
            seed=job.seed,
        )
        if loo.empty:
            return _ImageScores(rows, all_zero)
        per = loo.groupby(["map", "n_observers", "metric"], sort=False)["value"]
        held = per.mean().rename("value").reset_index()
        held["n_held_out"] = per.size().to_numpy()
        held = held.assign(stimulus_id=sid, label=label, **ident)
        top_k = loo.loc[loo["map"] == GOLD, "n_observers"].max()
        cells = loo[(loo["map"] != GOLD) | (loo["n_observers"] == top_k)]
        cells = cells.assign(stimulus_id=sid, **ident)
        gold = held[(held["map"] == GOLD)]
        gold = gold[gold["n_observers"] == gold["n_observers"].max()]
        ceiling_means = gold.set_index("metric")["value"]
    else:
        ceiling = split_half_ceiling(
            fix,
            shape,
            density,
            baseline_map=centre,
            other_fixations=other,
            n_splits=mcfg.ceiling_splits,
            metric_splits=max(1, mcfg.auc_splits // 10),
            emd_max_side_px=mcfg.emd_max_side_px,
            metrics=mcfg.names or None,
            seed=job.seed,
        )
        ceiling_means = ceiling.groupby("metric", sort=False)["value"].mean()
    for metric, value in zip(ceiling_means.index, ceiling_means.to_numpy(), strict=True):
        rows.append(
            {
                "stimulus_id": sid,
                "label": label,
                **ident,
                "map": _ceiling_name(mcfg),
                "metric": metric,
                "value": value,
            }
        )
    return _ImageScores(rows, all_zero, held, cells)


@stage(
    "saliency_metrics",
    description="Network maps vs human fixations on nine saliency metrics, with baselines and the "
    "human noise ceiling (leave one observer out, or split-half).",
    reads=(
        "comparison.metrics",
        *INFERENCE_KEYS,
        "gaze.correct_only",
        "heatmap.duration_weighted",
    ),
    needs=("stimuli", "explain", "gaze", "human_maps"),
    writes=WRITES,
)
def _run(ctx: StageContext) -> None:

    cfg = ctx.config.comparison
    mcfg = cfg.metrics
    table = selected_stimuli(ctx, cfg.split)
    fixations = read_fixations(ctx)
    fixations = fixations[
        fixations["stimulus_id"].astype(str).isin(table["stimulus_id"].astype(str))
    ]
    sizes = {
        str(sid): (int(r), int(c))
        for sid, r, c in zip(table["stimulus_id"], table["rows"], table["cols"], strict=True)
    }
    seed = ctx.seed("metrics")
    every = _AllFixations(fixations, sizes)
    clusters = stimulus_clusters(table).set_index("stimulus_id")
    folds = (
        identity_folds(list(clusters["identity"]), folds=mcfg.calibration_folds)
        if mcfg.calibrate and clusters["identity"].nunique() >= 2
        else {}
    )
    calibrations = _fit_calibrations(ctx, table, fixations, sizes, folds) if folds else {}
    if mcfg.calibrate and not folds:
        ctx.note("saliency_metrics_calibration", "skipped: images of fewer than 2 identities")
    rows: list[dict[str, Any]] = []
    loo_frames: list[pd.DataFrame] = []
    observer_frames: list[pd.DataFrame] = []
    all_zero: dict[str, int] = {}
    ceiling_name = _ceiling_name(mcfg)
    skipped = 0
    jobs = []
    for row in table.itertuples(index=False):
        sid = str(row.stimulus_id)
        ident = {k: str(clusters.at[sid, k]) for k in ("identity", "session")}
        fold = folds.get(ident["identity"])
        jobs.append(
            _ImageJob(
                stimulus_id=sid,
                label=str(row.label),
                ident=ident,
                shape=sizes[sid],
                fixations=fixations[every.sid == sid],
                other=_other_fixations(every, sid) if len(sizes) > 1 else None,
                explain=ctx.artifact("explain", "maps", sid),
                human=ctx.artifact("human_maps", "maps", sid),
                metrics=mcfg,
                calibrations={
                    m: fit for (m, f), fit in calibrations.items() if fold is not None and f == fold
                },
                seed=seed,
                duration_weighted=ctx.config.heatmap.duration_weighted,
            )
        )
    # One image after another, or in the study's worker processes (``study.workers``): the
    # results come back in image order either way.
    for result in ctx.track(ctx.map(_score_image, jobs), total=len(jobs), description="metrics"):
        if result is None:
            skipped += 1
            continue
        rows.extend(result.rows)
        for m, n in result.all_zero.items():
            all_zero[m] = all_zero.get(m, 0) + n
        if result.held is not None and result.cells is not None:
            loo_frames.append(result.held)
            observer_frames.append(result.cells)
    ctx.note("saliency_metrics_images_without_fixations", skipped)
    if not rows:
        raise PipelineError("saliency_metrics: no image has fixations and maps to compare")
    per_image = pd.DataFrame(rows)
    per_image["higher_is_better"] = per_image["metric"].map(higher_is_better)
    valid, summary = write_and_summarise(
        ctx,
        per_image,
        file_name="per_image_metrics.parquet",
        value="value",
        keys=["map", "metric"],
        undefined_note="saliency_metrics_undefined_values",
        seed_name="metrics_summary",
    )
    summary["higher_is_better"] = summary["metric"].map(higher_is_better)
    methods = sorted(all_zero)
    summary["all_zero_maps"] = summary["map"].map(lambda m: all_zero.get(str(m), np.nan))
    n_observers = int(fixations["subject"].astype(str).nunique())
    summary["n_observers"] = n_observers
    if loo_frames:
        held = pd.concat(loo_frames, ignore_index=True)
        write_table(ctx.out_dir / "ceiling_per_image.parquet", held)
        curve = (
            held[held["map"] == GOLD]
            .groupby(["metric", "n_observers"], sort=True)["value"]
            .mean()
            .reset_index()
        )
        write_table(ctx.out_dir / "ceiling_curve.parquet", curve)
        per_observer = pd.concat(observer_frames, ignore_index=True)
        write_table(ctx.out_dir / "ceiling_per_observer.parquet", per_observer)
        table_ceiling = ceiling_table(
            held,
            per_observer,
            methods,
            n_observers=n_observers,
            resamples=cfg.bootstrap_resamples,
            confidence=cfg.confidence,
            seed=ctx.seed("ceiling"),
        )
        write_table(ctx.out_dir / "ceiling.parquet", table_ceiling)
        indexed = table_ceiling.set_index(["map", "metric"])
        pct = indexed["percent_of_ceiling"]
        held_out: dict[str, pd.Series] = {
            "held_out_score": indexed["held_out_score"],
            "held_out_ceiling": indexed["ceiling"],
            "held_out_chance": indexed["chance_score"],
        }
    else:
        pct = _split_half_percent(summary, methods, ceiling_name)
        nan = pd.Series(dtype=np.float64)
        held_out = {c: nan for c in ("held_out_score", "held_out_ceiling", "held_out_chance")}
    summary["chance_map"] = [CENTRE_BIAS if m in methods else None for m in summary["map"]]
    pooled_rows = list(zip(summary["map"], summary["metric"], summary["label"], strict=True))
    for column, source in {"percent_of_ceiling": pct, **held_out}.items():
        summary[column] = [
            float(source.get((m, k), np.nan)) if lab == ALL else np.nan for m, k, lab in pooled_rows
        ]
    write_table(ctx.out_dir / "metrics.parquet", summary)
    if calibrations:
        write_table(
            ctx.out_dir / "calibration.parquet",
            pd.DataFrame(
                [{"method": m, "fold": f, **vars(c)} for (m, f), c in sorted(calibrations.items())]
            ),
        )
    write_table(
        ctx.out_dir / "metrics_vs_baselines.parquet",
        _versus(valid, ctx, ctx.seed("versus"), ceiling_name),
    )


def _fit_calibrations(
    ctx: StageContext,
    table: pd.DataFrame,
    fixations: pd.DataFrame,
    sizes: dict[str, tuple[int, int]],
    folds: dict[str, int],
) -> dict[tuple[str, int], Calibration]:
    """(method, fold) -> calibration fitted on the images of every other fold's identities."""
    mcfg = ctx.config.comparison.metrics
    identity = stimulus_clusters(table).set_index("stimulus_id")["identity"]
    per_image: list[tuple[int, dict[str, npt.NDArray[Any]], npt.NDArray[Any], npt.NDArray[Any]]]
    per_image = []
    by_image = dict(tuple(fixations.groupby(fixations["stimulus_id"].astype(str))))
    for sid in table["stimulus_id"].astype(str):
        fix = by_image.get(sid)
        if fix is None or not len(fix):
            continue
        shape = sizes[sid]
        counts, _ = fixation_map(fix["x_px"], fix["y_px"], shape)
        explain = read_arrays(ctx.artifact("explain", "maps", sid))
        maps = {m: explain[f"{m}__stimulus"] for m in network_methods(explain)}
        centre = centre_bias_map(shape, sigma_fraction=mcfg.centre_bias_sigma_fraction)
        per_image.append((folds[str(identity[sid])], maps, counts, centre))
    if not per_image:
        return {}
    sigmas = default_sigmas_px(sizes[str(table["stimulus_id"].iloc[0])])
    methods = sorted({m for _, maps, _, _ in per_image for m in maps})
    out: dict[tuple[str, int], Calibration] = {}
    for method in methods:
        for fold in sorted(set(folds.values())):
            fit_on = [x for x in per_image if x[0] != fold and method in x[1]]
            if not fit_on:
                continue
            out[(method, fold)] = fit_calibration(
                [maps[method] for _, maps, _, _ in fit_on],
                [counts for _, _, counts, _ in fit_on],
                [centre for _, _, _, centre in fit_on],
                sigmas_px=sigmas,
            )
    return out


def ceiling_table(
    held: pd.DataFrame,
    per_observer: pd.DataFrame,
    methods: list[str],
    *,
    n_observers: int,
    resamples: int,
    confidence: float,
    seed: int,
) -> pd.DataFrame:
    """Per (method, metric): held-out score against the gold standard and the centre bias.

    ``held``: rows of :func:`leave_one_out_ceiling` averaged per image (``map``,
    ``n_observers``, ``metric``, ``value``, ``stimulus_id``, ``identity``). Means over images;
    the ceiling at the most observers each image had, and extrapolated to infinitely many
    (:func:`gazealign.compare.ceiling.extrapolate_ceiling`). ``per_observer``: the cells
    (image, held-out observer) of the gold standard at N - 1 and of every map, for the
    interval of the chance-corrected score (identities x observers, two-way bootstrap).
    """
    gold = held[held["map"] == GOLD]
    top = gold[gold["n_observers"] == gold.groupby("stimulus_id")["n_observers"].transform("max")]
    ceiling = top.groupby("metric")["value"].mean()
    extrapolated = extrapolate_ceiling(gold).set_index("metric")
    scored = held[held["map"] != GOLD].groupby(["map", "metric"])["value"].mean()
    rows: list[dict[str, Any]] = []
    for method in methods:
        for metric in ceiling.index:
            if (method, metric) not in scored.index or (CENTRE_BIAS, metric) not in scored.index:
                continue
            model, chance = scored[(method, metric)], scored[(CENTRE_BIAS, metric)]
            cells = per_observer[per_observer["metric"] == metric].pivot_table(
                index=["stimulus_id", "identity", "held_out"], columns="map", values="value"
            )
            if {method, GOLD, CENTRE_BIAS} <= set(cells.columns):
                idx = cells.index.to_frame(index=False)
                _, low, high = chance_corrected_interval(
                    cells[method].to_numpy(),
                    cells[GOLD].to_numpy(),
                    cells[CENTRE_BIAS].to_numpy(),
                    idx["identity"].to_numpy(),
                    idx["held_out"].to_numpy(),
                    resamples=resamples,
                    confidence=confidence,
                    seed=seed + len(rows),
                )
            else:
                low = high = float("nan")
            ext = extrapolated.loc[metric] if metric in extrapolated.index else None
            ext_value = float(ext["extrapolated"]) if ext is not None else float("nan")
            rows.append(
                {
                    "map": method,
                    "metric": metric,
                    "held_out_score": float(model),
                    "ceiling": float(ceiling[metric]),
                    "ceiling_extrapolated": ext_value,
                    "extrapolation": None if ext is None else str(ext["method"]),
                    "chance_map": CENTRE_BIAS,
                    "chance_score": float(chance),
                    "uniform_score": float(scored.get((UNIFORM, metric), np.nan)),
                    "percent_of_ceiling": float(chance_corrected(model, ceiling[metric], chance)),
                    "percent_of_ceiling_ci_low": low,
                    "percent_of_ceiling_ci_high": high,
                    "percent_of_ceiling_interval": "percentile, two-way bootstrap "
                    "(identities x observers)",
                    "percent_of_ceiling_extrapolated": float(
                        chance_corrected(model, ext_value, chance)
                    ),
                    "n_images": int(top["stimulus_id"].nunique()),
                    "n_identities": int(top["identity"].nunique()),
                    "n_observers": n_observers,
                }
            )
    return pd.DataFrame(rows)


def _split_half_percent(summary: pd.DataFrame, methods: list[str], ceiling_name: str) -> pd.Series:
    """Chance-corrected % of the split-half ceiling from the pooled rows (all observers)."""
    rows = summary[summary["label"] == ALL]
    pooled = {
        (str(m), str(k)): float(v)
        for m, k, v in zip(rows["map"], rows["metric"], rows["estimate"], strict=True)
    }
    out: dict[tuple[str, str], float] = {}
    for (name, metric), value in pooled.items():
        ceiling, chance = pooled.get((ceiling_name, metric)), pooled.get((CENTRE_BIAS, metric))
        if name in methods and ceiling is not None and chance is not None:
            out[(name, metric)] = float(chance_corrected(value, ceiling, chance))
    return pd.Series(out, dtype=np.float64)


def _versus(
    per_image: pd.DataFrame, ctx: StageContext, seed: int, ceiling_name: str
) -> pd.DataFrame:
    wide = per_image.pivot_table(
        index=["stimulus_id", "label", "identity", "session", "metric"],
        columns="map",
        values="value",
    )
    methods = [m for m in wide.columns if m not in (ceiling_name, CENTRE_BIAS, UNIFORM)]
    frames = []
    for method in methods:
        for base in (CENTRE_BIAS, ceiling_name):
            if base in wide:
                d = (wide[method] - wide[base]).rename("difference").reset_index()
                frames.append(d.assign(versus=f"{method} - {base}"))
    if not frames:
        return pd.DataFrame()
    diffs = pd.concat(frames, ignore_index=True).dropna(subset=["difference"])
    return summarise(
        diffs,
        value="difference",
        keys=["versus", "metric"],
        seed=seed,
        **inference_options(ctx),
    )
