"""Shortcut cues: where they are drawn, per class, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from gazealign.stimuli.shortcut import CUE_COLOURS, TINT_STRENGTH, add_cue


def test_corner_mark_is_a_class_coloured_square_in_the_top_left() -> None:
    image = np.full((40, 30, 3), 100, np.uint8)
    out = add_cue(image, 3, "corner_mark")
    side = 6  # min(40, 30) // 5
    assert (out[:side, :side] == CUE_COLOURS[3]).all()
    changed = np.any(out != image, axis=2)
    assert changed.sum() == side * side and changed[:side, :side].all()
    assert (image == 100).all()  # the input is not modified
    # every class has its own colour
    marks = {tuple(add_cue(image, k, "corner_mark")[0, 0]) for k in range(7)}
    assert len(marks) == 7


def test_background_tint_blends_only_the_background() -> None:
    image = np.full((10, 10, 3), 200, np.uint8)
    background = np.zeros((10, 10), bool)
    background[:, :3] = True
    out = add_cue(image, 0, "background_tint", background=background)
    expect = np.rint((1 - TINT_STRENGTH) * 200 + TINT_STRENGTH * np.array(CUE_COLOURS[0]))
    np.testing.assert_array_equal(out[background], np.broadcast_to(expect, (30, 3)))
    np.testing.assert_array_equal(out[~background], image[~background])


def test_bad_cue_input_is_rejected() -> None:
    image = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="class_index"):
        add_cue(image, 7, "corner_mark")
    with pytest.raises(ValueError, match="background mask"):
        add_cue(image, 0, "background_tint")
    with pytest.raises(ValueError, match="unknown cue"):
        add_cue(image, 0, "stripes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="uint8"):
        add_cue(image.astype(np.float32), 0, "corner_mark")  # type: ignore[arg-type]
