"""Stage ``sanity_checks``: do the network's maps depend on its weights and on the class explained?

Runs :mod:`gazealign.explain.sanity` (Adebayo et al. 2018) on every method of
``explain.methods`` (and ``sanity.extra_methods``), with the study's target output and explain
options, on ``sanity.images`` images of ``sanity.split``. Artifacts::

    randomisation_per_image.parquet      per (method, step, layer, stimulus): Spearman and SSIM
                                         of |map| with the trained network's (step 0 = trained)
    randomisation_layers.parquet         per (method, step, layer): median and quartiles
    class_sensitivity_per_image.parquet  per (method, stimulus): r of the true class's map with
                                         the runner-up's and a random other class's (after
                                         explain.sign, and signed)
    verdicts.parquet                     per method: medians, pass/fail, the plain sentence

With ``sanity.enabled = false`` the stage writes empty tables and notes that it was skipped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gazealign.errors import PipelineError
from gazealign.explain.sanity import (
    SanityInputs,
    class_sensitivity,
    randomisation_curve,
    verdicts,
)
from gazealign.explain.stimuli import targets_for
from gazealign.pipeline.artifacts import table as table_artifact
from gazealign.pipeline.registry import stage
from gazealign.pipeline.stage import StageContext
from gazealign.pipeline.store import write_table
from gazealign.stages.common import explain_options, load_trained, stage_device
from gazealign.stimuli.artifacts import read_item, read_stimuli_table

CURVE_COLUMNS = (
    "method",
    "step",
    "layer",
    "layer_kind",
    "stimulus_id",
    "spearman_abs",
    "ssim_abs",
)
CLASS_COLUMNS = (
    "method",
    "stimulus_id",
    "target",
    "runner_up",
    "other",
    "sign",
    "r_runner_up",
    "r_other",
    "r_signed_runner_up",
    "r_signed_other",
    "spearman_abs_runner_up",
)


WRITES = (
    table_artifact(
        "randomisation_per_image",
        "per (method, cascade step, stimulus): similarity to the trained network's map",
        {
            "method": "",
            "step": "0 = trained, k = the top k layers re-drawn",
            "layer": "the layer re-drawn at this step",
            "layer_kind": "conv or dense",
            "stimulus_id": "",
            "spearman_abs": "Spearman of |map|",
            "ssim_abs": "SSIM of |map| / max",
        },
    ),
    table_artifact(
        "randomisation_layers",
        "per (method, step): median and quartiles over images",
        {"method": "", "step": "", "layer": ""},
    ),
    table_artifact(
        "class_sensitivity_per_image",
        "per (method, stimulus): r of the true class's map with other classes' maps",
        {c: "" for c in CLASS_COLUMNS},
    ),
    table_artifact(
        "verdicts",
        "per method: medians, pass/fail of each check, the plain sentence",
        {"method": "", "verdict": "the plain sentence"},
    ),
)


def evenly_spaced(ids: list[str], n: int) -> list[str]:
    """``n`` of the sorted ``ids``, evenly spaced (all of them when there are no more than ``n``)."""
    ids = sorted(ids)
    if len(ids) <= n:
        return ids
    picks = np.unique(np.round(np.linspace(0, len(ids) - 1, n)).astype(int))
    return [ids[i] for i in picks]


def curve_summary(per_image: pd.DataFrame) -> pd.DataFrame:
    """Median and quartiles over images of both similarities per (method, step, layer)."""
    grouped = per_image.groupby(["method", "step", "layer", "layer_kind"], sort=True)
    parts = {}
    for column in ("spearman_abs", "ssim_abs"):
        g = grouped[column]
        parts[f"{column}_median"] = g.median()
        parts[f"{column}_q25"] = g.quantile(0.25)
        parts[f"{column}_q75"] = g.quantile(0.75)
    parts["images"] = grouped["stimulus_id"].nunique()
    return pd.DataFrame(parts).reset_index().sort_values(["method", "step"])


@stage(
    "sanity_checks",
    description="sanity checks of the saliency methods: weight randomisation, class sensitivity",
    reads=("sanity", "explain"),
    needs=("stimuli", "train"),
    writes=WRITES,
)
def run(ctx: StageContext) -> None:
    cfg = ctx.config.sanity
    empty_curve = pd.DataFrame(columns=list(CURVE_COLUMNS))
    empty_class = pd.DataFrame(columns=list(CLASS_COLUMNS))
    if not cfg.enabled:
        ctx.note("sanity_checks", "disabled (sanity.enabled = false)")
        for name, table in (
            ("randomisation_per_image", empty_curve),
            ("randomisation_layers", pd.DataFrame(columns=["method", "step", "layer"])),
            ("class_sensitivity_per_image", empty_class),
            ("verdicts", pd.DataFrame(columns=["method", "verdict"])),
        ):
            write_table(ctx.out_dir / f"{name}.parquet", table)
        return
    table = read_stimuli_table(ctx.input("stimuli"))
    table = table[table["split"].astype(str) == cfg.split]
    chosen = evenly_spaced([str(i) for i in table["stimulus_id"]], cfg.images)
    if not chosen:
        raise PipelineError(f"sanity_checks: no stimuli in split {cfg.split!r}")
    labels = dict(zip(table["stimulus_id"].astype(str), table["label"].astype(str), strict=True))
    bundle = load_trained(ctx.input("train"))
    bundle.model.to(stage_device(ctx))
    items = [read_item(ctx.input("stimuli"), i) for i in chosen]
    targets = targets_for(bundle, [labels[i] for i in chosen], "true")
    assert not isinstance(targets, str)
    inputs = SanityInputs(np.stack([it.model_image for it in items]), targets, chosen)
    ctx.note("sanity_images", len(chosen))
    options = explain_options(ctx.config.explain)
    methods = list(dict.fromkeys([*ctx.config.explain.methods, *cfg.extra_methods]))
    curves: list[pd.DataFrame] = []
    classes: list[pd.DataFrame] = []
    target_output = ctx.config.explain.target_output
    batch_size = ctx.config.explain.batch_size
    for method in ctx.track(methods, total=len(methods), description="sanity checks"):
        curves.append(
            randomisation_curve(
                bundle,
                inputs,
                method=method,
                seed=ctx.seed("randomise"),
                options=options,
                target_output=target_output,
                batch_size=batch_size,
            )
        )
        classes.append(
            class_sensitivity(
                bundle,
                inputs,
                method=method,
                seed=ctx.seed("classes"),
                options=options,
                target_output=target_output,
                sign=ctx.config.explain.sign,
                batch_size=batch_size,
            )
        )
    per_image = pd.concat(curves, ignore_index=True)
    class_table = pd.concat(classes, ignore_index=True)
    write_table(ctx.out_dir / "randomisation_per_image.parquet", per_image)
    write_table(ctx.out_dir / "randomisation_layers.parquet", curve_summary(per_image))
    write_table(ctx.out_dir / "class_sensitivity_per_image.parquet", class_table)
    result = verdicts(
        per_image,
        class_table,
        randomisation_max_spearman=cfg.randomisation_max_spearman,
        class_max_r=cfg.class_max_r,
    ).assign(target_output=ctx.config.explain.target_output)
    write_table(ctx.out_dir / "verdicts.parquet", result)
    ctx.note("sanity_failed_randomisation", int((~result["passes_randomisation"]).sum()))
    ctx.note("sanity_failed_class_sensitivity", int((~result["passes_class_sensitivity"]).sum()))
