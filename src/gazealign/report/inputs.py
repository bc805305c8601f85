"""Gather what the report shows from a run's artifacts, tolerating absent parts.

A report is built from finished stage folders (``run_dir/stages/<name>/<key>/`` with a
``_stage.json``). Each piece (the overview examples, the perturbation curves, ...) is loaded by its
own function; a piece whose inputs are absent or unreadable is recorded in
:attr:`ReportInputs.absent` with the reason, and the report says so in that section instead of
failing. Tables are brought to the long-form columns the figure functions document
(:mod:`gazealign.report.figures`) by :func:`normalise_columns`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from gazealign.errors import DataError, GazeAlignError
from gazealign.pipeline.store import read_arrays, read_json, read_table
from gazealign.report.figures import CURVE_COLUMNS, OverviewExample, confusion_counts, label_order

T = TypeVar("T")

#: Stages every study has; any other stage before ``report`` is a comparison stage.
CORE_STAGES = ("stimuli", "train", "explain", "gaze", "human_maps")
#: Stages the report reads by name (their tables are not comparison tables).
NAMED_STAGES = ("sanity_checks",)


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


# --- locating stage folders -------------------------------------------------------------------


def find_stage_dirs(run_dir: Path) -> dict[str, Path]:
    """Finished stage folders of a run, by stage name.

    The key recorded in ``run_dir/manifest.json`` (``stages -> <name> -> key``) wins; a stage
    missing from the manifest falls back to its most recently finished folder under
    ``run_dir/stages/<name>/`` (the one whose ``_stage.json`` is newest). Unfinished
    (``.partial``) folders are never used.
    """
    out: dict[str, Path] = {}
    manifest_path = run_dir / "manifest.json"
    manifest = read_json(manifest_path) if manifest_path.exists() else {}
    for name, record in (manifest.get("stages") or {}).items():
        key = record.get("key") if isinstance(record, dict) else None
        folder = run_dir / "stages" / name / str(key)
        if key and (folder / "_stage.json").exists():
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
                if (d / "_stage.json").exists()
            ]
            if finished:
                out[stage_folder.name] = max(
                    finished, key=lambda d: ((d / "_stage.json").stat().st_mtime, d.name)
                )
    return out


def stage_order(names: list[str], manifest: Mapping[str, Any]) -> list[str]:
    """Stage names in run order: core stages first, then others as the manifest lists them."""
    listed = list((manifest.get("stages") or {}).keys())
    return sorted(
        names,
        key=lambda n: (
            CORE_STAGES.index(n) if n in CORE_STAGES else len(CORE_STAGES),
            listed.index(n) if n in listed else len(listed),
            n,
        ),
    )


# --- column normalisation ---------------------------------------------------------------------

#: Accepted alternative column names, per canonical name.
ALIASES: dict[str, tuple[str, ...]] = {
    "label": ("label", "expression", "class", "true_label"),
    "ordering": ("ordering", "order_by", "ranking", "source", "map"),
    "step": ("step", "steps", "tiles_removed", "k"),
    "value": ("value", "mean", "estimate", "accuracy", "score"),
    "ci_low": ("ci_low", "ci_lower", "lower", "low", "lo"),
    "ci_high": ("ci_high", "ci_upper", "upper", "high", "hi"),
    "estimate": ("estimate", "difference", "diff", "mean_difference", "value", "mean"),
    "contrast": ("contrast", "comparison"),
    "region": ("region", "aoi"),
    "source": ("source", "map", "kind", "who"),
    "share": ("share", "value", "mean", "estimate"),
    "metric": ("metric",),
    "map": ("map", "model", "method", "source", "baseline"),
    "subject": ("subject", "participant"),
    "trials_kept": ("trials_kept", "kept", "n_kept", "trials_used"),
}


def normalise_columns(table: pd.DataFrame, wanted: tuple[str, ...]) -> pd.DataFrame:
    """Rename the first alias found of each ``wanted`` canonical column; others stay as they are."""
    renames: dict[str, str] = {}
    taken = set(table.columns)
    for canonical in wanted:
        if canonical in table.columns:
            continue
        for alias in ALIASES.get(canonical, ()):
            if alias in taken and alias not in renames and alias not in wanted:
                renames[alias] = canonical
                break
    return table.rename(columns=renames)


def _filter_if(table: pd.DataFrame, column: str, preferred: tuple[str, ...]) -> pd.DataFrame:
    """Keep the rows whose ``column`` has the first present value of ``preferred``."""
    if column not in table.columns:
        return table
    values = set(table[column].astype(str))
    for value in preferred:
        if value in values:
            return table[table[column].astype(str) == value]
    return table


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
    human-maps item (any split when no test stimulus has both). Maps come from the stimulus frame
    (``density`` and ``<method>__stimulus``) when both exist, else from the model-input frame
    (``density_model``, ``<method>``, over ``model_image``).
    """
    from gazealign.stimuli.artifacts import read_item, read_stimuli_table

    table = read_stimuli_table(stimuli_dir)
    have = {p.stem for p in (explain_dir / "items").glob("*.npz")} & {
        p.stem for p in (human_dir / "items").glob("*.npz")
    }
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
        net = read_arrays(explain_dir / "items" / f"{sid}.npz")
        human = read_arrays(human_dir / "items" / f"{sid}.npz")
        if used_method is None:
            candidates = sorted(
                k.removesuffix("__stimulus") for k in net if k.endswith("__stimulus")
            )
            candidates = candidates or sorted(k for k in net if net[k].ndim == 2)
            if not candidates:
                raise DataError(f"{explain_dir / 'items' / sid}.npz: holds no 2-D map")
            used_method = candidates[0]
        item = read_item(stimuli_dir, sid)
        h: npt.NDArray[Any] | None
        n: npt.NDArray[Any] | None
        if f"{used_method}__stimulus" in net and "density" in human:
            image, h, n = item.image, human["density"], net[f"{used_method}__stimulus"]
        else:
            image = item.model_image
            h = human.get("density_model")
            n = net.get(used_method)
        examples.append(
            OverviewExample(
                label=str(row.label),
                stimulus_id=sid,
                image=image,
                human_map=None if h is None else np.asarray(h, dtype=np.float64),
                network_map=None if n is None else np.asarray(n, dtype=np.float64),
            )
        )
    return examples, used_method or "network"


