"""The ``perturbation_robustness`` stage: the headline contrast over tile sizes and fills.

The headline of the perturbation analysis is the MoRF AUC difference human - <method> (a negative
difference: the human order removes the network's evidence sooner). It is measured at one tile
size and one fill (``[comparison.perturbation]``). This stage measures it again for every
(tile_px, fill) pair of ``[comparison.robustness]`` and says whether it keeps its sign.

Per item (``items/<stimulus_id>.npz``, resumable), for the perturbation stage's stimuli:

    true_class                   int
    orderings                    (n_orderings,) names: human, then the network methods
    <tile>px__<fill>__order      (n_orderings, n_tiles) MoRF tile orders at that tile size
    <tile>px__<fill>__prob       (n_orderings, n_tiles + 1) true-class probability; 0 = intact
    <tile>px__<fill>__correct    (n_orderings, n_tiles + 1) bool, arg-max == true class

Orders are ranked exactly as the perturbation stage ranks them (``tile_score``, ``tile_sign``,
``compare.perturbation.tile_order``); the fill image of an image is made with the seed the
perturbation stage recorded for its fills, and the network runs in the precision that stage
chose, so the sweep's row for the study's own tile size and fill has the perturbation stage's
per-image AUCs and point estimates (its interval is a fresh bootstrap).

Afterwards (aggregate), with the statistics of the perturbation stage (identity-clustered
bootstrap interval, identity sign-flip permutation p; :func:`gazealign.stats.tables.summarise`):

    per_image_areas.parquet   per (image, tile_px, fill, ordering, measure): MoRF AUC
    contrasts.parquet         per (tile_px, fill, measure, contrast human - <method>), over all
                              images: mean difference, interval, p
    sign_agreement.parquet    per (measure, contrast): the perturbation stage's estimate, and the
                              pairs whose estimate has the other sign or whose interval holds 0
    summary.json              whether the sweep ran, its pairs

The sweep is off unless ``[comparison.robustness]`` lists tile sizes or fills (then only
``summary.json`` is written): it costs about (sum over tile sizes of their tile count) x fills x
(1 + methods) network passes per image.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gazealign.compare import perturbation as pt
from gazealign.compare.tile_ranking import ranking_map
from gazealign.config.robustness import sweep_combinations
from gazealign.errors import DataError
from gazealign.pipeline.artifacts import (
    items,
    other,
    read_table_artifact,
    table,
)
from gazealign.pipeline.registry import stage
from gazealign.pipeline.stage import StageContext
from gazealign.pipeline.store import read_arrays, write_json, write_table
from gazealign.stages import common
from gazealign.stages.common import cached_model, selected_stimuli, stage_device
from gazealign.stats.tables import summarise
from gazealign.stimuli.artifacts import read_item, read_stimuli_table

#: Measures whose MoRF areas are compared (the headline is accuracy).
MEASURES = {"correct": "accuracy", "prob": "probability"}

_PAIR = {
    "tile_px": "tile side in model-input px",
    "fill": "what replaced a removed tile",
    "grid_rows": "tile rows over the model input",
    "grid_cols": "tile columns over the model input",
    "study_setting": "bool: the perturbation stage's own tile_px and fill",
}

WRITES = (
    other("summary", "summary.json", "json", "enabled (bool), the (tile_px, fill) pairs"),
    items(
        "curves_per_item",
        "per image: MoRF orders and curves of human and every method, per (tile_px, fill)",
        {
            "true_class": "int",
            "orderings": "(n_orderings,) human, then the network methods",
            "<tile>px__<fill>__order": "(n_orderings, n_tiles) tile numbers",
            "<tile>px__<fill>__<prob|correct>": "(n_orderings, n_tiles + 1), step 0 intact",
        },
        frame="model_input",
    ),
    table(
        "per_image_areas",
        "per (image, tile_px, fill, ordering, measure): area under the MoRF curve",
        {**common.PER_IMAGE_COLUMNS, **_PAIR, "ordering": "", "measure": "", "auc": ""},
        optional=True,
    ),
    table(
        "contrasts",
        "per (tile_px, fill, measure): human - <method> MoRF AUC over all images",
        {**_PAIR, "measure": "", "contrast": "human - <method>"}
        | common.SUMMARY_COLUMNS
        | common.TEST_COLUMNS,
        optional=True,
    ),
    table(
        "sign_agreement",
        "per (measure, contrast): does the contrast keep the perturbation stage's sign",
        {
            "measure": "",
            "contrast": "",
            "reference_estimate": "the perturbation stage's estimate (its tile_px and fill)",
            "reference_ci_low": "",
            "reference_ci_high": "",
            "pairs": "(tile_px, fill) pairs swept",
            "same_sign": "pairs whose estimate has the reference's sign",
            "keeps_sign": "bool: every pair has",
            "other_sign": "the pairs whose estimate has the other sign ('; '-separated)",
            "interval_holds_zero": "the pairs whose interval includes 0",
        },
        optional=True,
    ),
)


def pair_name(tile_px: int, fill: str) -> str:
    """How a (tile_px, fill) pair is named in tables and the report."""
    return f"{tile_px} px / {fill}"


def _key(tile_px: int, fill: str) -> str:
    return f"{tile_px}px__{fill}"


def _items(ctx: StageContext) -> list[str]:
    if not sweep_combinations(ctx.config):
        return []
    return selected_stimuli(ctx, ctx.config.comparison.split)["stimulus_id"].astype(str).tolist()


def _bf16(ctx: StageContext) -> bool:
    """Whether the sweep runs in bf16: only where the study says ``bf16 = true``.

    Under ``"auto"`` the sweep runs float32 whatever the perturbation stage's check decided:
    that check compares bf16 with float32 on the study's own tile size and fill only, and the
    sweep's other settings can sit nearer decision ties (on the test study, bf16 moved the
    8 px mean-fill contrast by 0.04 where the checked noise fill agreed exactly). So under
    "auto" the sweep's own pair equals the perturbation stage's AUCs where that stage ran
    float32, and is within the check's tolerance of them where it ran bf16.
    """
    return ctx.config.comparison.perturbation.bf16 is True


def sweep_item(ctx: StageContext, stimulus_id: str) -> dict[str, npt.NDArray[Any]]:
    """Every (tile_px, fill) pair's MoRF curves of human and network orders for one image."""
    cfg = ctx.config.comparison.perturbation
    bundle = cached_model(ctx.input("train"), stage_device(ctx))
    stimuli = read_stimuli_table(ctx.input("stimuli"))
    label = stimuli.set_index(stimuli["stimulus_id"].astype(str)).at[stimulus_id, "label"]
    if str(label) not in bundle.labels:
        raise DataError(f"stimulus {stimulus_id}: label {label!r} is not a network class")
    true_class = bundle.labels.index(str(label))
    image = read_item(ctx.input("stimuli"), stimulus_id).model_image
    explain = read_arrays(ctx.artifact("explain", "maps", stimulus_id))
    maps = [read_arrays(ctx.artifact("human_maps", "maps", stimulus_id))["density_model"]]
    methods = common.network_methods(explain)
    maps += [ranking_map(explain, m, cfg.tile_sign) for m in methods]
    seed = common.item_seed(common.recorded_seed(ctx.input("perturbation"), "fill"), stimulus_id)
    bf16 = _bf16(ctx)
    out: dict[str, npt.NDArray[Any]] = {
        "true_class": np.int64(true_class),  # type: ignore[dict-item]
        "orderings": np.array(["human", *methods]),
    }
    fills: dict[str, npt.NDArray[np.uint8]] = {}
    for tile_px, fill in sweep_combinations(ctx.config):
        grid = pt.TileGrid(image.shape[0], image.shape[1], tile_px)
        orders = np.stack([pt.tile_order(v, grid, score=cfg.tile_score) for v in maps])
        if fill not in fills:
            fills[fill] = pt.fill_image(image, fill, seed=seed, blur_sigma_px=cfg.blur_sigma_px)
        curves = pt.perturbation_curves(
            bundle,
            image,
            true_class,
            orders,
            grid,
            fills[fill],
            batch_size=cfg.batch_size,
            bf16=bf16,
            incremental=cfg.incremental,
        )
        key = _key(tile_px, fill)
        out[f"{key}__order"] = orders
        out[f"{key}__prob"] = curves.probability
        out[f"{key}__correct"] = curves.correct
    return out


