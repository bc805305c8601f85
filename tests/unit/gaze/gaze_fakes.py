"""Fake stimuli for gaze tests: rectangle AOIs on a 160 x 128 image (no stimuli stage needed)."""

from __future__ import annotations

import numpy as np

from gazealign.coords import ScreenGeometry
from gazealign.gaze.simulate import SimStimulus
from gazealign.types import LABELS

ROWS, COLS = 160, 128
SCREEN = ScreenGeometry(1920, 1080, 53.0, 30.0, 65.0)
SCALE = 4.0


def face_aois(rows: int = ROWS, cols: int = COLS) -> dict[str, np.ndarray]:
    """Face, eyes, brows, nose and mouth as rectangles; background = not face."""
    a = {k: np.zeros((rows, cols), dtype=bool) for k in ("eyes", "brows", "nose", "mouth", "face")}
    a["face"][10:150, 10:118] = True
    a["eyes"][50:65, 25:55] = True
    a["eyes"][50:65, 73:103] = True
    a["brows"][38:46, 25:55] = True
    a["brows"][38:46, 73:103] = True
    a["nose"][70:100, 50:78] = True
    a["mouth"][110:130, 35:93] = True
    a["background"] = ~a["face"]
    return a


def fake_stimuli(per_label: int) -> list[SimStimulus]:
    return [
        SimStimulus(f"S{i:02d}{label[:2].upper()}", label, face_aois())
        for i in range(per_label)
        for label in LABELS
    ]
