"""Gather what the report shows from a run's artifacts, tolerating absent parts.

A report is built from finished stage folders (``run_dir/stages/<name>/<key>/`` with a
``_stage.json``). Each piece (the overview examples, the perturbation curves, ...) is loaded by its
own function, which reads one named artifact of one named stage through the stage's artifact
contract (:mod:`gazealign.pipeline.artifacts`): the file and its columns are the ones the stage
declares, never guessed. A piece whose inputs are absent or unreadable is recorded in
:attr:`ReportInputs.absent` with the reason, and the report says so in that section instead of
failing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from gazealign.config import StudyConfig
from gazealign.errors import DataError, GazeAlignError
from gazealign.pipeline.artifacts import (
    STAGE_RECORD,
    declared,
    has_artifact,
    item_ids,
    read_arrays_artifact,
    read_json_artifact,
    read_table_artifact,
)
from gazealign.pipeline.store import read_json
from gazealign.report.figures import OverviewExample, confusion_counts, label_order

T = TypeVar("T")


@dataclass
class ReportInputs:
    """Everything a report shows; ``None`` where absent (the reason is in ``absent``)."""

    title: str = "gazealign report"
    study_name: str = "study"
    synthetic: bool = False
    study_toml: str = ""
    manifest: dict[str, Any] = field(default_factory=dict)
    stage_records: dict[str, dict[str, Any]] = field(default_factory=dict)
    stage_dirs: dict[str, Path] = field(default_factory=dict)
    overview: list[OverviewExample] | None = None
    overview_method: str = "network"
    curves: pd.DataFrame | None = None
    auc_differences: pd.DataFrame | None = None
    region_shares: pd.DataFrame | None = None
    region_differences: pd.DataFrame | None = None
    metrics: pd.DataFrame | None = None
    train_metrics: dict[str, Any] | None = None
    confusions: dict[str, pd.DataFrame] | None = None
    quality: pd.DataFrame | None = None
    dropped: dict[str, pd.DataFrame] = field(default_factory=dict)
    stimulus_counts: pd.DataFrame | None = None
    sanity_verdicts: pd.DataFrame | None = None
    sanity_layers: pd.DataFrame | None = None
    absent: dict[str, str] = field(default_factory=dict)
    #: The study the run was made with (for sections that remake what a stage did).
    config: StudyConfig | None = None


# --- locating stage folders -------------------------------------------------------------------


def find_stage_dirs(run_dir: Path) -> dict[str, Path]:
    """Finished stage folders of a run, by stage name.

    The key recorded in ``run_dir/manifest.json`` (``stages -> <name> -> key``) wins; a stage
    missing from the manifest falls back to its most recently finished folder under
    ``run_dir/stages/<name>/`` (the one whose record is newest). Unfinished
    (``.partial``) folders are never used.
    """
    out: dict[str, Path] = {}
    manifest_path = run_dir / "manifest.json"
    manifest = read_json(manifest_path) if manifest_path.exists() else {}
    for name, record in (manifest.get("stages") or {}).items():
        key = record.get("key") if isinstance(record, dict) else None
        folder = run_dir / "stages" / name / str(key)
        if key and (folder / STAGE_RECORD).exists():
            out[name] = folder
    stages_root = run_dir / "stages"
    if stages_root.is_dir():
        for stage_folder in sorted(p for p in stages_root.iterdir() if p.is_dir()):
            if stage_folder.name in out:
                continue
            finished = [
                d
                for d in stage_folder.iterdir()
                if d.is_dir() and not d.name.endswith((".partial", ".discard"))
                if (d / STAGE_RECORD).exists()
            ]
            if finished:
                out[stage_folder.name] = max(
                    finished, key=lambda d: ((d / STAGE_RECORD).stat().st_mtime, d.name)
                )
    return out


def stage_order(names: list[str], manifest: Mapping[str, Any]) -> list[str]:
    """Stage names in run order (as the manifest lists them), then any others by name."""
    listed = list((manifest.get("stages") or {}).keys())
    return sorted(names, key=lambda n: (listed.index(n) if n in listed else len(listed), n))


def _only(table: pd.DataFrame, **values: str) -> pd.DataFrame:
    """The rows of ``table`` whose columns hold the given values."""
    keep = np.ones(len(table), dtype=bool)
    for column, value in values.items():
        keep &= (table[column].astype(str) == value).to_numpy()
    return table[keep].reset_index(drop=True)


# --- loading pieces ---------------------------------------------------------------------------


def _attempt(inputs: ReportInputs, piece: str, load: Callable[[], T | None], why: str) -> T | None:
    """Run ``load``; on absence (None) or a data problem record the reason under ``piece``."""
    try:
        value = load()
    except (GazeAlignError, OSError, KeyError, ValueError) as exc:
        inputs.absent[piece] = f"{why}: {exc}"
        return None
    if value is None:
        inputs.absent.setdefault(piece, why)
    return value


def load_overview(
    stimuli_dir: Path, explain_dir: Path, human_dir: Path, *, method: str | None = None
) -> tuple[list[OverviewExample], str] | None:
    """One example face per expression with its human density and network map.

    Takes, per label, the first test-split stimulus (by id) that has both an explain item and a
    human-maps item (any split when no test stimulus has both). Maps are in the stimulus frame:
    the human map's ``density`` and the network's ``<method>__stimulus`` over the image as shown.
    """
    from gazealign.stimuli.artifacts import read_item, read_stimuli_table

    table = read_stimuli_table(stimuli_dir)
    have = set(item_ids(explain_dir, "maps")) & set(item_ids(human_dir, "maps"))
    table = table[table["stimulus_id"].astype(str).isin(have)]
    if table.empty:
        return None
    test = table[table["split"].astype(str) == "test"]
    table = (test if not test.empty else table).sort_values("stimulus_id")
    chosen = table.groupby("label", sort=False).head(1)
    examples: list[OverviewExample] = []
    used_method = method
    for row in chosen.itertuples(index=False):
        sid = str(row.stimulus_id)
        net = read_arrays_artifact(explain_dir, "maps", sid)
        human = read_arrays_artifact(human_dir, "maps", sid)
        if used_method is None:
            methods = sorted(k.removesuffix("__stimulus") for k in net if k.endswith("__stimulus"))
            if not methods:
                raise DataError(f"{explain_dir}: explain item {sid} holds no stimulus-frame map")
            used_method = methods[0]
        if f"{used_method}__stimulus" not in net:
            raise DataError(f"{explain_dir}: explain item {sid} has no map of {used_method!r}")
        examples.append(
            OverviewExample(
                label=str(row.label),
                stimulus_id=sid,
                image=read_item(stimuli_dir, sid).image,
                human_map=np.asarray(human["density"], dtype=np.float64),
                network_map=np.asarray(net[f"{used_method}__stimulus"], dtype=np.float64),
            )
        )
    return examples, used_method or "network"


def load_network_confusion(train_dir: Path) -> pd.DataFrame:
    """The network's test confusion counts (index true label, columns predicted).

    From the train stage's ``confusion`` artifact: a ``label`` column, then one
    ``pred_<label>`` count column per predicted label.
    """
    table = read_table_artifact(train_dir, "confusion")
    wide = table.set_index("label").fillna(0)
    wide.index = wide.index.astype(str)
    wide.columns = [str(c).removeprefix("pred_") for c in wide.columns]
    rows = label_order(list(wide.index))
    cols = label_order([*wide.columns, *rows])
    return wide.reindex(index=rows, columns=cols).fillna(0).astype(np.int64)


def load_human_confusion(gaze_dir: Path) -> pd.DataFrame:
    """Confusion counts of the observers' responses, from the gaze stage's ``trials``."""
    table = read_table_artifact(gaze_dir, "trials")
    table = table[table["label"].notna()]
    return confusion_counts(table["label"].astype(str), table["response"].astype("string"))


def load_quality(gaze_dir: Path) -> pd.DataFrame:
    """Per-subject trial counts: ``subject``, ``trials_kept``, one ``dropped_<reason>`` each.

    From the gaze stage's ``quality`` artifact.
    """
    table = read_table_artifact(gaze_dir, "quality")
    dropped = [
        c
        for c in table.columns
        if c.startswith("dropped_") and pd.api.types.is_numeric_dtype(table[c])
    ]
    return table[["subject", "trials_kept", *dropped]].reset_index(drop=True)


def load_stimulus_counts(stimuli_dir: Path) -> pd.DataFrame:
    """Number of kept stimuli per split and label (rows label, columns split, plus total)."""
    from gazealign.stimuli.artifacts import read_stimuli_table

    table = read_stimuli_table(stimuli_dir)
    counts = pd.crosstab(table["label"].astype(str), table["split"].astype(str))
    counts = counts.reindex(index=label_order(list(counts.index)))
    counts["total"] = counts.sum(axis=1)
    return counts


def load_dropped(stage_dirs: Mapping[str, Path]) -> dict[str, pd.DataFrame]:
    """Every ``dropped`` artifact a stage declares, keyed ``<stage>/<file>``."""
    out: dict[str, pd.DataFrame] = {}
    for name, folder in stage_dirs.items():
        for artifact in declared(folder).values():
            if artifact.name.startswith("dropped") and has_artifact(folder, artifact.name):
                out[f"{name}/{artifact.path}"] = read_table_artifact(folder, artifact.name)
    return out


# --- comparison tables ------------------------------------------------------------------------


def _non_empty(table: pd.DataFrame) -> pd.DataFrame | None:
    return None if table.empty else table


def load_curves(perturbation_dir: Path) -> pd.DataFrame:
    """The mean MoRF accuracy curves (the perturbation stage's ``curves``) of the human, method
    and random orderings; the control orderings have their own section."""
    table = read_table_artifact(perturbation_dir, "curves")
    if "ordering_kind" in table:
        table = table[table["ordering_kind"].astype(str) != "control"]
    return _only(table, order="morf", measure="accuracy")


def load_auc_differences(perturbation_dir: Path) -> pd.DataFrame:
    """Contrasts of the AUC of MoRF accuracy curves (the perturbation stage's
    ``auc_differences``, rows with ``quantity`` auc, ``measure`` accuracy, ``order`` morf)."""
    table = read_table_artifact(perturbation_dir, "auc_differences")
    return _only(table, quantity="auc", measure="accuracy", order="morf")


def load_region_shares(regions_dir: Path) -> pd.DataFrame:
    """Region shares with intervals (the region_shares stage's ``region_shares``)."""
    return read_table_artifact(regions_dir, "region_shares")


def load_region_differences(regions_dir: Path) -> pd.DataFrame | None:
    """Network minus human region shares (``region_shares_difference``; None if not written)."""
    if not has_artifact(regions_dir, "region_shares_difference"):
        return None
    return read_table_artifact(regions_dir, "region_shares_difference")


def load_metrics(metrics_dir: Path) -> pd.DataFrame:
    """Saliency metrics over all images (the saliency_metrics stage's ``metrics``, label all)."""
    return _only(read_table_artifact(metrics_dir, "metrics"), label="all")


# --- all together -----------------------------------------------------------------------------


def gather_inputs(
    stage_dirs: Mapping[str, Path],
    *,
    config: StudyConfig,
    study_toml: str = "",
    manifest: Mapping[str, Any] | None = None,
) -> ReportInputs:
    """Load every piece of the report from finished stage folders; absent pieces are noted.

    ``config`` is the study (title, name, whether it is synthetic, the overview's method);
    ``study_toml`` its text as shown in the report.
    """
    inputs = ReportInputs(
        title=config.report.title,
        study_name=config.study.name,
        synthetic=config.study.synthetic,
        study_toml=study_toml,
        manifest=dict(manifest or {}),
        stage_dirs=dict(stage_dirs),
        config=config,
    )
    for name, folder in stage_dirs.items():
        record_path = folder / STAGE_RECORD
        inputs.stage_records[name] = read_json(record_path) if record_path.exists() else {}
    dirs = stage_dirs

    def need(*names: str) -> str | None:
        missing = [n for n in names if n not in dirs]
        return f"the run has no finished {', '.join(missing)} stage" if missing else None

    def piece(name: str, stage: str, load: Callable[[Path], T | None], why: str) -> T | None:
        """Artifact-backed piece ``name`` of stage ``stage``, or None with the reason noted."""
        if stage not in dirs:
            inputs.absent[name] = need(stage) or ""
            return None
        return _attempt(inputs, name, lambda: load(dirs[stage]), why)

    why = need("stimuli", "explain", "human_maps")
    if why:
        inputs.absent["overview"] = why
    else:
        got = _attempt(
            inputs,
            "overview",
            lambda: load_overview(
                dirs["stimuli"],
                dirs["explain"],
                dirs["human_maps"],
                method=config.report.overview_method,
            ),
            "no stimulus has both a network map and a human map",
        )
        if got is not None:
            inputs.overview, inputs.overview_method = got

    inputs.stimulus_counts = piece(
        "stimulus_counts", "stimuli", load_stimulus_counts, "no stimulus table"
    )
    inputs.train_metrics = piece(
        "train_metrics", "train", lambda d: read_json_artifact(d, "metrics"), "no metrics.json"
    )
    confusions: dict[str, pd.DataFrame] = {}
    net = piece("confusion_network", "train", load_network_confusion, "no confusion table")
    if net is not None:
        confusions["network (test images)"] = net
    human = piece("confusion_human", "gaze", load_human_confusion, "no trials table")
    if human is not None:
        confusions["human responses (all trials)"] = human
    inputs.quality = piece("quality", "gaze", load_quality, "no per-subject trial counts")
    inputs.confusions = confusions or None
    if not confusions:
        inputs.absent.setdefault(
            "confusions", "neither network predictions nor human responses were found"
        )

    inputs.sanity_verdicts = piece(
        "sanity_verdicts",
        "sanity_checks",
        lambda d: _non_empty(read_table_artifact(d, "verdicts")),
        "the sanity checks were not run (sanity.enabled = false)",
    )
    inputs.sanity_layers = piece(
        "sanity_layers",
        "sanity_checks",
        lambda d: _non_empty(read_table_artifact(d, "randomisation_layers")),
        "the sanity checks were not run (sanity.enabled = false)",
    )

    try:
        inputs.dropped = load_dropped(dirs)
    except (GazeAlignError, OSError, ValueError) as exc:
        inputs.absent["dropped"] = f"a table of dropped items is unreadable: {exc}"

    comparison = ("perturbation", "saliency_metrics", "region_shares")
    if not any(n in dirs for n in comparison):
        for name in ("curves", "auc_differences", "region_shares", "region_differences", "metrics"):
            inputs.absent[name] = "the run has no comparison tables (no finished comparison stage)"
        return inputs
    inputs.curves = piece("curves", "perturbation", load_curves, "no perturbation curves")
    inputs.auc_differences = piece(
        "auc_differences", "perturbation", load_auc_differences, "no AUC-difference table"
    )
    inputs.region_shares = piece(
        "region_shares", "region_shares", load_region_shares, "no region-share table"
    )
    inputs.region_differences = piece(
        "region_differences",
        "region_shares",
        load_region_differences,
        "no table of region-share differences",
    )
    inputs.metrics = piece("metrics", "saliency_metrics", load_metrics, "no saliency-metric table")
    return inputs