def read_any_table(path: Path) -> pd.DataFrame:
    """A Parquet or CSV table."""
    if path.suffix == ".parquet":
        return read_table(path)
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV table ({exc})") from None


def load_network_confusion(train_dir: Path) -> pd.DataFrame | None:
    """The network's test confusion counts (index true label, columns predicted).

    Reads ``confusion.csv`` (wide: first column the true label; or long: ``true``,
    ``predicted``, ``count``); falls back to ``predictions.parquet`` (``label``/``true`` and
    ``predicted`` columns, test split when a ``split`` column exists).
    """
    path = train_dir / "confusion.csv"
    if path.exists():
        table = pd.read_csv(path)
        lower = {c.lower(): c for c in table.columns}
        if {"true", "predicted", "count"} <= set(lower):
            wide = table.pivot_table(
                index=lower["true"],
                columns=lower["predicted"],
                values=lower["count"],
                aggfunc="sum",
            )
        else:
            wide = table.set_index(table.columns[0])
        wide = wide.fillna(0)
        wide.index = wide.index.astype(str)
        # the train stage names prediction columns pred_<label>
        wide.columns = [str(c).removeprefix("pred_") for c in wide.columns]
        rows = label_order(list(wide.index))
        cols = label_order([*wide.columns, *rows])
        return wide.reindex(index=rows, columns=cols).fillna(0).astype(np.int64)
    path = train_dir / "predictions.parquet"
    if path.exists():
        table = read_table(path)
        if "split" in table.columns and (table["split"].astype(str) == "test").any():
            table = table[table["split"].astype(str) == "test"]
        true_col = next((c for c in ("label", "true", "true_label") if c in table.columns), None)
        pred_col = next(
            (c for c in ("predicted", "prediction", "pred") if c in table.columns), None
        )
        if true_col is None or pred_col is None:
            raise DataError(f"{path}: needs a true-label and a 'predicted' column")
        return confusion_counts(table[true_col].astype(str), table[pred_col].astype(str))
    return None


def load_human_confusion(gaze_dir: Path) -> pd.DataFrame | None:
    """Confusion counts of the observers' responses, from ``trials.parquet`` (label, response)."""
    path = gaze_dir / "trials.parquet"
    if not path.exists():
        return None
    table = read_table(path)
    if "label" not in table.columns or "response" not in table.columns:
        raise DataError(f"{path}: needs 'label' and 'response' columns for a confusion matrix")
    table = table[table["label"].notna()]
    return confusion_counts(table["label"].astype(str), table["response"].astype("string"))


