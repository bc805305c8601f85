"""The artifact contract: what each stage writes (names, columns, frames), declared in one place.

A stage lists its artifacts in ``writes`` (next to its ``@stage`` decorator). The runner checks
after the stage has run that every required artifact is there with its declared columns, and
records the contract in the stage folder's ``_stage.json``; later stages and the report read
artifacts by name through that record (:func:`read_table_artifact`, :func:`artifact_path`, ...),
never by guessing file names or columns.

Column names holding ``<`` (``p_<label>``, ``dropped_<reason>``) describe a family of columns and
are not checked; every other declared column is required. A table may hold more columns than it
declares (e.g. the settings a stage stamps on every row).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from gazealign.errors import DataError, PipelineError
from gazealign.pipeline.store import read_arrays, read_json, read_table

ArtifactKind = Literal["table", "csv", "json", "arrays", "items", "file", "folder"]
Frame = Literal["stimulus", "model_input"]

#: The stage record file every finished stage folder holds.
STAGE_RECORD = "_stage.json"


@dataclass(frozen=True)
class Artifact:
    """One file (or folder) a stage writes.

    ``path`` is relative to the stage folder; an ``items`` artifact's path holds ``{item}``
    (``items/{item}.npz``). ``columns`` are (name, meaning) pairs: table columns, or the arrays
    of an ``arrays``/``items`` file. ``frame`` is the frame of the maps it holds, if any.
    """

    name: str
    path: str
    kind: ArtifactKind
    description: str
    columns: tuple[tuple[str, str], ...] = ()
    frame: Frame | None = None
    optional: bool = False

    def required_columns(self) -> list[str]:
        return [c for c, _ in self.columns if "<" not in c]

    def as_record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "kind": self.kind,
            "description": self.description,
            "columns": {c: meaning for c, meaning in self.columns},
            "frame": self.frame,
            "optional": self.optional,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Artifact:
        return cls(
            name=str(record["name"]),
            path=str(record["path"]),
            kind=record["kind"],
            description=str(record.get("description", "")),
            columns=tuple((str(k), str(v)) for k, v in (record.get("columns") or {}).items()),
            frame=record.get("frame"),
            optional=bool(record.get("optional", False)),
        )


def table(
    name: str,
    description: str,
    columns: Mapping[str, str],
    *,
    path: str | None = None,
    frame: Frame | None = None,
    optional: bool = False,
) -> Artifact:
    """A Parquet table ``<name>.parquet`` (written with its CSV twin by ``write_table``)."""
    return Artifact(
        name, path or f"{name}.parquet", "table", description, tuple(columns.items()), frame,
        optional,
    )  # fmt: skip


def items(
    name: str,
    description: str,
    arrays: Mapping[str, str],
    *,
    frame: Frame | None = None,
    path: str = "items/{item}.npz",
) -> Artifact:
    """One ``.npz`` file of arrays per item (per stimulus)."""
    return Artifact(name, path, "items", description, tuple(arrays.items()), frame)


def other(
    name: str,
    path: str,
    kind: ArtifactKind,
    description: str,
    columns: Mapping[str, str] | None = None,
    *,
    frame: Frame | None = None,
    optional: bool = False,
) -> Artifact:
    """A JSON, CSV, arrays (``.npz``) or other file, or a folder."""
    return Artifact(name, path, kind, description, tuple((columns or {}).items()), frame, optional)


# --- checking what a stage wrote ------------------------------------------------------------


def _columns_of(path: Path, kind: ArtifactKind) -> list[str]:
    if kind == "table":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    if kind == "csv":
        return list(pd.read_csv(path, nrows=0).columns)
    return []


def problems(artifacts: Iterable[Artifact], folder: Path) -> list[str]:
    """What in ``folder`` breaks the contract ``artifacts`` (one line per problem)."""
    out = []
    for a in artifacts:
        if a.kind == "items":
            continue  # a stage may have no item (no stimulus); the items are checked when read
        path = folder / a.path
        if not path.exists():
            if not a.optional:
                out.append(f"{a.path} ({a.name}) is missing")
            continue
        if a.kind in ("table", "csv"):
            have = set(_columns_of(path, a.kind))
            lacking = [c for c in a.required_columns() if c not in have]
            if lacking:
                out.append(f"{a.path} lacks column(s) {', '.join(lacking)}")
    return out


def check_written(stage: str, artifacts: Iterable[Artifact], folder: Path) -> None:
    """Raise :class:`PipelineError` when ``folder`` does not hold what stage ``stage`` declares."""
    found = problems(artifacts, folder)
    if found:
        raise PipelineError(f"stage {stage!r} did not write what it declares: " + "; ".join(found))


# --- reading through the contract -----------------------------------------------------------


def declared(stage_dir: Path) -> dict[str, Artifact]:
    """The artifacts a finished stage folder declares (from its ``_stage.json``), by name."""
    record_path = Path(stage_dir) / STAGE_RECORD
    if not record_path.exists():
        raise DataError(f"{stage_dir}: not a finished stage folder (no {STAGE_RECORD})")
    record = read_json(record_path)
    if "writes" not in record:
        raise DataError(
            f"{record_path}: made by an older gazealign that recorded no artifact contract; "
            "run the study again"
        )
    return {r["name"]: Artifact.from_record(r) for r in record["writes"]}


def artifact(stage_dir: Path, name: str) -> Artifact:
    """The declared artifact ``name`` of a finished stage folder; the error lists the others."""
    have = declared(stage_dir)
    try:
        return have[name]
    except KeyError:
        raise DataError(
            f"{stage_dir}: the stage declares no artifact {name!r}; it declares "
            f"{', '.join(sorted(have)) or 'none'}"
        ) from None


def artifact_path(stage_dir: Path, name: str, item: str | None = None) -> Path:
    """Where artifact ``name`` of a finished stage lives (for an ``items`` artifact: ``item``'s)."""
    a = artifact(stage_dir, name)
    if a.kind == "items":
        if item is None:
            raise DataError(f"{stage_dir}: artifact {name!r} is per item; name the item")
        return Path(stage_dir) / a.path.format(item=item)
    return Path(stage_dir) / a.path


def has_artifact(stage_dir: Path, name: str) -> bool:
    """Whether a finished stage declares artifact ``name`` and (unless per item) wrote it."""
    try:
        a = artifact(stage_dir, name)
    except DataError:
        return False
    return a.kind == "items" or (Path(stage_dir) / a.path).exists()


def item_ids(stage_dir: Path, name: str) -> list[str]:
    """The items a per-item artifact holds (sorted)."""
    a = artifact(stage_dir, name)
    pattern = Path(a.path)
    folder = Path(stage_dir) / pattern.parent
    suffix = pattern.suffix
    return sorted(p.name.removesuffix(suffix) for p in folder.glob(f"*{suffix}"))


def _check_columns(path: Path, a: Artifact, table: pd.DataFrame) -> pd.DataFrame:
    lacking = [c for c in a.required_columns() if c not in table.columns]
    if lacking:
        raise DataError(f"{path}: lacks column(s) {', '.join(lacking)} of artifact {a.name!r}")
    return table


def read_table_artifact(stage_dir: Path, name: str) -> pd.DataFrame:
    """The table artifact ``name`` (Parquet or CSV), its declared columns checked."""
    a = artifact(stage_dir, name)
    path = Path(stage_dir) / a.path
    if a.kind not in ("table", "csv"):
        raise DataError(f"{path}: artifact {name!r} is {a.kind}, not a table")
    if not path.exists():
        raise DataError(f"{path}: artifact {name!r} was not written")
    if a.kind == "table":
        frame = read_table(path)
    else:
        try:
            frame = pd.read_csv(path)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: not a readable CSV table ({exc})") from None
    return _check_columns(path, a, frame)


def read_json_artifact(stage_dir: Path, name: str) -> Any:
    """The JSON artifact ``name``."""
    path = artifact_path(stage_dir, name)
    if not path.exists():
        raise DataError(f"{path}: artifact {name!r} was not written")
    return read_json(path)


def read_arrays_artifact(stage_dir: Path, name: str, item: str | None = None) -> dict[str, Any]:
    """The arrays of artifact ``name`` (for an ``items`` artifact: of ``item``)."""
    path = artifact_path(stage_dir, name, item)
    if not path.exists():
        raise DataError(f"{path}: artifact {name!r} was not written")
    return read_arrays(path)
