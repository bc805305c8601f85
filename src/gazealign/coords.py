"""Every coordinate conversion of gazealign: screen px <-> stimulus px <-> model-input px,
and px <-> degrees of visual angle.

Conventions: positions are (x, y) in continuous pixel units, x along columns, y along rows;
pixel (r, c) covers [c, c+1) x [r, r+1). Each transform maps continuous positions exactly
and has an exact inverse, so a round trip is the identity up to float rounding.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import ndimage

FloatArray = npt.NDArray[np.float64]
ArrayLike = float | npt.NDArray[np.floating[Any]]


@dataclass(frozen=True)
class ScreenGeometry:
    """The physical screen and viewing distance of an eye-tracking experiment.

    Pixels per degree as in the MIT saliency benchmark (Bylinskii et al. 2018, IEEE TPAMI 41(3)):
    ``distance_cm * tan(1 deg) * width_px / width_cm``.
    The conversion about the screen centre is exact (atan of the offset), not the small-angle
    approximation, for :meth:`offset_px_to_deg`.
    """

    width_px: int
    height_px: int
    width_cm: float
    height_cm: float
    distance_cm: float

    def __post_init__(self) -> None:
        for name in ("width_px", "height_px", "width_cm", "height_cm", "distance_cm"):
            if not getattr(self, name) > 0:
                raise ValueError(f"screen geometry: {name} must be > 0, got {getattr(self, name)}")

    @property
    def px_per_cm_x(self) -> float:
        return self.width_px / self.width_cm

    @property
    def px_per_cm_y(self) -> float:
        return self.height_px / self.height_cm

    @property
    def px_per_deg_x(self) -> float:
        """Horizontal pixels per degree of visual angle (at the screen centre)."""
        return self.distance_cm * math.tan(math.radians(1.0)) * self.px_per_cm_x

    @property
    def px_per_deg_y(self) -> float:
        return self.distance_cm * math.tan(math.radians(1.0)) * self.px_per_cm_y

    @property
    def px_per_deg(self) -> float:
        """Mean of horizontal and vertical pixels per degree (equal for square pixels)."""
        return 0.5 * (self.px_per_deg_x + self.px_per_deg_y)

    def deg_to_px(self, size_deg: ArrayLike) -> ArrayLike:
        """A size in degrees of visual angle to pixels (linear, at the screen centre).

        Parameters
        ----------
        size_deg
            Size(s) in degrees.

        Returns
        -------
        float or numpy.ndarray
            The size(s) in pixels.
        """
        return size_deg * self.px_per_deg

    def px_to_deg(self, size_px: ArrayLike) -> ArrayLike:
        """A size in pixels to degrees of visual angle (linear, at the screen centre).

        Parameters
        ----------
        size_px
            Size(s) in pixels.

        Returns
        -------
        float or numpy.ndarray
            The size(s) in degrees.
        """
        return size_px / self.px_per_deg

    def position_px_to_deg(self, x_px: ArrayLike, y_px: ArrayLike) -> tuple[ArrayLike, ArrayLike]:
        """Screen position (px) to visual angle (deg) from the screen centre, exactly (atan).

        Parameters
        ----------
        x_px, y_px
            Screen positions in pixels (origin top left).

        Returns
        -------
        (x_deg, y_deg)
            Degrees from the screen centre (right and down positive).
        """
        dx_cm = (np.asarray(x_px, dtype=np.float64) - self.width_px / 2) / self.px_per_cm_x
        dy_cm = (np.asarray(y_px, dtype=np.float64) - self.height_px / 2) / self.px_per_cm_y
        return (
            np.degrees(np.arctan2(dx_cm, self.distance_cm)),
            np.degrees(np.arctan2(dy_cm, self.distance_cm)),
        )

    def position_deg_to_px(self, x_deg: ArrayLike, y_deg: ArrayLike) -> tuple[ArrayLike, ArrayLike]:
        """Inverse of :meth:`position_px_to_deg`.

        Parameters
        ----------
        x_deg, y_deg
            Degrees from the screen centre.

        Returns
        -------
        (x_px, y_px)
            Screen positions in pixels.
        """
        dx_cm = self.distance_cm * np.tan(np.radians(np.asarray(x_deg, dtype=np.float64)))
        dy_cm = self.distance_cm * np.tan(np.radians(np.asarray(y_deg, dtype=np.float64)))
        return (
            dx_cm * self.px_per_cm_x + self.width_px / 2,
            dy_cm * self.px_per_cm_y + self.height_px / 2,
        )

    def as_dict(self) -> dict[str, Any]:
        """The fields by name, in declaration order."""
        return asdict(self)


@dataclass(frozen=True)
class Placement:
    """Where a stimulus image sits on the screen: top-left corner and uniform scale.

    A stimulus pixel position (x, y) appears on screen at ``(left_px + x*scale, top_px + y*scale)``.
    """

    left_px: float
    top_px: float
    scale: float
    width_px: int  # stimulus image width (stimulus frame)
    height_px: int  # stimulus image height

    def __post_init__(self) -> None:
        if not self.scale > 0:
            raise ValueError(f"placement: scale must be > 0, got {self.scale}")

    @classmethod
    def centred(
        cls, screen: ScreenGeometry, width_px: int, height_px: int, scale: float = 1.0
    ) -> Placement:
        """The stimulus centred on the screen at ``scale``.

        Parameters
        ----------
        screen
            The screen.
        width_px, height_px
            The stimulus image's size.
        scale
            Screen pixels per stimulus pixel.

        Returns
        -------
        Placement
            The placement.
        """
        return cls(
            left_px=(screen.width_px - width_px * scale) / 2,
            top_px=(screen.height_px - height_px * scale) / 2,
            scale=scale,
            width_px=width_px,
            height_px=height_px,
        )

    def screen_to_stimulus(self, x_px: ArrayLike, y_px: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Screen px to stimulus-frame px (inverse of :meth:`stimulus_to_screen`).

        Parameters
        ----------
        x_px, y_px
            Screen positions.

        Returns
        -------
        (x, y)
            Stimulus-frame positions (may lie off the image).
        """
        x = (np.asarray(x_px, dtype=np.float64) - self.left_px) / self.scale
        y = (np.asarray(y_px, dtype=np.float64) - self.top_px) / self.scale
        return x, y

    def stimulus_to_screen(self, x_px: ArrayLike, y_px: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Stimulus-frame px to screen px.

        Parameters
        ----------
        x_px, y_px
            Stimulus-frame positions.

        Returns
        -------
        (x, y)
            Screen positions.
        """
        x = np.asarray(x_px, dtype=np.float64) * self.scale + self.left_px
        y = np.asarray(y_px, dtype=np.float64) * self.scale + self.top_px
        return x, y

    def contains(self, x_px: ArrayLike, y_px: ArrayLike) -> npt.NDArray[np.bool_]:
        """Whether stimulus-frame positions lie on the image.

        Parameters
        ----------
        x_px, y_px
            Stimulus-frame positions.

        Returns
        -------
        numpy.ndarray
            Boolean, True on the image.
        """
        x = np.asarray(x_px, dtype=np.float64)
        y = np.asarray(y_px, dtype=np.float64)
        return (x >= 0) & (x < self.width_px) & (y >= 0) & (y < self.height_px)

    def as_dict(self) -> dict[str, Any]:
        """The fields by name, in declaration order."""
        return asdict(self)


@dataclass(frozen=True)
class CropResize:
    """Stimulus frame -> model-input frame: crop a box, then resize it to (out_rows, out_cols).

    The box is in stimulus pixels: columns [left, left+width), rows [top, top+height).
    """

    left_px: int
    top_px: int
    width_px: int
    height_px: int
    out_cols: int
    out_rows: int
    stimulus_cols: int
    stimulus_rows: int

    def __post_init__(self) -> None:
        if min(self.width_px, self.height_px, self.out_cols, self.out_rows) <= 0:
            raise ValueError(f"crop/resize sizes must be > 0: {self}")
        if (
            self.left_px < 0
            or self.top_px < 0
            or self.left_px + self.width_px > self.stimulus_cols
            or self.top_px + self.height_px > self.stimulus_rows
        ):
            raise ValueError(f"crop box lies outside the stimulus image: {self}")

    @classmethod
    def identity(cls, rows: int, cols: int) -> CropResize:
        """The crop that keeps a (rows, cols) image as it is.

        Parameters
        ----------
        rows, cols
            The image's size.

        Returns
        -------
        CropResize
            No crop, no resize.
        """
        return cls(0, 0, cols, rows, cols, rows, cols, rows)

    @classmethod
    def resize_only(cls, rows: int, cols: int, out_rows: int, out_cols: int) -> CropResize:
        """The whole (rows, cols) image resized to (out_rows, out_cols).

        Parameters
        ----------
        rows, cols
            The stimulus image's size.
        out_rows, out_cols
            The model input's size.

        Returns
        -------
        CropResize
            No crop, a resize.
        """
        return cls(0, 0, cols, rows, out_cols, out_rows, cols, rows)

    @property
    def scale_x(self) -> float:
        return self.out_cols / self.width_px

    @property
    def scale_y(self) -> float:
        return self.out_rows / self.height_px

    def stimulus_to_model(self, x_px: ArrayLike, y_px: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Stimulus-frame px to model-input px.

        Parameters
        ----------
        x_px, y_px
            Stimulus-frame positions.

        Returns
        -------
        (x, y)
            Model-input positions (outside [0, out) when off the crop box).
        """
        x = (np.asarray(x_px, dtype=np.float64) - self.left_px) * self.scale_x
        y = (np.asarray(y_px, dtype=np.float64) - self.top_px) * self.scale_y
        return x, y

    def model_to_stimulus(self, x_px: ArrayLike, y_px: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Model-input px to stimulus-frame px (inverse of :meth:`stimulus_to_model`).

        Parameters
        ----------
        x_px, y_px
            Model-input positions.

        Returns
        -------
        (x, y)
            Stimulus-frame positions.
        """
        x = np.asarray(x_px, dtype=np.float64) / self.scale_x + self.left_px
        y = np.asarray(y_px, dtype=np.float64) / self.scale_y + self.top_px
        return x, y

    def map_to_model(self, values: FloatArray, *, order: int = 1) -> FloatArray:
        """Resample a stimulus-frame map into the model-input frame.

        Each model pixel takes the value at its centre mapped back into the stimulus frame
        (spline of ``order``; 1 = bilinear). Values are densities per pixel and are *not*
        renormalised: callers that need a distribution record that as their own step.

        Parameters
        ----------
        values
            (stimulus_rows, stimulus_cols) map.
        order
            Spline order of the resampling.

        Returns
        -------
        numpy.ndarray
            (out_rows, out_cols) map.
        """
        if values.shape != (self.stimulus_rows, self.stimulus_cols):
            raise ValueError(
                f"map shape {values.shape} != stimulus shape "
                f"{(self.stimulus_rows, self.stimulus_cols)}"
            )
        cols = np.arange(self.out_cols) + 0.5
        rows = np.arange(self.out_rows) + 0.5
        xs, _ = self.model_to_stimulus(cols, np.zeros_like(cols))
        _, ys = self.model_to_stimulus(np.zeros_like(rows), rows)
        return _sample(values, ys - 0.5, xs - 0.5, order)

    def map_to_stimulus(
        self, values: FloatArray, *, order: int = 1, fill: float = 0.0
    ) -> FloatArray:
        """Resample a model-input map back into the full stimulus frame.

        Stimulus pixels outside the crop box get ``fill`` (the network never saw them).

        Parameters
        ----------
        values
            (out_rows, out_cols) map.
        order
            Spline order of the resampling.
        fill
            Value outside the crop box.

        Returns
        -------
        numpy.ndarray
            (stimulus_rows, stimulus_cols) map.
        """
        if values.shape != (self.out_rows, self.out_cols):
            raise ValueError(
                f"map shape {values.shape} != model-input shape {(self.out_rows, self.out_cols)}"
            )
        cols = np.arange(self.stimulus_cols) + 0.5
        rows = np.arange(self.stimulus_rows) + 0.5
        xs, _ = self.stimulus_to_model(cols, np.zeros_like(cols))
        _, ys = self.stimulus_to_model(np.zeros_like(rows), rows)
        out = _sample(values, ys - 0.5, xs - 0.5, order)
        inside_x = (cols >= self.left_px) & (cols < self.left_px + self.width_px)
        inside_y = (rows >= self.top_px) & (rows < self.top_px + self.height_px)
        out[~inside_y, :] = fill
        out[:, ~inside_x] = fill
        return out

    def as_dict(self) -> dict[str, int]:
        return {
            "left_px": self.left_px,
            "top_px": self.top_px,
            "width_px": self.width_px,
            "height_px": self.height_px,
            "out_cols": self.out_cols,
            "out_rows": self.out_rows,
            "stimulus_cols": self.stimulus_cols,
            "stimulus_rows": self.stimulus_rows,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CropResize:
        """Inverse of :meth:`as_dict` (values converted to int).

        Parameters
        ----------
        d
            A mapping with every field.

        Returns
        -------
        CropResize
            The crop.
        """
        return cls(**{k: int(d[k]) for k in cls.__dataclass_fields__})


def _sample(values: FloatArray, rows: FloatArray, cols: FloatArray, order: int) -> FloatArray:
    """Sample ``values`` on the grid rows x cols (array index units), clamping at the edges."""
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    return np.asarray(
        ndimage.map_coordinates(
            np.asarray(values, dtype=np.float64), [rr, cc], order=order, mode="nearest"
        ),
        dtype=np.float64,
    )


def screen_to_model(
    placement: Placement, crop: CropResize, x_px: ArrayLike, y_px: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Screen px -> model-input px through the stimulus frame.

    Parameters
    ----------
    placement, crop
        Where the stimulus sat on screen, and its crop into the model input.
    x_px, y_px
        Screen positions.

    Returns
    -------
    (x, y)
        Model-input positions.
    """
    return crop.stimulus_to_model(*placement.screen_to_stimulus(x_px, y_px))


def model_to_screen(
    placement: Placement, crop: CropResize, x_px: ArrayLike, y_px: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Model-input px -> screen px through the stimulus frame.

    Parameters
    ----------
    placement, crop
        Where the stimulus sat on screen, and its crop into the model input.
    x_px, y_px
        Model-input positions.

    Returns
    -------
    (x, y)
        Screen positions.
    """
    return placement.stimulus_to_screen(*crop.model_to_stimulus(x_px, y_px))
