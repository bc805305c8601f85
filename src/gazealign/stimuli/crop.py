"""Face crop with OpenCV's Haar cascade, recorded as a :class:`~gazealign.coords.CropResize`.

Parameters follow the seed study (``haarcascade_frontalface_default.xml``,
``detectMultiScale(scaleFactor=1.3, minNeighbors=6)``, 20 px margin per side, resize to the model
input) with its bugs fixed: the largest detection is used (not every one in turn), the grown box
is clamped to the image (Python's negative indices made the thesis wrap around), and an image
without a detection is reported, not passed on uncropped.

The crop box is then resized to ``size x size``: a box clamped at the border is not square, and
the resize then scales rows and columns differently; :class:`CropResize` records both scales so
every map converts back exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from gazealign.coords import CropResize
from gazealign.errors import DataError

HAAR_FILE = "haarcascade_frontalface_default.xml"


@dataclass(frozen=True)
class FaceBox:
    """A face box in stimulus pixels: columns [left, left+width), rows [top, top+height)."""

    left: int
    top: int
    width: int
    height: int

    @property
    def area(self) -> int:
        return self.width * self.height


@lru_cache(maxsize=2)
def _cascade(name: str = HAAR_FILE) -> cv2.CascadeClassifier:
    base = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if base is None:
        raise DataError(
            "this OpenCV build ships no Haar cascades (cv2.data.haarcascades); "
            "install opencv-python-headless 4.x"
        )
    path = Path(base) / name
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise DataError(f"{path}: cannot load the Haar cascade")
    return cascade


def detect_faces(
    image: npt.NDArray[np.uint8],
    *,
    scale_factor: float = 1.3,
    min_neighbors: int = 6,
    min_size_px: int = 24,
) -> list[FaceBox]:
    """All Haar-cascade face detections in an RGB (or grey) uint8 image, largest first."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    found = _cascade().detectMultiScale(
        grey,
        scaleFactor=scale_factor,
        minNeighbors=min_neighbors,
        minSize=(min_size_px, min_size_px),
    )
    boxes = [
        FaceBox(int(x), int(y), int(w), int(h)) for x, y, w, h in np.asarray(found).reshape(-1, 4)
    ]
    # Largest first; ties broken by position so the order is deterministic.
    return sorted(boxes, key=lambda b: (-b.area, b.top, b.left))


@dataclass(frozen=True)
class FaceDetection:
    """Every face the cascade found in one image (largest first) and which one is used.

    The largest box is used; boxes of equal area are ordered top to bottom, then left to right,
    so a tie is broken the same way every time, and :attr:`tie` says that it happened.
    """

    boxes: tuple[FaceBox, ...]

    @property
    def faces_found(self) -> int:
        return len(self.boxes)

    @property
    def chosen(self) -> FaceBox | None:
        return self.boxes[0] if self.boxes else None

    @property
    def tie(self) -> bool:
        """Two or more largest boxes of the same area: the choice between them is by position."""
        return len(self.boxes) > 1 and self.boxes[0].area == self.boxes[1].area

    def warnings(self, source: str) -> list[str]:
        """What a user should hear about this image (several faces, a tie), one line each."""
        out = []
        if self.faces_found > 1:
            sizes = ", ".join(f"{b.width}x{b.height}" for b in self.boxes)
            chosen = self.boxes[0]
            out.append(
                f"{source}: {self.faces_found} faces found ({sizes} px); the largest is used, "
                f"at column {chosen.left}, row {chosen.top}"
            )
        if self.tie:
            out.append(
                f"{source}: the largest faces are equally large; the one nearest the top (then the left) is used"
            )
        return out


def find_faces(
    image: npt.NDArray[np.uint8],
    *,
    scale_factor: float = 1.3,
    min_neighbors: int = 6,
    min_size_px: int = 24,
) -> FaceDetection:
    """The faces of one image as a :class:`FaceDetection` (what ``faces scan`` reports)."""
    return FaceDetection(
        tuple(
            detect_faces(
                image,
                scale_factor=scale_factor,
                min_neighbors=min_neighbors,
                min_size_px=min_size_px,
            )
        )
    )


def grow_box(box: FaceBox, margin_px: int, rows: int, cols: int) -> FaceBox:
    """``box`` grown by ``margin_px`` on every side, clamped to a rows x cols image."""
    left = max(0, box.left - margin_px)
    top = max(0, box.top - margin_px)
    right = min(cols, box.left + box.width + margin_px)
    bottom = min(rows, box.top + box.height + margin_px)
    if right <= left or bottom <= top:
        raise ValueError(f"face box {box} lies outside the {rows}x{cols} image")
    return FaceBox(left, top, right - left, bottom - top)


def crop_for_box(box: FaceBox, rows: int, cols: int, size_px: int) -> CropResize:
    """The transform cropping ``box`` out of a rows x cols image and resizing it to size x size."""
    return CropResize(box.left, box.top, box.width, box.height, size_px, size_px, cols, rows)


def whole_image_crop(rows: int, cols: int, size_px: int) -> CropResize:
    """No crop: the whole image resized to size x size (non-square images are stretched)."""
    return CropResize.resize_only(rows, cols, size_px, size_px)


def haar_face_crop(
    image: npt.NDArray[np.uint8],
    *,
    size_px: int,
    margin_px: int = 20,
    scale_factor: float = 1.3,
    min_neighbors: int = 6,
) -> tuple[CropResize, FaceBox] | None:
    """Crop of the largest detected face (box grown by ``margin_px``, clamped), or None."""
    boxes = detect_faces(image, scale_factor=scale_factor, min_neighbors=min_neighbors)
    if not boxes:
        return None
    rows, cols = image.shape[:2]
    return crop_for_box(grow_box(boxes[0], margin_px, rows, cols), rows, cols, size_px), boxes[0]


def apply_crop(image: npt.NDArray[np.uint8], crop: CropResize) -> npt.NDArray[np.uint8]:
    """Cut the crop box out of ``image`` and resize it to the model input (out_rows, out_cols).

    Area averaging when shrinking, bilinear when enlarging. OpenCV samples at pixel centres,
    the same convention as :class:`CropResize`.
    """
    if image.shape[:2] != (crop.stimulus_rows, crop.stimulus_cols):
        raise ValueError(
            f"image is {image.shape[:2]}, crop is for {(crop.stimulus_rows, crop.stimulus_cols)}"
        )
    box = image[
        crop.top_px : crop.top_px + crop.height_px, crop.left_px : crop.left_px + crop.width_px
    ]
    if (crop.out_rows, crop.out_cols) == box.shape[:2]:
        return np.ascontiguousarray(box)
    shrink = crop.out_rows < crop.height_px and crop.out_cols < crop.width_px
    out = cv2.resize(
        np.ascontiguousarray(box),
        (crop.out_cols, crop.out_rows),
        interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR,
    )
    return np.asarray(out, dtype=np.uint8)
