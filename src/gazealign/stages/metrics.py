"""The ``saliency_metrics`` stage: network maps vs human fixations on every saliency metric,
read against a centre-bias map, a uniform map and the observers' split-half noise ceiling.

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
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gazealign.compare.ceiling import DensityFn, split_half_ceiling
from gazealign.compare.metric_registry import higher_is_better
from gazealign.compare.metrics import fixation_map
from gazealign.compare.scoring import score_map
from gazealign.coords import ScreenGeometry
from gazealign.errors import DataError, PipelineError
from gazealign.heatmaps.baselines import centre_bias_map, uniform_map
from gazealign.heatmaps.density import density_values, sigma_stimulus_px
from gazealign.pipeline.artifacts import table
from gazealign.pipeline.registry import stage
from gazealign.pipeline.stage import StageContext
from gazealign.pipeline.store import read_arrays, write_table
from gazealign.stages.common import (
    PER_IMAGE_COLUMNS,
    SUMMARY_COLUMNS,
    TEST_COLUMNS,
    network_methods,
    read_fixations,
    selected_stimuli,
    stimulus_clusters,
)
from gazealign.stats.tables import summarise

CEILING = "human (split-half ceiling)"
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
        {"map": "", "metric": ""} | SUMMARY_COLUMNS | {"value": "mean", "higher_is_better": ""},
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


def stimulus_sigma_px(ctx: StageContext) -> float:
    """The human-map kernel (``heatmap.sigma_deg``) in stimulus px for this study's screen."""
    screen = ctx.config.gaze.screen
    geometry = ScreenGeometry(
        screen.width_px, screen.height_px, screen.width_cm, screen.height_cm, screen.distance_cm
    )
    return sigma_stimulus_px(ctx.config.heatmap.sigma_deg, geometry, ctx.config.gaze.stimulus_scale)


def _other_fixations(
    fixations: pd.DataFrame, sizes: dict[str, tuple[int, int]], sid: str
) -> npt.NDArray[np.int64]:
    """Fixations on the other images, rescaled into this image's frame (for shuffled AUC)."""
    rows, cols = sizes[sid]
    others = fixations[fixations["stimulus_id"].astype(str) != sid]
    scale = others["stimulus_id"].astype(str).map(lambda s: sizes[s])
    fx = others["x_px"].to_numpy(np.float64) * cols / np.array([c for _, c in scale], dtype=float)
    fy = others["y_px"].to_numpy(np.float64) * rows / np.array([r for r, _ in scale], dtype=float)
    counts, _ = fixation_map(fx, fy, (rows, cols))
    return counts


@stage(
    "saliency_metrics",
    description="Network maps vs human fixations on nine saliency metrics, with baselines and the "
    "human split-half noise ceiling.",
    reads=(
        "comparison.metrics",
        "comparison.split",
        "comparison.bootstrap_resamples",
        "comparison.permutations",
        "comparison.confidence",
        "comparison.interval",
        "comparison.p_adjust",
        "gaze.correct_only",
        "gaze.screen",
        "gaze.stimulus_scale",
        "heatmap.sigma_deg",
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
    sigma_px = stimulus_sigma_px(ctx)
    seed = ctx.seed("metrics")
    clusters = stimulus_clusters(table).set_index("stimulus_id")
    rows: list[dict[str, Any]] = []
    skipped = 0
    for row in ctx.track(table.itertuples(index=False), total=len(table), description="metrics"):
        sid, label = str(row.stimulus_id), str(row.label)
        ident = {k: str(clusters.at[sid, k]) for k in ("identity", "session")}
        shape = sizes[sid]
        fix = fixations[fixations["stimulus_id"].astype(str) == sid]
        counts, _ = fixation_map(fix["x_px"], fix["y_px"], shape)
        if counts.sum() == 0:
            skipped += 1
            continue
        explain = read_arrays(ctx.input("explain") / "items" / f"{sid}.npz")
        human = read_arrays(ctx.input("human_maps") / "items" / f"{sid}.npz")
        reference = np.asarray(human["density"], dtype=np.float64)
        if reference.shape != shape:
            raise DataError(f"human map of {sid} has shape {reference.shape}, stimulus {shape}")
        centre = centre_bias_map(shape, sigma_fraction=mcfg.centre_bias_sigma_fraction)
        other = _other_fixations(fixations, sizes, sid) if len(sizes) > 1 else None
        if other is not None and other.sum() == 0:
            other = None
        maps = {m: explain[f"{m}__stimulus"] for m in network_methods(explain)}
        maps |= {CENTRE_BIAS: centre, UNIFORM: uniform_map(shape)}
        for name, values in maps.items():
            scores = score_map(
                values,
                counts,
                reference,
                baseline_map=centre,
                other_fixations=other,
                n_splits=mcfg.auc_splits,
                emd_max_side_px=mcfg.emd_max_side_px,
                metrics=mcfg.names or None,
                seed=seed,
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
        ceiling = split_half_ceiling(
            fix,
            shape,
            gaussian_density(
                sigma_px, shape, duration_weighted=ctx.config.heatmap.duration_weighted
            ),
            baseline_map=centre,
            other_fixations=other,
            n_splits=mcfg.ceiling_splits,
            metric_splits=max(1, mcfg.auc_splits // 10),
            emd_max_side_px=mcfg.emd_max_side_px,
            metrics=mcfg.names or None,
            seed=seed,
        )
        ceiling_means = ceiling.groupby("metric", sort=False)["value"].mean()
        for metric, value in zip(ceiling_means.index, ceiling_means.to_numpy(), strict=True):
            rows.append(
                {
                    "stimulus_id": sid,
                    "label": label,
                    **ident,
                    "map": CEILING,
                    "metric": metric,
                    "value": value,
                }
            )
    ctx.note("saliency_metrics_images_without_fixations", skipped)
    if not rows:
        raise PipelineError("saliency_metrics: no image has fixations and maps to compare")
    per_image = pd.DataFrame(rows)
    per_image["higher_is_better"] = per_image["metric"].map(higher_is_better)
    write_table(ctx.out_dir / "per_image_metrics.parquet", per_image)
    valid = per_image.dropna(subset=["value"])
    ctx.note("saliency_metrics_undefined_values", int(len(per_image) - len(valid)))
    summary = summarise(
        valid,
        value="value",
        keys=["map", "metric"],
        test=False,
        resamples=cfg.bootstrap_resamples,
        confidence=cfg.confidence,
        seed=ctx.seed("metrics_summary"),
        group="identity",
        interval=cfg.interval,
    )
    summary["value"] = summary["estimate"]
    summary["higher_is_better"] = summary["metric"].map(higher_is_better)
    write_table(ctx.out_dir / "metrics.parquet", summary)
    write_table(
        ctx.out_dir / "metrics_vs_baselines.parquet", _versus(valid, cfg, ctx.seed("versus"))
    )


def _versus(per_image: pd.DataFrame, cfg: Any, seed: int) -> pd.DataFrame:
    wide = per_image.pivot_table(
        index=["stimulus_id", "label", "identity", "session", "metric"],
        columns="map",
        values="value",
    )
    methods = [m for m in wide.columns if m not in (CEILING, CENTRE_BIAS, UNIFORM)]
    frames = []
    for method in methods:
        for base in (CENTRE_BIAS, CEILING):
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
        resamples=cfg.bootstrap_resamples,
        permutations=cfg.permutations,
        confidence=cfg.confidence,
        seed=seed,
        group="identity",
        interval=cfg.interval,
        adjust=cfg.p_adjust,
    )
