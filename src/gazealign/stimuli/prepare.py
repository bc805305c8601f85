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
from gazealign.stimuli.crop import (
    FaceBox,
    FaceDetection,
    apply_crop,
    crop_for_box,
    find_faces,
    grow_box,
    whole_image_crop,
)
from gazealign.stimuli.dataset import Dropped, ImageRecord, drop_reason, load_record_image
from gazealign.stimuli.layout_registry import LAYOUTS

ItemArrays = dict[str, npt.NDArray[np.generic]]
#: The crop, the face box it was grown from, and the detection record of one image.
Found = tuple[CropResize, FaceBox, FaceDetection]
NO_FACE_DETAIL = "the Haar cascade found no face"


def detect_and_crop(
    image: npt.NDArray[np.uint8], cfg: StimuliSection
) -> tuple[CropResize, FaceBox, FaceDetection] | tuple[None, None, FaceDetection]:
    """The crop transform, the face box and the detection record of one image, as the study
    crops it (``faces scan`` calls this to report drops before a run).

    ``crop = "none"``: the whole image, recorded as one face. No face found: (None, None, record).
    """
    rows, cols = image.shape[:2]
    if cfg.crop == "none":
        whole = FaceBox(0, 0, cols, rows)
        return whole_image_crop(rows, cols, cfg.input_size_px), whole, FaceDetection((whole,))
    found = find_faces(
        image, scale_factor=cfg.haar_scale_factor, min_neighbors=cfg.haar_min_neighbors
    )
    if found.chosen is None:
        return None, None, found
    box = grow_box(found.chosen, cfg.crop_margin_px, rows, cols)
    return crop_for_box(box, rows, cols, cfg.input_size_px), found.chosen, found


def crop_image(
    image: npt.NDArray[np.uint8], cfg: StimuliSection
) -> tuple[CropResize, FaceBox] | None:
    """The crop transform and the face box (detected, or the whole image); None: no face."""
    crop, box, _ = detect_and_crop(image, cfg)
    return None if crop is None or box is None else (crop, box)


def prepare_image(
    image: npt.NDArray[np.uint8],
    cfg: StimuliSection,
    *,
    aois: dict[str, npt.NDArray[np.bool_]] | None = None,
    planted: npt.NDArray[np.bool_] | None = None,
    aoi_method: str = "synthetic",
    aoi_margin_px: float | None = None,
    found: Found | None = None,
) -> ItemArrays:
    """Item arrays of one decoded image; AOIs from the face box unless given (synthetic faces).

    ``aoi_margin_px``: margin of landmark regions in stimulus px (the study's
    ``stimuli.aoi_margin_deg`` converted with the screen geometry); None: the default margin.
    Also records ``faces_found`` and ``face_tie`` (see :class:`FaceDetection`). ``found``: the
    crop, face box and detection when already known (:func:`check_record` found them).
    """
    if found is None:
        crop_, box_, detection = detect_and_crop(image, cfg)
        if crop_ is None or box_ is None:
            return dropped_item("no_face", NO_FACE_DETAIL)
        found = (crop_, box_, detection)
    crop, box, detection = found
    if aois is None:
        aois, aoi_method = face_aois(image, box, method=cfg.aoi_method, margin_px=aoi_margin_px)
    out = item_arrays(image, apply_crop(image, crop), crop, aois, planted)
    out["region_method"] = np.array(aoi_method)
    out["faces_found"] = np.array(detection.faces_found, dtype=np.int64)
    out["face_tie"] = np.array(detection.tie)
    return out


def check_record(
    record: ImageRecord, cfg: StimuliSection
) -> tuple[npt.NDArray[np.uint8], Found] | Dropped:
    """Decode ``record`` and find its face as the stimuli stage does, or why it is dropped.

    The checks of :func:`prepare_record` (a missing, undecodable or too small file; no face
    with ``crop = "haar"``) without the crop and facial regions: what ``gazealign faces scan``
    runs, so its counts are the stage's. The :class:`FaceDetection` (third element of the
    found tuple) says how many faces there were and whether the largest tied.
    """
    try:
        image = load_record_image(record)
    except DataError as exc:
        return Dropped(record.source_path, record.stimulus_id, drop_reason(exc), str(exc))
    crop, box, detection = detect_and_crop(image, cfg)
    if crop is None or box is None:
        return Dropped(record.source_path, record.stimulus_id, "no_face", NO_FACE_DETAIL)
    return image, (crop, box, detection)


def prepare_record(
    record: ImageRecord, cfg: StimuliSection, *, aoi_margin_px: float | None = None
) -> ItemArrays:
    """Item arrays of one dataset record, or a dropped item (corrupt file, no face)."""
    checked = check_record(record, cfg)
    if isinstance(checked, Dropped):
        return dropped_item(checked.reason, checked.detail)
    image, found = checked
    return prepare_image(image, cfg, found=found, aoi_margin_px=aoi_margin_px)


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
