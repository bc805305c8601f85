"""Helpers the stages share: which stimuli to compare, the trained network, fixations, screen.

One module for what more than one stage needs, so that no stage imports another stage (a
stage's cache key covers the modules it imports: importing another stage would rerun it
whenever that stage's code changed).
"""

from __future__ import annotations

import zlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy.typing as npt
import pandas as pd

from gazealign.coords import ScreenGeometry
from gazealign.errors import DataError, PipelineError
from gazealign.pipeline.artifacts import artifact_path
from gazealign.pipeline.stage import StageContext
from gazealign.pipeline.store import read_table, write_table
from gazealign.stats.tables import summarise
from gazealign.stimuli.artifacts import read_stimuli_table

if TYPE_CHECKING:
    from gazealign.config.explain import ExplainSection
    from gazealign.explain.base import ExplainOptions
    from gazealign.models.bundle import ModelBundle

#: Columns of every summary table (``gazealign.stats.tables.summarise``): one row per key
#: combination and class (``label``, or ``all``), resampling identities.
SUMMARY_COLUMNS: dict[str, str] = {
    "label": "expression, or 'all'",
    "n": "images",
    "n_groups": "identities (the resampling unit)",
    "estimate": "mean",
    "ci_low": "interval bound",
    "ci_high": "interval bound",
    "confidence": "interval level",
    "interval_method": "bca or percentile",
    "interval_expanded": "small-sample expansion for few identities (Hesterberg 2015)",
}

#: Columns a summary table with tests carries after :data:`SUMMARY_COLUMNS`.
TEST_COLUMNS: dict[str, str] = {
    "p_value": "cluster sign-flip permutation p",
    "p_adjusted": "p adjusted within its family",
    "p_adjust_method": "holm, fdr_bh or none",
    "family_size": "tests in the family of p_adjusted",
    "cohens_dz": "effect size",
}

#: Columns of the per-image tables of the comparison stages (the clusters of inference).
PER_IMAGE_COLUMNS: dict[str, str] = {
    "stimulus_id": "",
    "label": "expression",
    "identity": "person shown (the resampling unit)",
    "session": "",
}

#: The train stage's checkpoint, in its output folder.
CHECKPOINT = "model.safetensors"


def compared_splits(ctx: StageContext) -> tuple[str, ...]:
    """The splits a study compares (``comparison.split``; all three for ``"all"``): the stimuli
    simulated observers view and the human maps are made for."""
    split = ctx.config.comparison.split
    return ("train", "val", "test") if split == "all" else (split,)


def screen_of(ctx: StageContext) -> ScreenGeometry:
    """The study's screen geometry (``[gaze.screen]``)."""
    return ctx.config.gaze.screen.geometry()


def selected_stimuli(ctx: StageContext, split: str) -> pd.DataFrame:
    """Stimuli of ``split`` (or all) that have both an explain item and a human-maps item."""
    table = read_stimuli_table(ctx.input("stimuli"))
    if split != "all":
        table = table[table["split"].astype(str) == split]
    have_net = set(ctx.items_of("explain", "maps"))
    have_human = set(ctx.items_of("human_maps", "maps"))
    ids = table["stimulus_id"].astype(str)
    keep = ids.isin(have_net & have_human)
    ctx.note(f"{ctx.stage}_images", int(keep.sum()))
    ctx.note(f"{ctx.stage}_images_without_maps", int((~keep).sum()))
    return table[keep].sort_values("stimulus_id").reset_index(drop=True)


def stimulus_clusters(table: pd.DataFrame) -> pd.DataFrame:
    """``stimulus_id, identity, session`` of the stimuli table: the clusters of inference.

    ``identity`` is the person shown (the stimuli table's ``subject``); every pooled estimate
    resamples identities, and every per-image table carries both columns.
    """
    out = pd.DataFrame(
        {
            "stimulus_id": table["stimulus_id"].astype(str),
            "identity": table["subject"].astype(str),
            "session": table["session"].fillna("").astype(str) if "session" in table else "",
        }
    )
    return out.reset_index(drop=True)


#: The study keys behind :func:`inference_options` (every comparison stage reads them).
INFERENCE_KEYS: tuple[str, ...] = (
    "comparison.split",
    "comparison.bootstrap_resamples",
    "comparison.permutations",
    "comparison.confidence",
    "comparison.interval",
    "comparison.expand_intervals",
    "comparison.p_adjust",
)


def inference_options(ctx: StageContext) -> dict[str, Any]:
    """The keyword arguments of :func:`gazealign.stats.tables.summarise` for this study:
    identities resampled (``group="identity"``), interval method and expansion, resamples,
    permutations, confidence and the per-class p adjustment of ``[comparison]``."""
    cfg = ctx.config.comparison
    return {
        "resamples": cfg.bootstrap_resamples,
        "permutations": cfg.permutations,
        "confidence": cfg.confidence,
        "group": "identity",
        "interval": cfg.interval,
        "expand": cfg.expand_intervals,
        "adjust": cfg.p_adjust,
    }