def load_quality(gaze_dir: Path) -> pd.DataFrame | None:
    """Per-subject trial counts: ``subject``, ``trials_kept``, ``dropped_<reason>`` columns.

    From ``quality.parquet`` when it has a kept count; otherwise counted from ``trials.parquet``
    (``kept`` boolean column plus an optional ``drop_reason``/``reason`` column).
    """
    path = gaze_dir / "quality.parquet"
    if path.exists():
        table = normalise_columns(read_table(path), ("subject", "trials_kept"))
        if {"subject", "trials_kept"} <= set(table.columns):
            dropped = [
                c
                for c in table.columns
                if c.startswith(("dropped_", "trials_dropped_"))
                and pd.api.types.is_numeric_dtype(table[c])
            ]
            out = table[["subject", "trials_kept", *dropped]].copy()
            out.columns = ["subject", "trials_kept"] + [
                "dropped_" + c.removeprefix("trials_").removeprefix("dropped_") for c in dropped
            ]
            return out
    path = gaze_dir / "trials.parquet"
    if path.exists():
        trials = read_table(path)
        if {"subject", "kept"} <= set(trials.columns):
            kept = trials["kept"].astype(bool)
            out = trials[kept].groupby("subject").size().rename("trials_kept").to_frame()
            reason = next(
                (c for c in ("drop_reason", "reason", "dropped") if c in trials.columns), None
            )
            lost = trials[~kept]
            if reason is not None and not lost.empty:
                counts = lost.groupby(["subject", reason]).size().unstack(fill_value=0)
                counts.columns = [f"dropped_{c}" for c in counts.columns]
                out = out.join(counts, how="outer")
            elif not lost.empty:
                out = out.join(lost.groupby("subject").size().rename("dropped_other"), how="outer")
            return out.fillna(0).astype(np.int64).reset_index()
    return None


def load_stimulus_counts(stimuli_dir: Path) -> pd.DataFrame:
    """Number of kept stimuli per split and label (rows label, columns split, plus total)."""
    from gazealign.stimuli.artifacts import read_stimuli_table

    table = read_stimuli_table(stimuli_dir)
    counts = pd.crosstab(table["label"].astype(str), table["split"].astype(str))
    counts = counts.reindex(index=label_order(list(counts.index)))
    counts["total"] = counts.sum(axis=1)
    return counts


def load_dropped(stage_dirs: Mapping[str, Path]) -> dict[str, pd.DataFrame]:
    """Every ``dropped*.csv`` / ``dropped*.parquet`` a stage wrote, keyed ``<stage>/<file>``."""
    out: dict[str, pd.DataFrame] = {}
    for name, folder in stage_dirs.items():
        for path in sorted(folder.glob("dropped*")):
            if path.suffix == ".csv" and path.with_suffix(".parquet").exists():
                continue  # the CSV twin of a Parquet table
            if path.suffix in {".csv", ".parquet"}:
                out[f"{name}/{path.name}"] = read_any_table(path)
    return out


# --- comparison tables ------------------------------------------------------------------------


def _comparison_tables(stage_dirs: Mapping[str, Path]) -> list[tuple[str, pd.DataFrame]]:
    found: list[tuple[str, pd.DataFrame]] = []
    for name, folder in stage_dirs.items():
        if name in CORE_STAGES or name in NAMED_STAGES or name == "report":
            continue
        for path in sorted(folder.rglob("*.parquet")):
            if "items" in path.relative_to(folder).parts or "per_image" in path.name:
                continue  # per-image tables are the inputs of the summaries, not shown
            found.append((f"{name}/{path.relative_to(folder)}", read_table(path)))
    return found


def _non_empty(table: pd.DataFrame) -> pd.DataFrame | None:
    return None if table.empty else table


def _first(
    tables: list[tuple[str, pd.DataFrame]],
    test: Callable[[str, pd.DataFrame], bool],
    *,
    preferred: tuple[str, ...] = (),
) -> pd.DataFrame | None:
    """The table named ``preferred`` (first found), else the first that passes ``test``."""
    for wanted in preferred:
        for name, table in tables:
            if Path(name).name == wanted:
                return table
    for name, table in tables:
        if test(name, table):
            return table
    return None


def _name_has(name: str, *words: str) -> bool:
    stem = Path(name).name.lower()
    return any(w in stem for w in words)


