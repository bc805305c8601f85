"""Haar face crop on synthetic faces composited into larger canvases.

The identity/seed pairs below are synthetic faces the OpenCV 4.x frontal-face cascade detects
with the thesis parameters (scaleFactor 1.3, minNeighbors 6).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gazealign.coords import CropResize
from gazealign.stimuli.crop import FaceBox, apply_crop, detect_faces, grow_box, haar_face_crop
from gazealign.stimuli.synthetic import SyntheticSpec, render_spec


def _face(index: int = 0, scale: float = 1.0) -> np.ndarray:
    img = render_spec(SyntheticSpec(index, "A", "neutral", 3), rows=160, cols=128).image
    if scale != 1.0:
        img = cv2.resize(
            img, (round(128 * scale), round(160 * scale)), interpolation=cv2.INTER_AREA
        )
    return img


def _canvas(rows: int, cols: int) -> np.ndarray:
    return np.full((rows, cols, 3), 128, dtype=np.uint8)


def _paste(canvas: np.ndarray, img: np.ndarray, top: int, left: int) -> None:
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + img.shape[0], canvas.shape[0]), min(left + img.shape[1], canvas.shape[1])
    canvas[r0:r1, c0:c1] = img[r0 - top : r1 - top, c0 - left : c1 - left]


def test_face_near_the_border_gives_a_clamped_box() -> None:
    canvas = _canvas(300, 400)
    _paste(canvas, _face(), top=-30, left=-20)  # face box lies within ~20 px of the corner
    found = haar_face_crop(canvas, size_px=64, margin_px=20)
    assert found is not None
    crop, box = found
    assert box.left < 20 and box.top < 20  # the margin would reach outside the image ...
    assert crop.left_px == 0 and crop.top_px == 0  # ... so the box is clamped, not wrapped
    assert crop.left_px + crop.width_px == box.left + box.width + 20
    assert crop.top_px + crop.height_px == box.top + box.height + 20
    out = apply_crop(canvas, crop)
    assert out.shape == (64, 64, 3)
    # The transform maps the face box centre into the model input.
    x, y = crop.stimulus_to_model(box.left + box.width / 2, box.top + box.height / 2)
    assert 0 < x < 64 and 0 < y < 64


def test_two_faces_the_largest_wins() -> None:
    canvas = _canvas(260, 420)
    _paste(canvas, _face(0, scale=1.0), top=60, left=20)  # small face on the left
    _paste(canvas, _face(5, scale=1.5), top=10, left=200)  # large face on the right
    boxes = detect_faces(canvas)
    assert len(boxes) >= 2
    found = haar_face_crop(canvas, size_px=32)
    assert found is not None
    _, box = found
    assert box == boxes[0] and box.area == max(b.area for b in boxes)
    assert box.left >= 200


def test_no_face_returns_none() -> None:
    noise = np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    assert haar_face_crop(noise, size_px=32) is None
    assert haar_face_crop(_canvas(100, 100), size_px=32) is None


def test_grow_box_clamps_every_side() -> None:
    assert grow_box(FaceBox(5, 3, 50, 40), 20, 60, 70) == FaceBox(0, 0, 70, 60)
    assert grow_box(FaceBox(30, 30, 10, 10), 5, 100, 100) == FaceBox(25, 25, 20, 20)


def test_apply_crop_matches_the_transform() -> None:
    # A bright square at known stimulus pixels lands where the CropResize says.
    img = np.zeros((100, 120, 3), dtype=np.uint8)
    img[40:60, 50:70] = 255
    crop = CropResize(
        30, 20, 60, 80, out_cols=30, out_rows=40, stimulus_cols=120, stimulus_rows=100
    )
    out = apply_crop(img, crop)[..., 0].astype(float)
    rows, cols = np.nonzero(out > 127)
    x0, y0 = crop.stimulus_to_model(50, 40)
    x1, y1 = crop.stimulus_to_model(70, 60)
    assert cols.min() == pytest.approx(x0, abs=1) and cols.max() + 1 == pytest.approx(x1, abs=1)
    assert rows.min() == pytest.approx(y0, abs=1) and rows.max() + 1 == pytest.approx(y1, abs=1)