def write_and_summarise(
    ctx: StageContext,
    per_image: pd.DataFrame,
    *,
    file_name: str,
    value: str,
    keys: list[str],
    undefined_note: str,
    seed_name: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write a per-image table, count its undefined ``value`` rows as the note ``undefined_note``
    and summarise the defined ones per ``keys`` with the study's inference options.

    Returns
    -------
    (valid, summary)
        The per-image rows with a defined value, and the summary table, whose ``value`` column
        repeats its ``estimate``.
    """
    write_table(ctx.out_dir / file_name, per_image)
    valid = per_image.dropna(subset=[value])
    ctx.note(undefined_note, int(len(per_image) - len(valid)))
    summary = summarise(
        valid,
        value=value,
        keys=keys,
        test=False,
        seed=ctx.seed(seed_name),
        **inference_options(ctx),
    )
    summary[value] = summary["estimate"]
    return valid, summary


def network_methods(explain_item: dict[str, npt.NDArray[Any]]) -> list[str]:
    """Methods of an explain item: every ``<method>`` that has a ``<method>__stimulus`` twin."""
    return sorted(k for k in explain_item if f"{k}__stimulus" in explain_item)


def read_fixations(ctx: StageContext) -> pd.DataFrame:
    """The gaze stage's fixations in the stimulus frame (correct trials when so configured)."""
    path = ctx.artifact("gaze", "fixations")
    table = read_table(path)
    missing = [
        c for c in ("subject", "stimulus_id", "x_px", "y_px", "duration_ms") if c not in table
    ]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}")
    if "frame" in table and set(table["frame"].astype(str).unique()) - {"stimulus"}:
        raise DataError(f"{path}: fixations must be in the 'stimulus' frame for comparison")
    if ctx.config.gaze.correct_only and "correct" in table:
        before = len(table)
        table = table[table["correct"].fillna(False).astype(bool)]
        ctx.note(f"{ctx.stage}_fixations_dropped_incorrect", before - len(table))
    return table.reset_index(drop=True)


def explain_options(cfg: ExplainSection) -> ExplainOptions:
    """The explainers' options from the study's ``[explain]`` table."""
    from gazealign.explain.base import ExplainOptions

    return ExplainOptions.from_section(cfg)


def load_trained(train_dir: Path) -> ModelBundle:
    """The network a finished ``train`` stage wrote (a fresh copy, eval mode)."""
    from gazealign.models.io import load_bundle

    path = artifact_path(train_dir, "model")
    if not path.exists():
        raise PipelineError(f"{path}: the train stage left no model checkpoint")
    return load_bundle(path)


@lru_cache(maxsize=2)
def _cached_bundle(train_dir: str, mtime_ns: int) -> ModelBundle:
    del mtime_ns  # part of the cache key only
    bundle = load_trained(Path(train_dir))
    bundle.model.eval()
    return bundle


def cached_model(train_dir: Path, device: str = "cpu") -> ModelBundle:
    """The train stage's network, loaded once per process (``device``: cpu, cuda or auto)."""
    from gazealign.models.device import resolve_device

    path = artifact_path(train_dir, "model")
    if not path.exists():
        raise PipelineError(f"{path}: the train stage left no model checkpoint")
    bundle = _cached_bundle(str(train_dir), path.stat().st_mtime_ns)
    bundle.model.to(resolve_device(device))
    return bundle


def stage_device(ctx: StageContext) -> str:
    """The device ``study.device`` resolves to ("cpu", "cuda"), noted as the stage's ``device``
    (in ``_stage.json``; per item in item records)."""
    from gazealign.models.device import resolve_device

    device = str(resolve_device(ctx.config.study.device))
    ctx.note("device", device)
    return device


def item_seed(base: int, stimulus_id: str) -> int:
    """A per-image seed from a stage seed and the stimulus id (independent of run order)."""
    return (base + zlib.crc32(stimulus_id.encode())) % 2**32


def recorded_seed(stage_dir: Path, name: str) -> int:
    """The seed ``name`` a finished stage derived (``ctx.seed(name)``), from its record.

    For a later stage or the report that must remake what that stage made (the perturbation
    fill of an image, say) with the very seed it used.
    """
    from gazealign.pipeline.artifacts import STAGE_RECORD
    from gazealign.pipeline.store import read_json

    path = stage_dir / STAGE_RECORD
    if not path.exists():
        raise PipelineError(f"{stage_dir}: not a finished stage folder (no {STAGE_RECORD})")
    seeds = read_json(path).get("seeds") or {}
    if name not in seeds:
        raise PipelineError(f"{path}: the stage recorded no seed {name!r} (it ran no item?)")
    return int(seeds[name])
