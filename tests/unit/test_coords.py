"""Coordinate transforms: round trips and known values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gazealign.coords import CropResize, Placement, ScreenGeometry, model_to_screen, screen_to_model

SCREEN = ScreenGeometry(
    width_px=1920, height_px=1080, width_cm=53.0, height_cm=30.0, distance_cm=65.0
)


def test_px_per_deg_formula() -> None:
    # SCIENCE.md 6: distance_cm * tan(1 deg) * resolution_px / screen_size_cm
    expected_x = 65.0 * math.tan(math.radians(1)) * 1920 / 53.0
    assert SCREEN.px_per_deg_x == pytest.approx(expected_x, rel=1e-12)
    assert SCREEN.px_per_deg_x == pytest.approx(41.1, abs=0.05)
    assert SCREEN.deg_to_px(2.0) == pytest.approx(2 * SCREEN.px_per_deg, rel=1e-12)
    assert SCREEN.px_to_deg(SCREEN.deg_to_px(1.7)) == pytest.approx(1.7, rel=1e-12)


def test_position_deg_is_zero_at_centre_and_round_trips() -> None:
    x, y = SCREEN.position_px_to_deg(960.0, 540.0)
    assert float(x) == pytest.approx(0.0) and float(y) == pytest.approx(0.0)
    xs = np.array([0.0, 100.0, 1919.0])
    ys = np.array([0.0, 700.0, 1079.0])
    back = SCREEN.position_deg_to_px(*SCREEN.position_px_to_deg(xs, ys))
    np.testing.assert_allclose(back[0], xs, atol=1e-9)
    np.testing.assert_allclose(back[1], ys, atol=1e-9)


def test_bad_geometry_is_rejected() -> None:
    with pytest.raises(ValueError, match="distance_cm"):
        ScreenGeometry(1920, 1080, 53.0, 30.0, 0.0)


def test_centred_placement() -> None:
    p = Placement.centred(SCREEN, 562, 762, scale=1.0)
    x, y = p.stimulus_to_screen(281.0, 381.0)
    assert (float(x), float(y)) == (960.0, 540.0)
    assert p.contains(np.array([0.0, 561.9, 562.0]), np.array([0.0, 10.0, 10.0])).tolist() == [
        True,
        True,
        False,
    ]


def test_crop_resize_known_values() -> None:
    crop = CropResize(
        left_px=100,
        top_px=200,
        width_px=300,
        height_px=300,
        out_cols=224,
        out_rows=224,
        stimulus_cols=562,
        stimulus_rows=762,
    )
    x, y = crop.stimulus_to_model(100.0, 200.0)
    assert (float(x), float(y)) == (0.0, 0.0)
    x, y = crop.stimulus_to_model(400.0, 500.0)
    assert (float(x), float(y)) == pytest.approx((224.0, 224.0))


def test_crop_box_outside_image_is_rejected() -> None:
    with pytest.raises(ValueError, match="outside"):
        CropResize(500, 0, 100, 100, 224, 224, stimulus_cols=562, stimulus_rows=762)


def test_map_resampling_round_trip_of_smooth_map() -> None:
    crop = CropResize(0, 0, 200, 200, 100, 100, stimulus_cols=200, stimulus_rows=200)
    rows, cols = np.mgrid[0:100, 0:100] + 0.5
    model_map = np.exp(-((rows - 40) ** 2 + (cols - 60) ** 2) / (2 * 15.0**2))
    stim = crop.map_to_stimulus(model_map)
    assert stim.shape == (200, 200)
    back = crop.map_to_model(stim)
    np.testing.assert_allclose(back, model_map, atol=2e-3)
    # the peak moves by the scale factor
    r, c = np.unravel_index(np.argmax(stim), stim.shape)
    assert abs(r - 80) <= 1 and abs(c - 120) <= 1


def test_map_to_stimulus_fills_outside_crop() -> None:
    crop = CropResize(10, 20, 50, 40, 25, 20, stimulus_cols=100, stimulus_rows=80)
    stim = crop.map_to_stimulus(np.ones((20, 25)), fill=-1.0)
    assert stim[0, 0] == -1.0 and stim[30, 30] == 1.0 and stim[30, 70] == -1.0


finite = st.floats(min_value=-5000, max_value=5000, allow_nan=False)


@given(
    x=finite,
    y=finite,
    left=st.floats(-500, 1500),
    top=st.floats(-500, 900),
    scale=st.floats(0.1, 5.0),
    box=st.tuples(
        st.integers(0, 200), st.integers(0, 200), st.integers(1, 362), st.integers(1, 562)
    ),
    out=st.integers(8, 512),
)
def test_composed_transforms_and_inverses_are_identity(
    x: float,
    y: float,
    left: float,
    top: float,
    scale: float,
    box: tuple[int, int, int, int],
    out: int,
) -> None:
    placement = Placement(left_px=left, top_px=top, scale=scale, width_px=562, height_px=762)
    crop = CropResize(
        box[0], box[1], box[2], box[3], out, out, stimulus_cols=562, stimulus_rows=762
    )
    mx, my = screen_to_model(placement, crop, x, y)
    sx, sy = model_to_screen(placement, crop, mx, my)
    assert float(sx) == pytest.approx(x, abs=1e-6 * (1 + abs(x)))
    assert float(sy) == pytest.approx(y, abs=1e-6 * (1 + abs(y)))
