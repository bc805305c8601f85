"""Facial regions from dlib's 68 landmarks, as polygons with a margin in degrees of visual angle.

The optional extra ``landmarks`` (``dlib-bin`` for dlib's compiled library and
``face-recognition-models`` for ``shape_predictor_68_face_landmarks.dat``, the iBUG 300-W
68-point model; Kazemi & Sullivan 2014, Sagonas et al. 2013) is installed from a source checkout
with::

    pip install -e '.[landmarks]'

Numbering (300-W): jaw 0-16, brows 17-21 and 22-26, nose 27-35, eyes 36-41 and 42-47, outer lip
48-59, inner lip 60-67. Regions:

* eyes, mouth: the polygons of their ordered contours (each eye's six points; the **outer** lip
  contour for the mouth, so an open mouth, teeth and all, lies inside it);
* brows, nose: convex hulls (a brow is an arc of five points, the nose a bridge plus nostrils);
* face: the jaw line closed over the brows raised by a fifth of the face height.

Each part region is grown by a margin for the eye tracker's error, given in degrees of visual
angle and converted to stimulus pixels with the screen geometry (so it means the same on every
setup). Default :data:`DEFAULT_MARGIN_DEG` = 0.5 deg: the typical spatial accuracy of lab
video-based trackers (EyeLink 1000: 0.25-0.5 deg typical per the manufacturer; Holmqvist et al.
2011, *Eye Tracking: A comprehensive guide*, report 0.5-1 deg in practice), i.e. a fixation half a
degree outside a drawn region may well have been on it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from gazealign.errors import GazeAlignError
from gazealign.stimuli.crop import FaceBox

BoolArray = npt.NDArray[np.bool_]

#: One command that installs the extra from a source checkout.
INSTALL = "pip install -e '.[landmarks]'   (or: pip install dlib-bin face-recognition-models)"

#: Default region margin for tracker error (see the module docstring for the reason).
DEFAULT_MARGIN_DEG = 0.5

MODEL_FILE = "shape_predictor_68_face_landmarks.dat"

#: Ordered contours drawn as polygons.
CONTOURS: dict[str, list[range]] = {
    "eyes": [range(36, 42), range(42, 48)],
    "mouth": [range(48, 60)],  # outer lip
}
#: Point sets drawn as convex hulls.
HULLS: dict[str, list[range]] = {
    "brows": [range(17, 22), range(22, 27)],
    "nose": [range(27, 36)],
}


class LandmarksMissing(GazeAlignError):
    """The ``landmarks`` extra is not installed."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"landmark regions need the 'landmarks' extra ({what}); install it with: {INSTALL}"
            ' -- or set stimuli.aoi_method = "template"'
        )


def model_path() -> Path | None:
    """``shape_predictor_68_face_landmarks.dat`` of ``face-recognition-models``, or None.

    Located without importing the package: its ``__init__`` imports ``pkg_resources``, which
    setuptools 81 and later no longer ship.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    for base in spec.submodule_search_locations:
        path = Path(base) / "models" / MODEL_FILE
        if path.is_file():
            return path
    return None


def available() -> bool:
    """Both parts of the extra are installed."""
    return importlib.util.find_spec("dlib") is not None and model_path() is not None


_PREDICTOR: list[Any] = []


def _predictor() -> Any:
    if not _PREDICTOR:
        try:
            import dlib
        except ImportError:
            raise LandmarksMissing("dlib is not installed") from None
        path = model_path()
        if path is None:
            raise LandmarksMissing("face-recognition-models is not installed")
        _PREDICTOR.append(dlib.shape_predictor(str(path)))
    return _PREDICTOR[0]


def detect_landmarks(image: npt.NDArray[np.uint8], box: FaceBox) -> npt.NDArray[np.float64]:
    """68 landmarks (x, y) in image pixels of the face in ``box`` (dlib's shape predictor)."""
    import dlib

    predictor = _predictor()
    rect = dlib.rectangle(box.left, box.top, box.left + box.width - 1, box.top + box.height - 1)
    shape = predictor(np.ascontiguousarray(image), rect)
    return np.array([[shape.part(i).x, shape.part(i).y] for i in range(68)], dtype=np.float64)


def _fill(points: npt.NDArray[np.float64], rows: int, cols: int, *, convex: bool) -> BoolArray:
    canvas = np.zeros((rows, cols), dtype=np.uint8)
    pts = np.round(points).astype(np.int32)
    if convex:
        cv2.fillConvexPoly(canvas, cv2.convexHull(pts), 1)
    else:
        cv2.fillPoly(canvas, [pts.reshape(-1, 1, 2)], 1)
    return canvas.astype(bool)


def landmark_regions(
    points_xy: npt.NDArray[np.floating[Any]], rows: int, cols: int, *, margin_px: float
) -> dict[str, BoolArray]:
    """Region masks (eyes, brows, nose, mouth, face; stimulus frame) from 68 points (x, y).

    ``margin_px`` grows every part region by that many pixels (a disc; 0 = the bare polygons).
    The face region is not grown. Regions may overlap here; the AOI layer makes them disjoint.
    """
    pts = np.asarray(points_xy, dtype=np.float64)
    if pts.shape != (68, 2):
        raise ValueError(f"expected 68 landmarks (x, y), got shape {pts.shape}")
    if margin_px < 0:
        raise ValueError(f"margin_px must be >= 0, got {margin_px}")
    radius = round(margin_px)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    out: dict[str, BoolArray] = {}
    for table, convex in ((CONTOURS, False), (HULLS, True)):
        for region, groups in table.items():
            mask = np.zeros((rows, cols), dtype=bool)
            for g in groups:
                mask |= _fill(pts[list(g)], rows, cols, convex=convex)
            out[region] = (
                cv2.dilate(mask.astype(np.uint8), kernel).astype(bool) if radius > 0 else mask
            )
    face_h = float(pts[8, 1] - pts[17:27, 1].min())
    forehead = pts[17:27].copy()
    forehead[:, 1] -= 0.2 * face_h
    out["face"] = _fill(np.vstack([pts[0:17], forehead]), rows, cols, convex=True)
    return out


def margin_px_of(margin_deg: float, px_per_deg_screen: float, stimulus_scale: float) -> float:
    """A margin in degrees as stimulus pixels (screen px per degree / screen px per stimulus px)."""
    return margin_deg * px_per_deg_screen / stimulus_scale
