"""Core value types shared by every part of gazealign.

Arrays are indexed (row, col); gaze positions are (x, y) with x along columns. Pixel (r, c)
covers the continuous square [c, c+1) x [r, r+1), so its centre is (c + 0.5, r + 0.5).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from gazealign.errors import DataError

#: The one label vocabulary. Every dataset's codes map onto these names.
LABELS: tuple[str, ...] = ("afraid", "angry", "disgusted", "happy", "neutral", "sad", "surprised")

#: Coordinate frames a map can live in. ``stimulus``: the original image as shown to people.
#: ``model_input``: the cropped and resized image the network sees.
Frame = Literal["stimulus", "model_input"]
FRAMES: tuple[str, ...] = ("stimulus", "model_input")


@dataclass(frozen=True)
class Stimulus:
    """One face image with its expression label and the identity (subject) shown.

    ``image`` is (rows, cols, 3) uint8 RGB in the stimulus frame (as shown to people).
    ``metadata`` holds dataset specifics (session, angle, gender, source path, ...).
    """

    stimulus_id: str
    image: npt.NDArray[np.uint8]
    label: str
    subject: str
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.label not in LABELS:
            raise DataError(
                f"stimulus {self.stimulus_id!r}: label {self.label!r} is not one of {LABELS}"
            )
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise DataError(
                f"stimulus {self.stimulus_id!r}: image must be (rows, cols, 3) uint8 RGB, "
                f"got shape {self.image.shape} dtype {self.image.dtype}"
            )

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the image."""
        return (int(self.image.shape[0]), int(self.image.shape[1]))


@dataclass(frozen=True)
class Step:
    """One named processing step that made a map, with its parameters."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "params": dict(self.params)}


@dataclass(frozen=True)
class SaliencyMap:
    """A 2-D map over an image, with its coordinate frame and the steps that made it.

    ``values`` is (rows, cols) float64. Nothing normalises it implicitly: every change is a
    new map with one more :class:`Step`.
    """

    values: npt.NDArray[np.float64]
    frame: Frame
    stimulus_id: str
    steps: tuple[Step, ...] = ()

    def __post_init__(self) -> None:
        if self.frame not in FRAMES:
            raise ValueError(f"frame must be one of {FRAMES}, got {self.frame!r}")
        if self.values.ndim != 2:
            raise ValueError(f"a saliency map is 2-D (rows, cols), got shape {self.values.shape}")

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.values.shape[0]), int(self.values.shape[1]))

    def with_step(
        self,
        name: str,
        values: npt.NDArray[np.float64],
        *,
        frame: Frame | None = None,
        **params: Any,
    ) -> SaliencyMap:
        """A new map made from this one by the step ``name`` (recorded with ``params``)."""
        return SaliencyMap(
            values=np.asarray(values, dtype=np.float64),
            frame=self.frame if frame is None else frame,
            stimulus_id=self.stimulus_id,
            steps=(*self.steps, Step(name, params)),
        )

    def provenance(self) -> list[dict[str, Any]]:
        return [s.as_dict() for s in self.steps]


# --- The fixation table -----------------------------------------------------------------------

#: Required columns of a fixation table and their dtypes. Positions are in the frame named by
#: the table's ``frame`` column (``screen`` or ``stimulus``) and are in pixels.
FIXATION_COLUMNS: dict[str, str] = {
    "subject": "string",
    "trial": "int64",
    "stimulus_id": "string",
    "x_px": "float64",
    "y_px": "float64",
    "onset_ms": "float64",
    "duration_ms": "float64",
    "frame": "string",
}

#: Optional columns carried when known.
FIXATION_OPTIONAL_COLUMNS: dict[str, str] = {
    "eye": "string",
    "label": "string",
    "response": "string",
    "correct": "boolean",
}

FIXATION_FRAMES: tuple[str, ...] = ("screen", "stimulus", "model_input")


def validate_fixations(table: pd.DataFrame, *, source: str = "fixation table") -> pd.DataFrame:
    """Check ``table`` against the fixation schema and return it with canonical dtypes.

    Raises :class:`DataError` naming ``source`` and the offending column.
    """
    missing = [c for c in FIXATION_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(
            f"{source}: missing column(s) {missing}; a fixation table needs {list(FIXATION_COLUMNS)}"
        )
    out = table.copy()
    for column, dtype in {**FIXATION_COLUMNS, **FIXATION_OPTIONAL_COLUMNS}.items():
        if column not in out.columns:
            continue
        try:
            out[column] = out[column].astype(dtype)  # type: ignore[call-overload]
        except (TypeError, ValueError) as exc:
            raise DataError(f"{source}: column {column!r} must be {dtype}: {exc}") from None
    bad_frame = set(out["frame"].dropna().unique()) - set(FIXATION_FRAMES)
    if bad_frame:
        raise DataError(
            f"{source}: column 'frame' has {sorted(bad_frame)}; expected {FIXATION_FRAMES}"
        )
    if (out["duration_ms"] < 0).any():
        row = int(np.flatnonzero((out["duration_ms"] < 0).to_numpy())[0])
        raise DataError(f"{source}: row {row} has a negative duration_ms")
    return out
