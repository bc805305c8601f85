"""The ``[stimuli]`` table: which face images, how they are cropped, split and annotated."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveInt

from gazealign.config.base import Section


class SyntheticFacesSection(Section):
    identities: PositiveInt = Field(
        12, description="Number of synthetic identities (7 expressions each)."
    )
    image_rows: PositiveInt = Field(160, description="Height of a rendered face image in px.")
    image_cols: PositiveInt = Field(128, description="Width of a rendered face image in px.")
    sessions: Literal[1, 2] = Field(
        1, description="Photo sessions per identity (KDEF A, and B): new light, pose and noise."
    )
    intensity_min: float = Field(
        0.5, gt=0, le=1, description="Lowest expression intensity (action-unit scale 0-1)."
    )
    intensity_max: float = Field(
        1.0, gt=0, le=1, description="Highest expression intensity (action-unit scale 0-1)."
    )
    pose_jitter_px: float = Field(
        0.0,
        ge=0,
        description=(
            "Per-identity shift of the whole face layout, uniform in +-pose_jitter_px along each "
            "axis (drawn once per identity from the seed), on top of each photo's own jitter: "
            "where an identity's eyes and mouth are then differs between identities, so a human "
            "map carries image-specific information. 0: the faces as before."
        ),
    )


class SplitSection(Section):
    test_identities: list[str] | Literal["thesis"] = Field(
        default_factory=list,
        description=(
            'Identities held out for testing, or "thesis" for the seed study\'s 16 KDEF identities. '
            "Empty: a fraction `test_fraction` of identities drawn with the study seed."
        ),
    )
    test_fraction: float = Field(
        0.25,
        gt=0,
        lt=1,
        description="Share of identities held out for testing when no list is given.",
    )
    val_fraction: float = Field(
        0.15, ge=0, lt=1, description="Share of training identities used for validation."
    )
    use_dataset_split: bool = Field(
        False,
        description=(
            "FER2013 only: take train/val/test from its `Usage` column (Training/PublicTest/"
            "PrivateTest) instead of drawing identities."
        ),
    )


class StimuliSection(Section):
    source: str = Field(
        "synthetic",
        description=(
            "Dataset layout to read (a registered layout): kdef, folder, manifest, fer2013, or "
            "synthetic (built-in faces)."
        ),
    )
    path: Path | None = Field(
        None,
        description="Dataset root folder or CSV file (relative to the study file). Not used by `synthetic`.",
    )
    angles: list[str] = Field(["S"], description="KDEF view angles to keep (FL, HL, S, HR, FR).")
    sessions: list[Literal["A", "B"]] = Field(["A", "B"], description="KDEF sessions to keep.")
    label_map: dict[str, str] = Field(
        default_factory=dict,
        description="Folder or code -> label in the gazealign vocabulary (folder/manifest layouts).",
    )
    subject_pattern: str | None = Field(
        None,
        description=(
            "Folder layout: regular expression searched in each file name; its first group is the "
            "identity shown. Without it every image is its own identity."
        ),
    )
    input_size_px: PositiveInt = Field(
        224,
        description=(
            "Side of the square model input in px. The crop box (or the whole image) is resized to "
            "it; a non-square box is stretched, and the stretch is recorded in the crop transform."
        ),
    )
    crop: Literal["haar", "none"] = Field(
        "haar", description="Face crop: OpenCV Haar cascade, or the whole image."
    )
    crop_margin_px: int = Field(
        20, ge=0, description="Margin added on each side of the detected face box, in stimulus px."
    )
    haar_scale_factor: float = Field(
        1.3, gt=1, description="Haar cascade `scaleFactor` (image pyramid step)."
    )
    haar_min_neighbors: PositiveInt = Field(
        6, description="Haar cascade `minNeighbors` (detections needed to accept a face)."
    )
    aoi_method: Literal["auto", "landmarks", "template"] = Field(
        "auto",
        description=(
            "Facial regions of real photos: 68-point landmarks (extra `landmarks`), a fixed "
            "template in the face box (aligned frontal faces), or `auto` (landmarks if installed). "
            "Synthetic faces always use their exact regions."
        ),
    )
    aoi_margin_deg: float = Field(
        0.5,
        ge=0,
        description=(
            "Landmark regions are grown by this margin, in degrees of visual angle (converted with "
            "[gaze.screen] and gaze.stimulus_scale), for eye-tracker error: 0.5 is the typical "
            "accuracy of lab video trackers (docs/regions.md)."
        ),
    )
    synthetic: SyntheticFacesSection = Field(default_factory=SyntheticFacesSection)
    split: SplitSection = Field(default_factory=SplitSection)
