"""The ``stimuli`` stage's artifacts, and how every later stage reads them.

Layout of the stage folder::

    stimuli.parquet        one row per kept stimulus (columns: STIMULUS_COLUMNS)
    dropped.csv            files that were not used, with the reason (never silently dropped)
    items/<stimulus_id>.npz
        image              (rows, cols, 3) uint8, stimulus frame (as shown to people)
        model_image        (S, S, 3) uint8, model-input frame (cropped and resized)
        crop               int64[8], the CropResize stimulus -> model input (CropResize.as_dict order)
        aoi_<region>       (rows, cols) bool, stimulus frame; regions in AOI_REGIONS
        planted            (rows, cols) bool, stimulus frame; synthetic faces only: the pixels
                           that differ from the identity's neutral face (the diagnostic regions)
        region_method      0-d str: how the AOIs were made ("synthetic", "landmarks", "template")
        faces_found        0-d int64: faces the detector found (the largest is used)
        face_tie           0-d bool: the largest faces were equally large (broken by position)

A stimulus that could not be used (corrupt file, no face found) has an item file holding only
``DROPPED_ITEM_KEYS``; it is listed in ``dropped.csv`` and absent from ``stimuli.parquet``.
``stimuli.parquet`` may carry ``STIMULUS_OPTIONAL_COLUMNS`` after the required ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from gazealign.coords import CropResize
from gazealign.errors import DataError
from gazealign.pipeline.artifacts import items, other, table
from gazealign.pipeline.store import read_arrays, read_table

#: Facial regions (areas of interest) every stimulus carries as masks in the stimulus frame.
#: ``face`` covers the whole face (including the others); ``background`` is everything else.
AOI_REGIONS: tuple[str, ...] = ("eyes", "brows", "nose", "mouth", "face", "background")

#: Columns of ``stimuli.parquet``.
STIMULUS_COLUMNS: dict[str, str] = {
    "stimulus_id": "string",  # unique, file-name safe
    "label": "string",  # one of gazealign.types.LABELS
    "subject": "string",  # identity shown (e.g. KDEF "F09"), used for identity-disjoint splits
    "session": "string",  # dataset session ("A"/"B" for KDEF; "" when not applicable)
    "split": "string",  # "train" | "val" | "test"
    "source_path": "string",  # original file, relative to the dataset root ("" if generated)
    "rows": "int64",  # stimulus-frame height
    "cols": "int64",  # stimulus-frame width
}

#: Columns ``stimuli.parquet`` carries after :data:`STIMULUS_COLUMNS`.
STIMULUS_OPTIONAL_COLUMNS: dict[str, str] = {
    "intensity": "float64",  # synthetic faces: expression intensity 0-1 (NaN for photographs)
    "aoi_method": "string",  # "synthetic" | "landmarks" | "template"
    "faces_found": "int64",  # faces the detector found in the image (1 with crop = "none")
}

SPLITS: tuple[str, ...] = ("train", "val", "test")

#: What the ``stimuli`` stage writes (its artifact contract).
WRITES = (
    table(
        "stimuli",
        "one row per kept stimulus, identity-disjoint split",
        {**{c: c for c in STIMULUS_COLUMNS}, "<optional>": ", ".join(STIMULUS_OPTIONAL_COLUMNS)},
    ),
    other(
        "dropped",
        "dropped.csv",
        "csv",
        "every file not used, with the reason",
        {"source_path": "file", "stimulus_id": "id", "reason": "why", "detail": "more"},
    ),
    items(
        "items",
        "one stimulus (a dropped one holds only dropped_reason and dropped_detail)",
        {
            "image": "(rows, cols, 3) uint8, as shown to people",
            "model_image": "(S, S, 3) uint8, cropped and resized network input",
            "crop": "int64[8], the CropResize stimulus -> model input",
            "aoi_<region>": "(rows, cols) bool, one mask per region of AOI_REGIONS",
            "planted": "(rows, cols) bool, synthetic faces only: the diagnostic pixels",
            "region_method": "0-d str: synthetic, landmarks or template",
        },
        frame="stimulus",
    ),
    other(
        "faces",
        "faces",
        "folder",
        "synthetic studies only: the rendered faces as a KDEF tree, with manifest.csv",
        optional=True,
    ),
)

#: Keys of the item file of a dropped stimulus (0-d str arrays).
DROPPED_ITEM_KEYS: tuple[str, ...] = ("dropped_reason", "dropped_detail")


def dropped_item(reason: str, detail: str) -> dict[str, npt.NDArray[np.generic]]:
    """The item arrays recording that a stimulus was dropped (see ``dropped.csv`` reasons)."""
    return {"dropped_reason": np.array(reason), "dropped_detail": np.array(detail)}


_CROP_FIELDS = tuple(CropResize.__dataclass_fields__)


@dataclass(frozen=True)
class StimulusItem:
    """Everything later stages need about one stimulus."""

    stimulus_id: str
    image: npt.NDArray[np.uint8]
    model_image: npt.NDArray[np.uint8]
    crop: CropResize
    aois: Mapping[str, npt.NDArray[np.bool_]]
    planted: npt.NDArray[np.bool_] | None


def item_arrays(
    image: npt.NDArray[np.uint8],
    model_image: npt.NDArray[np.uint8],
    crop: CropResize,
    aois: Mapping[str, npt.NDArray[np.bool_]],
    planted: npt.NDArray[np.bool_] | None = None,
) -> dict[str, npt.NDArray[np.generic]]:
    """The arrays of one stimulus item, checked, ready for ``write_arrays`` or a ``run_item``."""
    missing = [r for r in AOI_REGIONS if r not in aois]
    if missing:
        raise ValueError(f"AOI masks missing for regions {missing}")
    shape = image.shape[:2]
    for name, mask in aois.items():
        if mask.shape != shape:
            raise ValueError(f"AOI {name!r} has shape {mask.shape}, image is {shape}")
    if (crop.stimulus_rows, crop.stimulus_cols) != shape:
        raise ValueError(
            f"crop is for a {crop.stimulus_rows}x{crop.stimulus_cols} image, image is {shape}"
        )
    out: dict[str, npt.NDArray[np.generic]] = {
        "image": np.ascontiguousarray(image, dtype=np.uint8),
        "model_image": np.ascontiguousarray(model_image, dtype=np.uint8),
        "crop": np.array([crop.as_dict()[f] for f in _CROP_FIELDS], dtype=np.int64),
    }
    for name, mask in aois.items():
        out[f"aoi_{name}"] = np.asarray(mask, dtype=bool)
    if planted is not None:
        out["planted"] = np.asarray(planted, dtype=bool)
    return out


def read_item(stage_dir: Path, stimulus_id: str) -> StimulusItem:
    """Read one stimulus of a finished ``stimuli`` stage."""
    path = stage_dir / "items" / f"{stimulus_id}.npz"
    if not path.exists():
        raise DataError(f"{path}: no such stimulus item")
    arrays = read_arrays(path)
    crop = CropResize(**{f: int(v) for f, v in zip(_CROP_FIELDS, arrays["crop"], strict=True)})
    aois = {
        k.removeprefix("aoi_"): v.astype(bool) for k, v in arrays.items() if k.startswith("aoi_")
    }
    planted = arrays["planted"].astype(bool) if "planted" in arrays else None
    return StimulusItem(stimulus_id, arrays["image"], arrays["model_image"], crop, aois, planted)


def read_stimuli_table(stage_dir: Path) -> pd.DataFrame:
    """The ``stimuli.parquet`` table of a finished ``stimuli`` stage."""
    table = read_table(stage_dir / "stimuli.parquet")
    missing = [c for c in STIMULUS_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"{stage_dir / 'stimuli.parquet'}: missing columns {missing}")
    return table