def find_curves(tables: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame | None:
    """Perturbation curves in the columns of :func:`~gazealign.report.figures.perturbation_figure`.

    ``curves.parquet`` (the perturbation stage), else a table named like ``*curve*`` with a step
    column; keeps the MoRF order and the accuracy measure when those columns exist.
    """
    table = _first(
        tables,
        lambda n, t: _name_has(n, "curve") and "step" in normalise_columns(t, ("step",)).columns,
        preferred=("curves.parquet",),
    )
    if table is None:
        return None
    table = normalise_columns(table, ("label", "ordering", "step", "value", "ci_low", "ci_high"))
    table = _filter_if(table, "order", ("morf",))
    table = _filter_if(table, "measure", ("accuracy",))
    if "label" not in table.columns:
        table = table.assign(label="all")
    missing = [c for c in CURVE_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(
            f"perturbation curves: no column for {missing}; columns {list(table.columns)}"
        )
    return table.reset_index(drop=True)


def find_auc_differences(tables: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame | None:
    """AUC differences with CIs: ``label``, ``contrast``, ``estimate``, ``ci_low``, ``ci_high``.

    ``auc_differences.parquet`` (the perturbation stage), restricted to the AUC of MoRF accuracy
    curves (the rows with ``quantity`` auc, ``measure`` accuracy, ``order`` morf).
    """
    wanted = ("label", "contrast", "estimate", "ci_low", "ci_high")
    table = _first(
        tables,
        lambda n, t: _name_has(n, "auc") and "contrast" in t.columns,
        preferred=("auc_differences.parquet",),
    )
    if table is None:
        return None
    table = normalise_columns(table, wanted)
    table = _filter_if(table, "quantity", ("auc",))
    table = _filter_if(table, "measure", ("accuracy",))
    table = _filter_if(table, "order", ("morf",))
    if "label" not in table.columns:
        table = table.assign(label="all")
    return table.reset_index(drop=True)


def find_region_shares(tables: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame | None:
    """Region shares: ``label``, ``region``, ``source``, ``share`` (+ ``ci_low``/``ci_high``)."""
    table = _first(
        tables,
        lambda n, t: (
            "region" in t.columns and "source" in t.columns and not _name_has(n, "per_image")
        ),
        preferred=("region_shares.parquet",),
    )
    if table is None:
        return None
    return normalise_columns(table, ("label", "region", "source", "share", "ci_low", "ci_high"))


def find_region_differences(tables: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame | None:
    """Network minus human region shares with CIs: ``contrast``, ``region``, ``label``,
    ``estimate``, ``ci_low``, ``ci_high`` (``region_shares_difference.parquet``)."""
    table = _first(
        tables,
        lambda n, t: "region" in t.columns and "contrast" in t.columns,
        preferred=("region_shares_difference.parquet",),
    )
    if table is None:
        return None
    return normalise_columns(
        table, ("label", "contrast", "region", "estimate", "ci_low", "ci_high")
    )


def find_metrics(tables: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame | None:
    """Saliency metrics over all images: ``metric``, ``map``, ``value`` (+ CI, direction).

    ``metrics.parquet`` (the saliency_metrics stage), the rows of label ``all`` when per-class
    rows are there too.
    """
    table = _first(
        tables,
        lambda n, t: "metric" in t.columns and "map" in t.columns and not _name_has(n, "per_image"),
        preferred=("metrics.parquet",),
    )
    if table is None:
        return None
    table = normalise_columns(table, ("metric", "map", "value", "ci_low", "ci_high"))
    if "label" in table.columns and (table["label"].astype(str) == "all").any():
        table = table[table["label"].astype(str) == "all"]
    return table.reset_index(drop=True)


# --- all together -----------------------------------------------------------------------------


def _study_facts(study_toml: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(study_toml) if study_toml else {}
    except tomllib.TOMLDecodeError:
        return {}
    return data


def gather_inputs(
    stage_dirs: Mapping[str, Path],
    *,
    study_toml: str,
    manifest: Mapping[str, Any] | None = None,
    overview_method: str | None = None,
) -> ReportInputs:
    """Load every piece of the report from finished stage folders; absent pieces are noted."""
    data = _study_facts(study_toml)
    study = data.get("study", {})
    report = data.get("report", {})
    inputs = ReportInputs(
        title=str(report.get("title", "gazealign report")),
        study_name=str(study.get("name", "study")),
        synthetic=bool(study.get("synthetic", False)),
        study_toml=study_toml,
        manifest=dict(manifest or {}),
        stage_dirs=dict(stage_dirs),
    )
    for name, folder in stage_dirs.items():
        record_path = folder / "_stage.json"
        inputs.stage_records[name] = read_json(record_path) if record_path.exists() else {}
    dirs = stage_dirs

    def need(*names: str) -> str | None:
        missing = [n for n in names if n not in dirs]
        return f"the run has no finished {', '.join(missing)} stage" if missing else None

    why = need("stimuli", "explain", "human_maps")
    if why:
        inputs.absent["overview"] = why
    else:
        got = _attempt(
            inputs,
            "overview",
            lambda: load_overview(
                dirs["stimuli"], dirs["explain"], dirs["human_maps"], method=overview_method
            ),
            "no stimulus has both a network map and a human map",
        )
        if got is not None:
            inputs.overview, inputs.overview_method = got

    if "stimuli" in dirs:
        inputs.stimulus_counts = _attempt(
            inputs,
            "stimulus_counts",
            lambda: load_stimulus_counts(dirs["stimuli"]),
            "no stimulus table",
        )
    else:
        inputs.absent["stimulus_counts"] = need("stimuli") or ""

    confusions: dict[str, pd.DataFrame] = {}
    if "train" in dirs:
        metrics_path = dirs["train"] / "metrics.json"
        if metrics_path.exists():
            inputs.train_metrics = _attempt(
                inputs, "train_metrics", lambda: read_json(metrics_path), "unreadable metrics.json"
            )
        else:
            inputs.absent["train_metrics"] = "the train stage wrote no metrics.json"
        net = _attempt(
            inputs,
            "confusion_network",
            lambda: load_network_confusion(dirs["train"]),
            "the train stage wrote no confusion.csv or predictions.parquet",
        )
        if net is not None:
            confusions["network (test images)"] = net
    else:
        inputs.absent["train_metrics"] = need("train") or ""
    if "gaze" in dirs:
        human = _attempt(
            inputs,
            "confusion_human",
            lambda: load_human_confusion(dirs["gaze"]),
            "the gaze stage wrote no trials.parquet",
        )
        if human is not None:
            confusions["human responses (all trials)"] = human
        inputs.quality = _attempt(
            inputs,
            "quality",
            lambda: load_quality(dirs["gaze"]),
            "the gaze stage wrote no per-subject trial counts (quality.parquet / trials.parquet)",
        )
    else:
        inputs.absent["quality"] = need("gaze") or ""
    inputs.confusions = confusions or None
    if not confusions:
        inputs.absent.setdefault(
            "confusions", "neither network predictions nor human responses were found"
        )

    if "sanity_checks" in dirs:
        sanity = dirs["sanity_checks"]
        inputs.sanity_verdicts = _attempt(
            inputs,
            "sanity_verdicts",
            lambda: _non_empty(read_table(sanity / "verdicts.parquet")),
            "the sanity checks were not run (sanity.enabled = false)",
        )
        inputs.sanity_layers = _attempt(
            inputs,
            "sanity_layers",
            lambda: _non_empty(read_table(sanity / "randomisation_layers.parquet")),
            "the sanity checks were not run (sanity.enabled = false)",
        )
    else:
        inputs.absent["sanity_verdicts"] = need("sanity_checks") or ""

    try:
        inputs.dropped = load_dropped(dirs)
    except (GazeAlignError, OSError, ValueError) as exc:
        inputs.absent["dropped"] = f"a table of dropped items is unreadable: {exc}"

    try:
        tables = _comparison_tables(dirs)
        reason = "the run has no comparison tables (no finished comparison stage)"
    except GazeAlignError as exc:
        tables, reason = [], f"a comparison table is unreadable: {exc}"
    if not tables:
        for piece in (
            "curves",
            "auc_differences",
            "region_shares",
            "region_differences",
            "metrics",
        ):
            inputs.absent[piece] = reason
    else:
        inputs.curves = _attempt(
            inputs, "curves", lambda: find_curves(tables), "no perturbation-curve table"
        )
        inputs.auc_differences = _attempt(
            inputs,
            "auc_differences",
            lambda: find_auc_differences(tables),
            "no AUC-difference table",
        )
        inputs.region_shares = _attempt(
            inputs, "region_shares", lambda: find_region_shares(tables), "no region-share table"
        )
        inputs.region_differences = _attempt(
            inputs,
            "region_differences",
            lambda: find_region_differences(tables),
            "no table of region-share differences",
        )
        inputs.metrics = _attempt(
            inputs, "metrics", lambda: find_metrics(tables), "no saliency-metric table"
        )
    return inputs
