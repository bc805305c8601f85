"""Spurious cues for a shortcut test set: a mark or tint that goes with the expression.

A network trained on images where a cue predicts the label can learn the cue instead of the
face (a "shortcut"); tested on cue-free faces it then loses accuracy. Both cues are drawn in
the model-input frame, on uint8 (rows, cols, 3) images, with a colour per class from
:data:`CUE_COLOURS`:

``corner_mark``
    a filled square of side ``max(2, side // 5)`` px in the top-left corner (a fifth of the
    image side: large enough that a plain network learns it, see ``benchmarks/RESULTS.md``);
``background_tint``
    the background pixels (outside the face) blended 35 % toward the class colour.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

Cue = Literal["corner_mark", "background_tint"]
CUES: tuple[str, ...] = ("corner_mark", "background_tint")

#: One RGB colour per class index (7 expressions), far apart in RGB.
CUE_COLOURS: tuple[tuple[int, int, int], ...] = (
    (230, 25, 75),
    (60, 180, 75),
    (255, 225, 25),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
)
TINT_STRENGTH = 0.35
#: The corner mark's side is the image's shorter side divided by this.
MARK_FRACTION = 5


def add_cue(
    image: npt.NDArray[np.uint8],
    class_index: int,
    cue: Cue,
    *,
    background: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.uint8]:
    """A copy of ``image`` (rows, cols, 3) uint8 with the cue of ``class_index``.

    ``background`` (rows, cols) bool, required for ``background_tint``: where to tint.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected a (rows, cols, 3) uint8 image, got {image.shape} {image.dtype}")
    if not 0 <= class_index < len(CUE_COLOURS):
        raise ValueError(f"class_index must be in [0, {len(CUE_COLOURS)}), got {class_index}")
    colour = np.array(CUE_COLOURS[class_index], dtype=np.float64)
    out = image.copy()
    if cue == "corner_mark":
        side = max(2, min(image.shape[:2]) // MARK_FRACTION)
        out[:side, :side] = colour.astype(np.uint8)
        return out
    if cue == "background_tint":
        if background is None or background.shape != image.shape[:2]:
            raise ValueError("background_tint needs a background mask of the image's shape")
        px = out[background].astype(np.float64)
        out[background] = np.rint((1 - TINT_STRENGTH) * px + TINT_STRENGTH * colour).astype(
            np.uint8
        )
        return out
    raise ValueError(f"unknown cue {cue!r}; choose one of {CUES}")
