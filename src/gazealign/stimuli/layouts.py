"""Other dataset layouts: class-per-folder trees, FER2013's CSV, and a CSV manifest.

Every loader returns a :class:`~gazealign.stimuli.dataset.Scan`; labels go through
:func:`~gazealign.stimuli.labels.to_label` so each dataset's names land in one vocabulary, and a
name without a label is reported (``unknown_label``), never guessed.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gazealign.errors import DataError
from gazealign.stimuli.dataset import (
    IMAGE_SUFFIXES,
    Dropped,
    ImageRecord,
    Scan,
    list_files,
    safe_id,
)
from gazealign.stimuli.labels import FER2013_CODES, to_label
from gazealign.stimuli.layout_registry import layout

if TYPE_CHECKING:
    from gazealign.config.stimuli import StimuliSection

FER2013_USAGE: dict[str, str] = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}


def _subject(name: str, pattern: re.Pattern[str] | None, fallback: str) -> str:
    if pattern is None:
        return fallback
    m = pattern.search(name)
    if m is None:
        return ""
    return m.group(1) if m.groups() else m.group(0)


def scan_folder(
    root: Path,
    *,
    label_map: Mapping[str, str] | None = None,
    subject_pattern: str | None = None,
) -> Scan:
    """A class-per-folder tree: ``root/<class>/**/<image>``; the label is the top folder's name.

    ``subject_pattern``: a regular expression searched in the file name whose first group (or
    whole match) is the identity shown; without it every image is its own identity (so splits
    cannot be identity-disjoint: say so when reporting).
    """
    pattern = re.compile(subject_pattern) if subject_pattern else None
    records: list[ImageRecord] = []
    dropped: list[Dropped] = []
    seen: set[str] = set()
    ignored: list[str] = []
    for path in list_files(root):
        rel = path.relative_to(root).as_posix()
        sid = safe_id(rel)
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            ignored.append(rel)
            continue
        parts = rel.split("/")
        if len(parts) < 2:
            dropped.append(Dropped(rel, sid, "unknown_label", "image is not inside a class folder"))
            continue
        label = to_label(parts[0], label_map)
        if label is None:
            dropped.append(
                Dropped(
                    rel,
                    sid,
                    "unknown_label",
                    f"class folder {parts[0]!r} has no label; add it to label_map",
                )
            )
            continue
        subject = _subject(path.name, pattern, sid)
        if not subject:
            dropped.append(
                Dropped(
                    rel,
                    sid,
                    "unparseable_name",
                    f"subject_pattern {subject_pattern!r} does not match",
                )
            )
            continue
        if sid in seen:
            dropped.append(Dropped(rel, sid, "duplicate_id", "another file maps to the same id"))
            continue
        seen.add(sid)
        records.append(ImageRecord(sid, label, subject, "", rel, path=path))
    return Scan(records, dropped, ignored)


def scan_manifest(csv_path: Path, *, label_map: Mapping[str, str] | None = None) -> Scan:
    """A CSV with columns ``path, label, subject`` (optional ``session``); paths relative to it."""
    if not csv_path.is_file():
        raise DataError(f"{csv_path}: manifest file not found")
    root = csv_path.parent
    records: list[ImageRecord] = []
    dropped: list[Dropped] = []
    seen: set[str] = set()
    with csv_path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        need = {"path", "label", "subject"}
        if reader.fieldnames is None or not need <= set(reader.fieldnames):
            raise DataError(f"{csv_path}: needs columns {sorted(need)}, has {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            rel = (row.get("path") or "").strip()
            where = f"{csv_path.name} line {line}"
            if not rel or not (row.get("subject") or "").strip():
                dropped.append(Dropped(rel, "", "bad_row", f"{where}: empty path or subject"))
                continue
            sid = safe_id(rel)
            label = to_label((row.get("label") or "").strip(), label_map)
            if label is None:
                dropped.append(
                    Dropped(
                        rel,
                        sid,
                        "unknown_label",
                        f"{where}: label {row.get('label')!r} has no label in the vocabulary",
                    )
                )
                continue
            if sid in seen:
                dropped.append(Dropped(rel, sid, "duplicate_id", f"{where}: path listed twice"))
                continue
            seen.add(sid)
            session = (row.get("session") or "").strip()
            records.append(
                ImageRecord(sid, label, row["subject"].strip(), session, rel, path=root / rel)
            )
    return Scan(records, dropped)


def _fer_pixels_problem(values: np.ndarray) -> str | None:
    """What is wrong with a FER2013 ``pixels`` cell (2304 grey values in 0-255), or None."""
    if values.size != 48 * 48:
        return f"expected 2304 values (48 x 48), got {values.size}"
    out = np.flatnonzero((values < 0) | (values > 255))
    if out.size:
        k = int(out[0])
        return (
            f"value {int(values[k])} at position {k + 1} is outside 0-255 "
            f"({out.size} such value{'s' if out.size > 1 else ''})"
        )
    return None


def scan_fer2013(csv_path: Path) -> Scan:
    """``fer2013.csv``: columns ``emotion`` (0-6), ``pixels`` (2304 grey values), ``Usage``.

    FER2013 has no identity labels: each image is its own subject, so a split by identity is a
    split by image; ``Usage`` is kept as metadata ``usage`` (train / val / test).
    """
    if not csv_path.is_file():
        raise DataError(f"{csv_path}: FER2013 file not found")
    records: list[ImageRecord] = []
    dropped: list[Dropped] = []
    with csv_path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        need = {"emotion", "pixels"}
        if reader.fieldnames is None or not need <= set(reader.fieldnames):
            raise DataError(f"{csv_path}: needs columns {sorted(need)}, has {reader.fieldnames}")
        for i, row in enumerate(reader):
            sid = f"fer{i:05d}"
            where = f"{csv_path.name} line {i + 2}"
            try:
                code = int(row["emotion"])
                values = np.array(row["pixels"].split(), dtype=np.int64)
            except (ValueError, AttributeError):
                dropped.append(
                    Dropped(where, sid, "bad_row", f"{where}: emotion or pixels not integers")
                )
                continue
            problem = _fer_pixels_problem(values)
            if problem:
                dropped.append(Dropped(where, sid, "bad_row", f"{where}: pixels: {problem}"))
                continue
            if code not in FER2013_CODES:
                dropped.append(
                    Dropped(where, sid, "unknown_label", f"{where}: emotion code {code} is not 0-6")
                )
                continue
            usage = FER2013_USAGE.get((row.get("Usage") or "").strip(), "")
            pixels = values.astype(np.uint8).reshape(48, 48)
            records.append(
                ImageRecord(
                    sid,
                    FER2013_CODES[code],
                    sid,
                    "",
                    where,
                    pixels=pixels,
                    metadata={"usage": usage},
                )
            )
    return Scan(records, dropped)


@layout("folder", description="Class-per-folder tree: <label>/<image> (label_map, subject_pattern)")
def _scan_folder_layout(path: Path, cfg: StimuliSection) -> Scan:
    return scan_folder(path, label_map=cfg.label_map, subject_pattern=cfg.subject_pattern)


@layout("manifest", description="CSV manifest: path, label, subject (, session)", path="file")
def _scan_manifest_layout(path: Path, cfg: StimuliSection) -> Scan:
    return scan_manifest(path, label_map=cfg.label_map)


@layout(
    "fer2013",
    description="FER2013 CSV: emotion, pixels (48x48 grey), Usage",
    path="file",
    dataset_split=True,
)
def _scan_fer2013_layout(path: Path, cfg: StimuliSection) -> Scan:
    return scan_fer2013(path)
