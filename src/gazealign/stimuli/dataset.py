"""What every dataset loader returns: image records to use and files dropped with a reason.

A loader first *scans* (file names, CSV rows: cheap, no pixels decoded) into a :class:`Scan`;
pixels are decoded one record at a time with :func:`load_record_image`, and a file that cannot be
decoded is reported (:class:`Dropped` with reason ``corrupt_image``), never silently skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from PIL import Image, UnidentifiedImageError

from gazealign.errors import DataError
from gazealign.types import Stimulus

#: Reasons a file is not used (the ``reason`` column of ``dropped.csv``).
DROP_REASONS: dict[str, str] = {
    "unparseable_name": "the file name does not follow the dataset's naming scheme",
    "unknown_label": "the class name or code has no label in the vocabulary",
    "duplicate_id": "another file already has this stimulus id",
    "filtered": "excluded by a study-file filter (angle, session, ...)",
    "held_out": "kept out of every split by the split preset",
    "corrupt_image": "the image file cannot be decoded",
    "too_small": "the image is smaller than MIN_IMAGE_SIDE_PX (8 px) on a side",
    "no_face": "the face detector found no face",
    "bad_row": "a CSV row is malformed",
}

DROPPED_COLUMNS: dict[str, str] = {
    "source_path": "string",
    "stimulus_id": "string",
    "reason": "string",
    "detail": "string",
}

#: Smallest image side (px) a stimulus may have: below it no face or region can be told apart.
MIN_IMAGE_SIDE_PX = 8

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".gif", ".webp", ".pgm", ".ppm")


@dataclass(frozen=True)
class ImageRecord:
    """One usable image of a dataset, before its pixels are decoded."""

    stimulus_id: str
    label: str
    subject: str
    session: str
    source_path: str  # relative to the dataset root ("" when generated)
    path: Path | None = None  # file to decode, or None when ``pixels`` holds the image
    pixels: npt.NDArray[np.uint8] | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Dropped:
    """A file (or row) that is not used, and why."""

    source_path: str
    stimulus_id: str
    reason: str
    detail: str

    def __post_init__(self) -> None:
        if self.reason not in DROP_REASONS:
            raise ValueError(f"unknown drop reason {self.reason!r}; known: {list(DROP_REASONS)}")


@dataclass
class Scan:
    """Result of scanning a dataset: records to use and dropped files, in a stable order."""

    records: list[ImageRecord]
    dropped: list[Dropped]
    #: Files that are not images by their suffix (e.g. a readme), relative paths; not datasets items.
    ignored: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """One row per record: stimulus_id, label, subject, session, source_path + metadata."""
        rows = [
            {
                "stimulus_id": r.stimulus_id,
                "label": r.label,
                "subject": r.subject,
                "session": r.session,
                "source_path": r.source_path,
                **dict(r.metadata),
            }
            for r in self.records
        ]
        return pd.DataFrame(rows)

    def dropped_table(self) -> pd.DataFrame:
        return dropped_table(self.dropped)

    def by_id(self) -> dict[str, ImageRecord]:
        return {r.stimulus_id: r for r in self.records}


def dropped_table(dropped: Iterable[Dropped]) -> pd.DataFrame:
    """The ``dropped.csv`` table (columns :data:`DROPPED_COLUMNS`)."""
    rows = [(d.source_path, d.stimulus_id, d.reason, d.detail) for d in dropped]
    table = pd.DataFrame(rows, columns=list(DROPPED_COLUMNS))
    return table.astype(DROPPED_COLUMNS)


class ImageTooSmall(DataError):
    """An image decodes but is smaller than :data:`MIN_IMAGE_SIDE_PX` on a side."""


def drop_reason(exc: DataError) -> str:
    """The :data:`DROP_REASONS` key of an image that failed to load with ``exc``."""
    return "too_small" if isinstance(exc, ImageTooSmall) else "corrupt_image"


def check_image_size(image: npt.NDArray[np.generic], where: str) -> None:
    """Raise :class:`ImageTooSmall` naming ``where`` for an image under the minimum size."""
    rows, cols = image.shape[:2]
    if min(rows, cols) < MIN_IMAGE_SIDE_PX:
        raise ImageTooSmall(
            f"{where}: image is {cols}x{rows} px; at least {MIN_IMAGE_SIDE_PX} px on each side "
            "is needed"
        )


def load_image(path: Path) -> npt.NDArray[np.uint8]:
    """Decode an image file to (rows, cols, 3) uint8 RGB (grey is replicated to 3 channels).

    Raises :class:`DataError` naming the file when it is missing, truncated or not an image,
    and :class:`ImageTooSmall` when it is under :data:`MIN_IMAGE_SIDE_PX` on a side.
    """
    try:
        with Image.open(path) as img:
            img.load()  # decode now: truncated JPEGs fail here, not later
            rgb = img.convert("RGB")
    except FileNotFoundError:
        raise DataError(f"{path}: no such image file") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"{path}: cannot decode image ({exc})") from None
    out = np.asarray(rgb, dtype=np.uint8).copy()
    check_image_size(out, str(path))
    return out


def load_record_image(record: ImageRecord) -> npt.NDArray[np.uint8]:
    """The pixels of ``record`` as (rows, cols, 3) uint8 RGB."""
    if record.pixels is not None:
        px = record.pixels
        check_image_size(px, record.source_path or record.stimulus_id)
        return np.repeat(px[..., None], 3, axis=2) if px.ndim == 2 else px
    if record.path is None:
        raise ValueError(f"record {record.stimulus_id!r} has neither a path nor pixels")
    return load_image(record.path)


def iter_stimuli(scan: Scan) -> Iterator[Stimulus | Dropped]:
    """Decode every record of ``scan``: a :class:`Stimulus`, or a :class:`Dropped` if corrupt."""
    for rec in scan.records:
        try:
            image = load_record_image(rec)
        except DataError as exc:
            yield Dropped(rec.source_path, rec.stimulus_id, drop_reason(exc), str(exc))
            continue
        meta = {"session": rec.session, "source_path": rec.source_path, **dict(rec.metadata)}
        yield Stimulus(rec.stimulus_id, image, rec.label, rec.subject, meta)


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_id(text: str) -> str:
    """A file-name-safe stimulus id from a relative path or name (``/`` becomes ``__``)."""
    stem = text.replace("\\", "/")
    stem = stem.rsplit(".", 1)[0] if "." in stem.rsplit("/", 1)[-1] else stem
    return _UNSAFE.sub("-", stem.replace("/", "__")).strip("-") or "item"


def list_files(root: Path) -> list[Path]:
    """Every non-hidden file below ``root``, sorted by relative path (deterministic)."""
    if not root.is_dir():
        raise DataError(f"{root}: dataset folder not found")
    return sorted(
        (
            p
            for p in root.rglob("*")
            if p.is_file() and not any(s.startswith(".") for s in p.relative_to(root).parts)
        ),
        key=lambda p: p.relative_to(root).as_posix(),
    )