# --- aggregate --------------------------------------------------------------------------------


def item_areas(
    stimulus_id: str, label: str, arrays: dict[str, npt.NDArray[Any]], pairs: list[tuple[int, str]]
) -> pd.DataFrame:
    """Per (tile_px, fill, ordering, measure) the MoRF AUC of one item."""
    orderings = [str(o) for o in arrays["orderings"]]
    rows = []
    for tile_px, fill in pairs:
        for suffix, measure in MEASURES.items():
            curves = np.asarray(arrays[f"{_key(tile_px, fill)}__{suffix}"], dtype=np.float64)
            auc = pt.curve_auc(curves)
            for ordering, value in zip(orderings, auc, strict=True):
                rows.append((stimulus_id, label, tile_px, fill, ordering, measure, float(value)))
    return pd.DataFrame(
        rows, columns=["stimulus_id", "label", "tile_px", "fill", "ordering", "measure", "auc"]
    )


def differences(per_image: pd.DataFrame) -> pd.DataFrame:
    """Per image and (tile_px, fill, measure): human - <method> of the MoRF AUCs."""
    ids = [c for c in ("stimulus_id", "label", "identity", "session") if c in per_image]
    wide = per_image.pivot_table(
        index=[*ids, "tile_px", "fill", "measure"], columns="ordering", values="auc"
    )
    frames = [
        (wide["human"] - wide[m]).rename("difference").reset_index().assign(contrast=f"human - {m}")
        for m in sorted(c for c in wide.columns if c != "human")
    ]
    return pd.concat(frames, ignore_index=True)


