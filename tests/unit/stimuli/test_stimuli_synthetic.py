"""Synthetic faces: exact planted regions, AOIs, determinism, expression cues in the features."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from gazealign.stimuli.artifacts import AOI_REGIONS
from gazealign.stimuli.synthetic import (
    EXPRESSION_AUS,
    SyntheticSpec,
    expression_aus,
    identity_shift_px,
    render_face,
    render_spec,
    spec_conditions,
    synthetic_specs,
)
from gazealign.types import LABELS

ROWS, COLS = 96, 80


@pytest.mark.parametrize("label", [lbl for lbl in LABELS if lbl != "neutral"])
def test_planted_mask_is_exactly_where_the_face_differs_from_its_neutral(label: str) -> None:
    spec = SyntheticSpec(identity_index=3, session="A", label=label, seed=11)
    face = render_spec(spec, rows=ROWS, cols=COLS)
    ident, view, intensity = spec_conditions(spec)
    # The identity's neutral face under the same light, pose and noise, rendered separately.
    neutral, _ = render_face(ident, view, {}, rows=ROWS, cols=COLS)
    expected = np.any(face.image != neutral, axis=2)
    np.testing.assert_array_equal(face.planted, expected)
    assert 0.5 <= intensity <= 1.0
    assert face.planted.sum() >= 40  # a facial change, not a marker pixel


def test_neutral_has_no_planted_region() -> None:
    face = render_spec(SyntheticSpec(0, "A", "neutral", 5), rows=ROWS, cols=COLS)
    assert not face.planted.any()
    assert face.intensity == 0.0


# Which features each expression's action units move (FACS: brows AU1/2/4, lids AU5/6/7,
# nose AU9, mouth AU10/12/15/20/23/24/25/26).
FEATURES = {
    "afraid": {"brows", "eyes", "mouth"},
    "angry": {"brows", "eyes", "mouth"},
    "disgusted": {"nose", "mouth"},
    "happy": {"eyes", "mouth"},
    "sad": {"brows", "mouth"},
    "surprised": {"brows", "eyes", "mouth"},
}


@pytest.mark.parametrize("label", sorted(FEATURES))
def test_planted_regions_lie_in_the_facial_features(label: str) -> None:
    for index in range(3):
        face = render_spec(
            SyntheticSpec(index, "A", label, 2), rows=ROWS, cols=COLS, intensity_range=(0.5, 0.5)
        )
        planted = face.planted
        for region in FEATURES[label]:
            assert (planted & face.aois[region]).sum() >= 3, (label, index, region)
        features = np.zeros_like(planted)
        for region in ("eyes", "brows", "nose", "mouth"):
            features |= face.aois[region]
        near = ndimage.binary_dilation(features, iterations=4)
        # Most changed pixels are in or next to the features (the rest: folds, wrinkles, chin).
        assert (planted & near).sum() / planted.sum() > 0.6, label
        assert not (
            planted
            & face.aois["background"]
            & ~ndimage.binary_dilation(face.aois["face"], iterations=3)
        ).any()


def test_aois_are_disjoint_inside_the_face_and_cover_the_image() -> None:
    face = render_spec(SyntheticSpec(1, "A", "surprised", 0), rows=ROWS, cols=COLS)
    assert set(face.aois) == set(AOI_REGIONS)
    parts = [face.aois[r] for r in ("eyes", "brows", "nose", "mouth")]
    assert (np.sum(parts, axis=0) <= 1).all()
    for p in parts:
        assert p.any()
        assert not (p & ~face.aois["face"]).any()
    np.testing.assert_array_equal(face.aois["background"], ~face.aois["face"])


def test_rendering_is_deterministic_and_identities_differ() -> None:
    a = render_spec(SyntheticSpec(2, "A", "happy", 9), rows=ROWS, cols=COLS)
    b = render_spec(SyntheticSpec(2, "A", "happy", 9), rows=ROWS, cols=COLS)
    np.testing.assert_array_equal(a.image, b.image)
    c = render_spec(SyntheticSpec(2, "A", "happy", 10), rows=ROWS, cols=COLS)
    d = render_spec(SyntheticSpec(3, "A", "happy", 9), rows=ROWS, cols=COLS)
    assert np.abs(a.image.astype(int) - c.image).mean() > 5
    assert np.abs(a.image.astype(int) - d.image).mean() > 5


@pytest.mark.parametrize(("rows", "cols"), [(48, 40), (160, 128), (120, 160)])
def test_any_image_size(rows: int, cols: int) -> None:
    face = render_spec(SyntheticSpec(0, "A", "angry", 1), rows=rows, cols=cols)
    assert face.image.shape == (rows, cols, 3)
    assert face.planted.shape == (rows, cols)
    assert face.planted.any()
    # The face sits in the frame: its oval touches neither the left nor the right edge.
    assert not face.aois["face"][:, 0].any() and not face.aois["face"][:, -1].any()


def test_expression_aus_scale_with_intensity() -> None:
    assert expression_aus("happy", 0.5) == {
        au: 0.5 * w for au, w in EXPRESSION_AUS["happy"].items()
    }
    assert expression_aus("neutral", 1.0) == {}
    with pytest.raises(ValueError, match="unknown expression"):
        expression_aus("contempt", 1.0)


def test_specs_follow_kdef_numbering() -> None:
    specs = synthetic_specs(3, 0, sessions=2)
    assert len(specs) == 3 * 2 * 7
    assert specs[0].stem == "AF01AFS" and specs[7].stem == "BF01AFS"
    assert {s.subject for s in specs} == {"F01", "M01", "F02"}
    with pytest.raises(ValueError, match="identities"):
        synthetic_specs(71, 0)


def test_polyline_distance_and_window_equal_the_per_segment_loop() -> None:
    from gazealign.stimuli.synthetic import _near_polyline, _polyline_distance

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:40, 0:50] / 20.0 - 1.0
    pts = np.cumsum(rng.normal(0, 0.15, (9, 2)), axis=0)
    pts[4] = pts[3]  # a zero-length segment
    best, along = np.full(x.shape, np.inf), np.zeros(x.shape)
    n = len(pts) - 1
    for i in range(n):  # the plain loop: nearest segment wins, the first on ties
        (x0, y0), (x1, y1) = pts[i], pts[i + 1]
        vx, vy = x1 - x0, y1 - y0
        t = np.clip(((x - x0) * vx + (y - y0) * vy) / (vx * vx + vy * vy + 1e-12), 0.0, 1.0)
        d = np.hypot(x - (x0 + t * vx), y - (y0 + t * vy))
        better = d < best
        best, along = np.where(better, d, best), np.where(better, (i + t) / n, along)
    d, a = _polyline_distance(x, y, pts)
    assert np.array_equal(d, best) and np.array_equal(a, along)
    for radius in (0.05, 0.3):
        near = _near_polyline(x, y, pts, radius)
        assert np.array_equal(near, best < radius) and 0 < near.sum() < near.size
    assert not _near_polyline(x, y, pts + 10.0, 0.1).any()


def test_pose_jitter_shifts_every_image_of_an_identity_alike() -> None:
    specs = [s for s in synthetic_specs(3, seed=4) if s.label in ("happy", "sad")]
    shifts = {}
    for spec in specs:
        plain = render_spec(spec, rows=96, cols=80)
        assert_same = render_spec(spec, rows=96, cols=80, pose_jitter_px=0.0)
        np.testing.assert_array_equal(plain.image, assert_same.image)  # 0: the faces as before
        moved = render_spec(spec, rows=96, cols=80, pose_jitter_px=3.0)
        rows0, cols0 = np.nonzero(plain.aois["face"])
        rows1, cols1 = np.nonzero(moved.aois["face"])
        shift = (cols1.mean() - cols0.mean(), rows1.mean() - rows0.mean())
        dx, dy = identity_shift_px(spec.identity_index, spec.seed, 3.0)
        assert abs(dx) <= 3 and abs(dy) <= 3
        # the face oval moves by the drawn shift (to the pixel grid)
        assert shift == pytest.approx((dx, dy), abs=0.35), spec.stem
        shifts.setdefault(spec.identity_index, set()).add((dx, dy))
    assert all(len(s) == 1 for s in shifts.values())  # one shift per identity
    assert len(set().union(*shifts.values())) == 3  # and different identities differ
    assert identity_shift_px(0, 4, 0.0) == (0.0, 0.0)
    with pytest.raises(ValueError, match="pose_jitter_px"):
        identity_shift_px(0, 4, -1.0)
