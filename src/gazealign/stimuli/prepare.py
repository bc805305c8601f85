"""From a dataset to stimulus items: scan, decode, crop, resize, AOIs, split.

Plain functions; ``gazealign.stages.stimuli`` runs them as the ``stimuli`` stage.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from gazealign.config.stimuli import StimuliSection
from gazealign.coords import CropResize
from gazealign.errors import DataError
from gazealign.stimuli.aoi import face_aois
from gazealign.stimuli.artifacts import dropped_item, item_arrays
from gazealign.stimuli.crop import FaceBox, apply_crop, haar_face_crop, whole_image_crop
from gazealign.stimuli.dataset import Dropped, ImageRecord, drop_reason, load_record_image
from gazealign.stimuli.layout_registry import LAYOUTS

ItemArrays = dict[str, npt.NDArray[np.generic]]


def crop_image(
    image: npt.NDArray[np.uint8], cfg: StimuliSection
) -> tuple[CropResize, FaceBox] | None:
    """The crop transform and the face box (detected, or the whole image); None: no face."""
    rows, cols = image.shape[:2]
    if cfg.crop == "none":
        return whole_image_crop(rows, cols, cfg.input_size_px), FaceBox(0, 0, cols, rows)
    return haar_face_crop(
        image,
        size_px=cfg.input_size_px,
        margin_px=cfg.crop_margin_px,
        scale_factor=cfg.haar_scale_factor,
        min_neighbors=cfg.haar_min_neighbors,
    )


NO_FACE_DETAIL = "the Haar cascade found no face"


def prepare_image(
    image: npt.NDArray[np.uint8],
    cfg: StimuliSection,
    *,
    aois: dict[str, npt.NDArray[np.bool_]] | None = None,
    planted: npt.NDArray[np.bool_] | None = None,
    aoi_method: str = "synthetic",
    found: tuple[CropResize, FaceBox] | None = None,
) -> ItemArrays:
    """Item arrays of one decoded image; AOIs from the face box unless given (synthetic faces).

    ``found``: the crop and face box when already known (:func:`check_record` found them).
    """
    found = found or crop_image(image, cfg)
    if found is None:
        return dropped_item("no_face", NO_FACE_DETAIL)
    crop, box = found
    if aois is None:
        aois, aoi_method = face_aois(image, box, method=cfg.aoi_method)
    out = item_arrays(image, apply_crop(image, crop), crop, aois, planted)
    out["region_method"] = np.array(aoi_method)
    return out


def check_record(
    record: ImageRecord, cfg: StimuliSection
) -> tuple[npt.NDArray[np.uint8], tuple[CropResize, FaceBox]] | Dropped:
    """Decode ``record`` and find its face as the stimuli stage does, or why it is dropped.

    The checks of :func:`prepare_record` (a missing, undecodable or too small file; no face
    with ``crop = "haar"``) without the crop and facial regions: what ``gazealign faces scan``
    runs, so its counts are the stage's.
    """
    try:
        image = load_record_image(record)
    except DataError as exc:
        return Dropped(record.source_path, record.stimulus_id, drop_reason(exc), str(exc))
    found = crop_image(image, cfg)
    if found is None:
        return Dropped(record.source_path, record.stimulus_id, "no_face", NO_FACE_DETAIL)
    return image, found


def prepare_record(record: ImageRecord, cfg: StimuliSection) -> ItemArrays:
    """Item arrays of one dataset record, or a dropped item (corrupt file, no face)."""
    checked = check_record(record, cfg)
    if isinstance(checked, Dropped):
        return dropped_item(checked.reason, checked.detail)
    image, found = checked
    return prepare_image(image, cfg, found=found)


def split_table(table: pd.DataFrame, cfg: StimuliSection, *, seed: int) -> pd.Series:
    """Split of every row (``train``/``val``/``test``/``held_out``), identity-disjoint."""
    from gazealign.stimuli.split import assign_splits

    sp = cfg.split
    if sp.use_dataset_split:
        if not LAYOUTS.get(cfg.source).dataset_split:
            raise DataError(
                f"[stimuli.split] use_dataset_split: layout {cfg.source!r} has no split of its own"
            )
        split = table["usage"].astype("string").rename("split")
        bad = split.isna() | ~split.isin(["train", "val", "test"])
        if bad.any():
            first = table.loc[bad, "source_path"].iloc[0]
            raise DataError(
                f"[stimuli.split] use_dataset_split: the FER2013 column 'Usage' is missing or "
                f"has an unknown value in {int(bad.sum())} of {len(split)} rows (first: "
                f"{first}); expected Training, PublicTest or PrivateTest in every row"
            )
        return split
    return assign_splits(
        table,
        test_identities=sp.test_identities,
        test_fraction=sp.test_fraction,
        val_fraction=sp.val_fraction,
        seed=seed,
    )