def sign_agreement(contrasts: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Per (measure, contrast): how many pairs have the reference estimate's sign, and which
    do not (or have an interval holding 0).

    ``reference``: the perturbation stage's ``auc_differences`` rows (label all, AUC, MoRF).
    """
    rows = []
    for (measure, contrast), sub in contrasts.groupby(["measure", "contrast"], sort=True):
        ref = reference[
            (reference["measure"].astype(str) == measure)
            & (reference["contrast"].astype(str) == contrast)
        ]
        if ref.empty:
            raise DataError(f"the perturbation stage has no {measure} MoRF AUC row for {contrast}")
        r = ref.iloc[0]
        sign = np.sign(float(r["estimate"]))
        names = [
            pair_name(int(t), str(f)) for t, f in zip(sub["tile_px"], sub["fill"], strict=True)
        ]
        same = np.sign(sub["estimate"].to_numpy(dtype=np.float64)) == sign
        holds = (sub["ci_low"] <= 0).to_numpy() & (sub["ci_high"] >= 0).to_numpy()
        rows.append(
            {
                "measure": measure,
                "contrast": contrast,
                "reference_estimate": float(r["estimate"]),
                "reference_ci_low": float(r["ci_low"]),
                "reference_ci_high": float(r["ci_high"]),
                "pairs": len(sub),
                "same_sign": int(same.sum()),
                "keeps_sign": bool(same.all()),
                "other_sign": "; ".join(n for n, s in zip(names, same, strict=True) if not s),
                "interval_holds_zero": "; ".join(n for n, h in zip(names, holds, strict=True) if h),
            }
        )
    return pd.DataFrame(rows)


@stage(
    "perturbation_robustness",
    description="The headline human - network MoRF contrast over tile sizes and fills.",
    reads=("comparison.robustness", "comparison.perturbation", *common.INFERENCE_KEYS),
    needs=("stimuli", "train", "explain", "human_maps", "perturbation"),
    writes=WRITES,
    unkeyed=("comparison.perturbation.incremental",),
    items=_items,
    run_item=sweep_item,
)
def _aggregate(ctx: StageContext) -> None:
    pairs = sweep_combinations(ctx.config)
    write_json(
        ctx.out_dir / "summary.json",
        {"enabled": bool(pairs), "pairs": [{"tile_px": t, "fill": f} for t, f in pairs]},
    )
    ctx.note("robustness_pairs", len(pairs))
    if not pairs:
        return
    cfg = ctx.config.comparison
    stimuli = selected_stimuli(ctx, cfg.split)
    frames = [
        item_areas(
            str(r.stimulus_id), str(r.label), read_arrays(ctx.item_path(str(r.stimulus_id))), pairs
        )
        for r in ctx.track(stimuli.itertuples(index=False), total=len(stimuli), description="areas")
    ]
    per_image = pd.concat(frames, ignore_index=True).merge(
        common.stimulus_clusters(stimuli), on="stimulus_id", how="left", validate="many_to_one"
    )
    image = read_item(ctx.input("stimuli"), str(stimuli["stimulus_id"].iloc[0])).model_image
    grids = {t: pt.TileGrid(image.shape[0], image.shape[1], t) for t, _ in pairs}
    own = (cfg.perturbation.tile_px, cfg.perturbation.fill)

    def stamp(t: pd.DataFrame) -> pd.DataFrame:
        return t.assign(
            grid_rows=t["tile_px"].map(lambda v: grids[int(v)].n_tile_rows),
            grid_cols=t["tile_px"].map(lambda v: grids[int(v)].n_tile_cols),
            study_setting=[
                (int(a), str(b)) == own for a, b in zip(t["tile_px"], t["fill"], strict=True)
            ],
        )

    write_table(ctx.out_dir / "per_image_areas.parquet", stamp(per_image))
    diffs = differences(per_image).dropna(subset=["difference"])
    summary = summarise(
        diffs,
        value="difference",
        keys=["tile_px", "fill", "measure", "contrast"],
        by_class=None,
        seed=ctx.seed("statistics"),
        **common.inference_options(ctx),
    )
    summary["label"] = "all"
    write_table(ctx.out_dir / "contrasts.parquet", stamp(summary))
    reference = read_table_artifact(ctx.input("perturbation"), "auc_differences")
    reference = reference[
        (reference["label"].astype(str) == "all")
        & (reference["quantity"].astype(str) == "auc")
        & (reference["order"].astype(str) == "morf")
    ]
    write_table(ctx.out_dir / "sign_agreement.parquet", sign_agreement(summary, reference))
