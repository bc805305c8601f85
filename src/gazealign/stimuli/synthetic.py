"""Synthetic frontal faces with the seven expressions built from facial action units.

The built-in data set of gazealign, free for anyone to use. Every face is drawn from simple
parametric shapes in a *canonical face frame* (x right, y down, unit = half the face width, origin
at the centre of the face oval), then placed in the image with a small pose jitter.

* **Identity** (:class:`Identity`): face shape and jaw, skin tone, eye spacing and size, iris
  colour, brows, nose, mouth, lips, hair colour and style; fixed per identity.
* **Viewing conditions** (:class:`Viewing`): light direction and strength, brightness, colour
  cast, background, pose jitter (rotation, scale, shift), sensor noise; drawn per image.
* **Expression**: action units (AUs, Ekman & Friesen's FACS) at an intensity in [0, 1]; the seven
  expressions are the usual EMFACS prototypes (:data:`EXPRESSION_AUS`), e.g. happy = AU6 cheek
  raiser + AU12 lip corner puller; sad = AU1 + AU4 + AU15; surprised = AU1 + AU2 + AU5 + AU26.

The *planted* (diagnostic) region of an image is, by definition, the set of pixels where its
uint8 render differs from the render of the same identity under the same viewing conditions with
no action unit (the identity's neutral face): :func:`render_expression` computes it that way, so
it is exact, not an approximation. AU effects are local (brows, lids, cheeks, nose, mouth, chin),
so the planted regions lie in the facial features, never in a single marker pixel.

AOI masks (:data:`gazealign.stimuli.artifacts.AOI_REGIONS`) come from the same geometry: eyes,
brows, nose and mouth are disjoint regions inside the face oval; ``face`` is the oval (its lower
edge follows the jaw drop); ``background`` is everything else (hair, neck, backdrop).

Everything is deterministic for a seed: an image's random draws come from
``np.random.default_rng([seed, identity, session, expression])``, so one image can be rendered
without rendering the others.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from gazealign.stimuli.kdef import KdefName
from gazealign.stimuli.labels import KDEF_CODE_OF
from gazealign.types import LABELS

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Action units modelled, with their FACS names.
ACTION_UNITS: dict[int, str] = {
    1: "inner brow raiser",
    2: "outer brow raiser",
    4: "brow lowerer",
    5: "upper lid raiser",
    6: "cheek raiser",
    7: "lid tightener",
    9: "nose wrinkler",
    10: "upper lip raiser",
    12: "lip corner puller",
    15: "lip corner depressor",
    17: "chin raiser",
    20: "lip stretcher",
    23: "lip tightener",
    24: "lip presser",
    25: "lips part",
    26: "jaw drop",
}

#: Prototype action units of each expression (EMFACS-style), with relative weights in [0, 1].
#: The image's expression intensity multiplies every weight.
EXPRESSION_AUS: dict[str, dict[int, float]] = {
    "afraid": {1: 1.0, 2: 0.6, 4: 0.7, 5: 1.0, 7: 0.4, 20: 1.0, 25: 1.0, 26: 0.35},
    "angry": {4: 1.0, 5: 0.5, 7: 1.0, 23: 1.0, 24: 1.0},
    "disgusted": {4: 0.3, 9: 1.0, 10: 1.0, 15: 0.5, 17: 0.6},
    "happy": {6: 1.0, 12: 1.0, 25: 0.7},
    "neutral": {},
    "sad": {1: 1.0, 4: 0.6, 15: 1.0, 17: 0.5},
    "surprised": {1: 1.0, 2: 1.0, 5: 0.8, 25: 1.0, 26: 1.0},
}

Gender = Literal["F", "M"]

# Colour palettes (RGB 0-1) the identities are drawn between.
_SKIN_LIGHT = np.array([0.96, 0.80, 0.69])
_SKIN_DARK = np.array([0.36, 0.23, 0.16])
_HAIR = np.array(
    [
        [0.10, 0.07, 0.05],
        [0.25, 0.16, 0.09],
        [0.45, 0.30, 0.17],
        [0.72, 0.56, 0.34],
        [0.55, 0.25, 0.12],
        [0.55, 0.53, 0.50],
    ]
)
_IRIS = np.array([[0.30, 0.18, 0.08], [0.20, 0.35, 0.55], [0.30, 0.42, 0.25], [0.12, 0.08, 0.05]])


@dataclass(frozen=True)
class Identity:
    """Fixed appearance of one synthetic person (canonical face units, RGB in 0-1)."""

    gender: Gender
    face_height: float  # half-height of the face oval (half-width is 1)
    jaw_taper: float  # how much narrower the chin is than the cheeks (0-1)
    skin: tuple[float, float, float]
    hair: tuple[float, float, float]
    hair_style: int  # 0 short, 1 long, 2 fringe, 3 very short
    hairline_y: float
    eye_x: float  # half the distance between the eye centres
    eye_y: float
    eye_half_width: float
    eye_aperture: float  # half-height of the open eye
    iris_radius: float
    iris: tuple[float, float, float]
    brow_height: float  # brow above the eye centre
    brow_thickness: float
    brow_arch: float
    brow_darkness: float
    nose_y: float  # nose tip
    nose_half_width: float
    mouth_y: float
    mouth_half_width: float
    upper_lip: float
    lower_lip: float
    lip_red: float


@dataclass(frozen=True)
class Viewing:
    """Conditions of one photograph (drawn per image; shared with its neutral reference)."""

    light: tuple[float, float, float]  # unit vector towards the light (x right, y down, z out)
    ambient: float
    brightness: float
    cast: tuple[float, float, float]  # per-channel colour gain
    background_top: tuple[float, float, float]
    background_bottom: tuple[float, float, float]
    clothing: tuple[float, float, float]
    rotation_deg: float
    scale: float
    shift_x: float  # fraction of the image width
    shift_y: float
    gaze_x: float  # iris offset, fraction of the eye half-width
    noise_sd: float  # sensor noise, in uint8 grey levels
    noise_seed: int


@dataclass(frozen=True)
class SyntheticFace:
    """One rendered face with its masks, all (rows, cols) in the stimulus frame."""

    image: npt.NDArray[np.uint8]
    label: str
    intensity: float
    aus: Mapping[int, float]
    planted: BoolArray
    aois: Mapping[str, BoolArray]


# --- random draws ------------------------------------------------------------------------------


def sample_identity(rng: np.random.Generator, gender: Gender) -> Identity:
    """Draw an identity. Ranges are chosen to look like varied adult frontal faces."""
    u = rng.uniform
    tone = u(0.0, 1.0) ** 1.3
    skin = (1 - tone) * _SKIN_LIGHT + tone * _SKIN_DARK + rng.normal(0, 0.015, 3)
    hair = _HAIR[rng.integers(len(_HAIR))] * u(0.85, 1.15)
    male = gender == "M"
    style = (
        int(rng.choice([0, 3, 2], p=[0.6, 0.3, 0.1]))
        if male
        else int(rng.choice([1, 2, 0], p=[0.6, 0.3, 0.1]))
    )
    return Identity(
        gender=gender,
        face_height=u(1.30, 1.45) + (0.03 if male else 0.0),
        jaw_taper=u(0.15, 0.35) - (0.08 if male else 0.0),
        skin=_rgb(skin),
        hair=_rgb(hair),
        hair_style=style,
        hairline_y=u(-1.12, -0.98),
        eye_x=u(0.36, 0.44),
        eye_y=u(-0.24, -0.16),
        eye_half_width=u(0.18, 0.22),
        eye_aperture=u(0.080, 0.098),
        iris_radius=u(0.078, 0.090),
        iris=_rgb(_IRIS[rng.integers(len(_IRIS))] * u(0.8, 1.2)),
        brow_height=u(0.17, 0.22),
        brow_thickness=u(0.040, 0.060) + (0.012 if male else 0.0),
        brow_arch=u(0.03, 0.07),
        brow_darkness=u(0.55, 0.85),
        nose_y=u(0.24, 0.32),
        nose_half_width=u(0.15, 0.20),
        mouth_y=u(0.60, 0.68),
        mouth_half_width=u(0.27, 0.33),
        upper_lip=u(0.045, 0.065),
        lower_lip=u(0.060, 0.085),
        lip_red=u(0.25, 0.55) if not male else u(0.10, 0.30),
    )


def sample_viewing(rng: np.random.Generator) -> Viewing:
    """Draw the viewing conditions of one photograph."""
    u = rng.uniform
    light = np.array([u(-0.6, 0.6), u(-0.5, 0.05), 1.0])
    light /= np.linalg.norm(light)
    bg = rng.uniform(0.35, 0.85) * np.ones(3) + rng.normal(0, 0.05, 3)
    return Viewing(
        light=(float(light[0]), float(light[1]), float(light[2])),
        ambient=u(0.35, 0.55),
        brightness=u(0.85, 1.12),
        cast=_rgb(1 + rng.normal(0, 0.03, 3)),
        background_top=_rgb(bg * u(0.9, 1.1)),
        background_bottom=_rgb(bg * u(0.75, 1.0)),
        clothing=_rgb(rng.uniform(0.1, 0.7, 3)),
        rotation_deg=u(-4.0, 4.0),
        scale=u(0.94, 1.06),
        shift_x=u(-0.03, 0.03),
        shift_y=u(-0.03, 0.03),
        gaze_x=u(-0.12, 0.12),
        noise_sd=u(2.0, 5.0),
        noise_seed=int(rng.integers(2**31)),
    )


def _rgb(v: npt.ArrayLike) -> tuple[float, float, float]:
    a = np.clip(np.asarray(v, dtype=np.float64), 0.0, 1.0)
    return (float(a[0]), float(a[1]), float(a[2]))


def expression_aus(label: str, intensity: float) -> dict[int, float]:
    """Action units of ``label`` at ``intensity`` (0-1): prototype weight x intensity."""
    if label not in EXPRESSION_AUS:
        raise ValueError(f"unknown expression {label!r}; expected one of {LABELS}")
    return {au: w * intensity for au, w in EXPRESSION_AUS[label].items()}


# --- geometry from identity + action units -----------------------------------------------------


@dataclass(frozen=True)
class _Geometry:
    """Feature positions of one face (canonical units), after the action units."""

    chin: float  # lower half-height of the face oval
    brow_inner: tuple[float, float]  # right brow (x > 0); the left one mirrors it
    brow_outer: tuple[float, float]
    brow_arch: float
    upper_aperture: float
    lower_aperture: float
    lid_crease: float  # visible upper lid fold, 0 hidden
    glabella: float  # vertical furrows between the brows (0-1)
    forehead: float  # horizontal forehead wrinkles (0-1)
    crows_feet: float
    cheek: float  # cheek raise (0-1)
    nose_wrinkle: float
    nostril_y: float
    nostril_flare: float
    nasolabial: float  # depth of the nose-to-mouth folds (0-1)
    mouth_y: float  # where the lips meet (centre)
    corner_x: float
    corner_y: float  # mouth-corner height relative to mouth_y (negative = up)
    upper_lip: float
    lower_lip: float
    upper_raise: float  # upper lip lifted at the centre
    opening: float  # gap between the lips at the centre
    teeth: float  # 0-1 how much teeth show in the gap
    chin_boss: float


def _geometry(ident: Identity, aus: Mapping[int, float]) -> _Geometry:
    def a(k: int) -> float:
        return float(aus.get(k, 0.0))

    ex, ey = ident.eye_x, ident.eye_y
    brow_y = ey - ident.brow_height
    inner_x = ex - ident.eye_half_width * 0.95 - 0.02
    outer_x = ex + ident.eye_half_width * 1.45
    inner_y = brow_y - 0.14 * a(1) + 0.09 * a(4) + 0.04 * a(9)
    outer_y = brow_y - 0.015 - 0.14 * a(2) + 0.045 * a(4) - 0.02 * a(1)
    inner_x = inner_x - 0.07 * a(4) - 0.02 * a(9)
    upper = ident.eye_aperture * (
        1 + 0.9 * a(5) - 0.35 * a(7) - 0.25 * a(4) * (1 - a(5)) - 0.2 * a(9)
    )
    lower = ident.eye_aperture * (1 - 0.55 * a(6) - 0.55 * a(7) - 0.3 * a(9))
    opening = 0.03 * a(25) + 0.28 * a(26) + 0.06 * a(10)
    corner_y = -0.16 * a(12) + 0.13 * a(15) + 0.015 * a(20) - 0.02 * a(10)
    corner_x = ident.mouth_half_width * (
        1 + 0.22 * a(12) + 0.30 * a(20) - 0.12 * a(23) - 0.05 * a(24)
    )
    thin = 1 - 0.5 * max(a(23), a(24))
    return _Geometry(
        chin=ident.face_height + 0.12 * a(26),
        brow_inner=(inner_x, inner_y),
        brow_outer=(outer_x, outer_y),
        brow_arch=ident.brow_arch * (1 + 0.8 * a(2) - 0.6 * a(4)),
        upper_aperture=max(upper, 0.012),
        lower_aperture=max(lower, 0.012),
        lid_crease=max(0.0, 1 - 1.2 * a(5)),
        glabella=min(1.0, a(4) + 0.5 * a(9)),
        forehead=min(1.0, 0.6 * a(1) + 0.6 * a(2)),
        crows_feet=a(6),
        cheek=min(1.0, a(6) + 0.4 * a(12)),
        nose_wrinkle=a(9),
        nostril_y=ident.nose_y - 0.05 * a(9) - 0.03 * a(10),
        nostril_flare=1 + 0.3 * a(9),
        nasolabial=min(1.0, 0.15 + 0.7 * a(12) + 0.7 * a(9) + 0.5 * a(10) + 0.3 * a(20)),
        mouth_y=ident.mouth_y - 0.05 * a(10) - 0.02 * a(17),
        corner_x=corner_x,
        corner_y=corner_y,
        upper_lip=ident.upper_lip * thin * (1 + 0.3 * a(10)),
        lower_lip=ident.lower_lip * thin * (1 - 0.2 * a(17)),
        upper_raise=0.06 * a(10),
        opening=opening,
        teeth=min(1.0, 1.4 * a(12) + 1.0 * a(10) + 0.4 * a(20)),
        chin_boss=a(17),
    )


# --- drawing primitives (all distances in px; alpha is a 1-px anti-aliased edge) ----------------


class _Canvas:
    """Pixel centres in canonical face units, plus the RGB image being painted (0-1 floats)."""

    def __init__(self, rows: int, cols: int, ident: Identity, view: Viewing, chin: float) -> None:
        self.rows, self.cols = rows, cols
        # Face half-width in px: the face oval (plus hair) fills most of the frame, as in KDEF.
        # Hair top (y = -1.9) at 7 % of the height, chin (y ~ 1.4) at about 80 %.
        self.px = view.scale * min(0.31 * cols, 0.225 * rows)
        cx = cols * (0.5 + view.shift_x)
        cy = rows * (0.07 + view.shift_y) + 1.9 * self.px
        theta = math.radians(view.rotation_deg)
        c, s = math.cos(theta), math.sin(theta)
        xx, yy = np.meshgrid(np.arange(cols) + 0.5 - cx, np.arange(rows) + 0.5 - cy)
        # Inverse of image = centre + px * R(theta) @ canonical.
        self.x: FloatArray = (c * xx + s * yy) / self.px
        self.y: FloatArray = (-s * xx + c * yy) / self.px
        self.rgb: FloatArray = np.zeros((rows, cols, 3))
        self.ident = ident
        self.view = view

    def alpha_from_distance(self, d: FloatArray) -> FloatArray:
        """Coverage of a shape from its signed distance (canonical units, < 0 inside)."""
        return np.clip(0.5 - d * self.px, 0.0, 1.0)

    def paint(self, alpha: FloatArray, colour: npt.ArrayLike) -> None:
        """Blend ``colour`` in with coverage ``alpha`` (only inside alpha's bounding box: where
        alpha is 0 the blend leaves the pixel exactly as it is)."""
        box = _support(alpha)
        if box is None:
            return
        col = np.asarray(colour, dtype=np.float64)
        a = alpha[box][..., None]
        self.rgb[box] = self.rgb[box] * (1 - a) + col * a

    def shade(self, alpha: FloatArray, factor: float | FloatArray) -> None:
        """Multiply the image by ``factor`` where ``alpha`` (darkens < 1, lightens > 1); as
        :meth:`paint`, only inside alpha's bounding box (elsewhere the factor is exactly 1)."""
        box = _support(alpha)
        if box is None:
            return
        factor = np.asarray(factor)
        f = 1 + ((factor[box] if factor.ndim == 2 else factor) - 1) * alpha[box]
        self.rgb[box] = self.rgb[box] * f[..., None]


def _support(alpha: FloatArray) -> tuple[slice, slice] | None:
    """The smallest row/column window holding every nonzero of ``alpha`` (None: all zero)."""
    nonzero = alpha != 0
    rows = np.flatnonzero(nonzero.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(nonzero.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _ellipse_sd(
    x: FloatArray, y: FloatArray, cx: float, cy: float, ax: float, ay: float
) -> FloatArray:
    """Approximate signed distance to an axis-aligned ellipse (first order: f / |grad f|)."""
    dx, dy = (x - cx) / ax, (y - cy) / ay
    f = dx * dx + dy * dy - 1
    g = 2 * np.sqrt((dx / ax) ** 2 + (dy / ay) ** 2) + 1e-9
    return np.asarray(f / g, dtype=np.float64)


def _soft(sd: FloatArray, width: float) -> FloatArray:
    """A smooth 0-1 ramp over ``width`` canonical units inside a shape (for shading, not edges)."""
    return np.clip(-sd / width, 0.0, 1.0)


def _bezier(
    p0: tuple[float, float], p1: tuple[float, float], p2: tuple[float, float], n: int = 12
) -> FloatArray:
    t = np.linspace(0, 1, n)[:, None]
    return np.asarray((1 - t) ** 2 * p0 + 2 * (1 - t) * t * np.asarray(p1) + t**2 * np.asarray(p2))


def _polyline_distance(
    x: FloatArray, y: FloatArray, pts: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Distance from each pixel to the polyline ``pts`` (n, 2), and the position along it (0-1).

    Written by hand: no imaging library offers a vectorised distance-to-curve field that also
    returns the arc parameter, which the tapered strokes (brows, lids) need.
    """
    n = len(pts) - 1
    if n < 1:
        return np.full(x.shape, np.inf), np.zeros(x.shape)
    # All segments at once (segment axis first); the nearest segment wins, the first on ties.
    shape = (n,) + (1,) * x.ndim
    x0, y0 = pts[:-1, 0].reshape(shape), pts[:-1, 1].reshape(shape)
    vx, vy = pts[1:, 0].reshape(shape) - x0, pts[1:, 1].reshape(shape) - y0
    ll = vx * vx + vy * vy + 1e-12
    t = np.clip(((x - x0) * vx + (y - y0) * vy) / ll, 0.0, 1.0)
    d = np.hypot(x - (x0 + t * vx), y - (y0 + t * vy))
    nearest = np.argmin(d, axis=0)[None]
    best = np.take_along_axis(d, nearest, axis=0)[0]
    along = (nearest[0] + np.take_along_axis(t, nearest, axis=0)[0]) / n
    return best, along


def _near_polyline(x: FloatArray, y: FloatArray, pts: FloatArray, radius: float) -> BoolArray:
    """``_polyline_distance(x, y, pts)[0] < radius``, computed only in the window around the
    polyline's bounding box padded by ``radius`` (every pixel outside it is farther away)."""
    lo, hi = pts.min(axis=0) - radius, pts.max(axis=0) + radius
    near = (x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1])
    out = np.zeros(x.shape, dtype=bool)
    rows, cols = np.flatnonzero(near.any(axis=1)), np.flatnonzero(near.any(axis=0))
    if rows.size == 0:
        return out
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    out[box] = _polyline_distance(x[box], y[box], pts)[0] < radius
    return out


def _stroke(canvas: _Canvas, pts: FloatArray, width0: float, width1: float) -> FloatArray:
    """Coverage of a stroke along ``pts`` whose half-width tapers from ``width0`` to ``width1``.

    Distances are computed only in the pixel rectangle around the stroke: outside it the
    coverage is exactly 0, so the result equals the full-image computation.
    """
    pad = max(width0, width1) + 2.0 / canvas.px
    lo, hi = pts.min(axis=0) - pad, pts.max(axis=0) + pad
    x, y = canvas.x, canvas.y
    near = (x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1])
    out = np.zeros(x.shape)
    rows, cols = np.flatnonzero(near.any(axis=1)), np.flatnonzero(near.any(axis=0))
    if rows.size == 0:
        return out
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    d, t = _polyline_distance(x[box], y[box], pts)
    out[box] = canvas.alpha_from_distance(d - (width0 + (width1 - width0) * t))
    return out


def _band(canvas: _Canvas, top: FloatArray, bottom: FloatArray, x0: float, x1: float) -> FloatArray:
    """Coverage of the region x0 < x < x1, top(x) < y < bottom(x) (curves sampled per pixel)."""
    a = canvas.alpha_from_distance(top - canvas.y) * canvas.alpha_from_distance(canvas.y - bottom)
    return a * canvas.alpha_from_distance(x0 - canvas.x) * canvas.alpha_from_distance(canvas.x - x1)


# --- the renderer ------------------------------------------------------------------------------


def _face_sd(canvas: _Canvas, chin: float) -> FloatArray:
    """Signed distance to the face oval: an ellipse whose lower half narrows towards the chin."""
    ident = canvas.ident
    x, y = canvas.x, canvas.y
    lower = y > 0
    ay = np.where(lower, chin, ident.face_height * 1.02)
    # Narrow the lower face: divide x by a width that shrinks with depth below the centre.
    width = 1 - ident.jaw_taper * np.clip(y / chin, 0, 1) ** 2
    return _ellipse_sd(x, y, 0.0, 0.0, width, ay)  # type: ignore[arg-type]


def _render(
    ident: Identity,
    view: Viewing,
    aus: Mapping[int, float],
    rows: int,
    cols: int,
    *,
    with_aois: bool = True,
) -> tuple[FloatArray, dict[str, BoolArray]]:
    g = _geometry(ident, aus)
    cv = _Canvas(rows, cols, ident, view, g.chin)
    x, y = cv.x, cv.y
    skin = np.asarray(ident.skin)
    hair = np.asarray(ident.hair)

    # Backdrop: vertical gradient.
    t = np.clip((np.arange(rows) + 0.5) / rows, 0, 1)[:, None, None]
    cv.rgb = (1 - t) * np.asarray(view.background_top) + t * np.asarray(view.background_bottom)
    cv.rgb = np.broadcast_to(cv.rgb, (rows, cols, 3)).copy()

    # The skull (with hair volume) is taller than the face oval: the eyes sit at mid-head.
    head_sd = _ellipse_sd(x, y, 0.0, -0.25, 1.14, 1.65)
    if ident.hair_style == 1:  # long hair falls behind the face to the shoulders
        back = np.minimum(
            _ellipse_sd(x, y, 0.0, 0.35, 1.32, 1.75),
            np.maximum(head_sd, y - 0.0),
        )
        cv.paint(cv.alpha_from_distance(back), hair * 0.85)

    # Neck and shoulders.
    neck = np.maximum(np.abs(x) - 0.48, 0.55 - y)
    cv.paint(cv.alpha_from_distance(neck), skin * 0.80)
    shoulders = _ellipse_sd(x, y, 0.0, ident.face_height + 1.55, 2.4, 1.0)
    cv.paint(cv.alpha_from_distance(shoulders), view.clothing)

    # Ears.
    for side in (-1.0, 1.0):
        cv.paint(
            cv.alpha_from_distance(_ellipse_sd(x, y, side * 0.98, -0.05, 0.13, 0.24)), skin * 0.9
        )

    # Face oval with a diffuse-lit ellipsoid normal.
    face_sd = _face_sd(cv, g.chin)
    face_a = cv.alpha_from_distance(face_sd)
    cv.paint(face_a, skin)

    # Hair cap over the top of the head down to the hairline.
    line = ident.hairline_y + 0.22 * x**2
    if ident.hair_style == 2:  # fringe
        line = ident.hairline_y + 0.30 + 0.06 * np.cos(x * 9) + 0.1 * x**2
    cap = np.maximum(head_sd, y - line)
    cap = np.minimum(cap, np.maximum(head_sd, np.maximum(0.93 - np.abs(x), y + 0.3)))
    colour = hair if ident.hair_style != 3 else 0.55 * hair + 0.45 * skin
    cv.paint(cv.alpha_from_distance(cap), colour)

    _draw_brows(cv, g)
    _draw_eyes(cv, g)
    _draw_nose(cv, g)
    _draw_mouth(cv, g)
    _draw_folds(cv, g)

    # Lighting: Lambertian shading of an ellipsoid over the face and head.
    nx = np.clip(x / 1.1, -1, 1)
    ny = np.clip((y + 0.1) / (ident.face_height + 0.35), -1, 1)
    nz = np.sqrt(np.clip(1 - nx**2 - ny**2, 0, 1))
    lx, ly, lz = view.light
    diffuse = np.clip(nx * lx + ny * ly + nz * lz, 0, 1)
    lit = view.ambient + (1 - view.ambient) * diffuse
    head_a = np.maximum(face_a, cv.alpha_from_distance(head_sd))
    shading = 1 + (lit * 1.1 - 1) * head_a
    cv.rgb = cv.rgb * shading[..., None]
    cv.rgb = cv.rgb * view.brightness * np.asarray(view.cast)
    aois = _aois(cv, g, face_sd) if with_aois else {}
    return cv.rgb, aois


def _brow_points(g: _Geometry, side: float) -> FloatArray:
    (xi, yi), (xo, yo) = g.brow_inner, g.brow_outer
    ctrl = (xi + 0.6 * (xo - xi), min(yi, yo) - g.brow_arch)
    pts = _bezier((xi, yi), ctrl, (xo, yo))
    pts[:, 0] *= side
    return pts


def _draw_brows(cv: _Canvas, g: _Geometry) -> None:
    ident = cv.ident
    colour = (
        np.asarray(ident.hair) * ident.brow_darkness
        + np.asarray(ident.skin) * (1 - ident.brow_darkness) * 0.6
    )
    x, y = cv.x, cv.y
    # Forehead wrinkles (AU1/AU2) and the glabella furrows (AU4) come first: the brows cover them.
    if g.forehead > 0:
        for k in range(3):
            yk = g.brow_inner[1] - 0.13 - 0.075 * k
            pts = _bezier((-0.45, yk + 0.02), (0.0, yk - 0.03 * g.forehead), (0.45, yk + 0.02), 10)
            cv.shade(_stroke(cv, pts, 0.010, 0.010), 1 - 0.28 * g.forehead)
    if g.glabella > 0:
        for side in (-1.0, 1.0):
            xg = side * 0.055
            pts = np.array([[xg, g.brow_inner[1] - 0.06], [xg * 1.3, g.brow_inner[1] + 0.10]])
            cv.shade(_stroke(cv, pts, 0.011, 0.008), 1 - 0.35 * g.glabella)
    for side in (-1.0, 1.0):
        pts = _brow_points(g, side)
        cv.paint(_stroke(cv, pts, ident.brow_thickness * 0.62, ident.brow_thickness * 0.28), colour)
    del x, y


def _eye_curves(
    cv: _Canvas, g: _Geometry, side: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    ident = cv.ident
    ex = side * ident.eye_x
    t = np.clip((cv.x - ex) / ident.eye_half_width, -1, 1)
    shape = np.sqrt(np.clip(1 - t**2, 0, 1))
    # Almond shape: the upper lid peaks slightly towards the inner corner.
    skew = 1 + 0.12 * t * side
    upper = ident.eye_y - g.upper_aperture * shape**0.9 * skew
    lower = ident.eye_y + g.lower_aperture * shape**1.1
    return t, upper, lower


def _draw_eyes(cv: _Canvas, g: _Geometry) -> None:
    ident = cv.ident
    x, y = cv.x, cv.y
    for side in (-1.0, 1.0):
        ex = side * ident.eye_x
        hw = ident.eye_half_width
        # Socket shadow between brow and eye.
        sock = _ellipse_sd(x, y, ex, ident.eye_y - 0.06, hw * 1.25, 0.14)
        cv.shade(cv.alpha_from_distance(sock) * 0.6, 0.90)
        if g.cheek > 0:  # cheek raise: a lit bulge under the eye and a furrow beneath the lid
            bulge = _ellipse_sd(x, y, side * (ident.eye_x + 0.02), ident.eye_y + 0.26, 0.26, 0.13)
            cv.shade(_soft(bulge, 0.08) * g.cheek, 1.08)
            furrow = _bezier(
                (ex - hw * 0.8, ident.eye_y + g.lower_aperture + 0.05),
                (ex, ident.eye_y + g.lower_aperture + 0.09),
                (ex + hw * 0.9, ident.eye_y + g.lower_aperture + 0.04),
                10,
            )
            cv.shade(_stroke(cv, furrow, 0.010, 0.006), 1 - 0.30 * g.cheek)
        if g.crows_feet > 0:
            for k in (-1, 0, 1):
                x0 = ex + side * hw * 1.08
                pts = np.array(
                    [[x0, ident.eye_y + 0.03 * k], [x0 + side * 0.10, ident.eye_y + 0.065 * k]]
                )
                cv.shade(_stroke(cv, pts, 0.008, 0.005), 1 - 0.35 * g.crows_feet)
        t, upper, lower = _eye_curves(cv, g, side)
        opening = _band(cv, upper, lower, ex - hw, ex + hw)
        cv.paint(opening, np.array([0.93, 0.91, 0.88]))
        ix = ex + cv.view.gaze_x * hw
        iris = cv.alpha_from_distance(np.hypot(x - ix, y - ident.eye_y) - ident.iris_radius)
        cv.paint(iris * opening, ident.iris)
        pupil = cv.alpha_from_distance(np.hypot(x - ix, y - ident.eye_y) - ident.iris_radius * 0.42)
        cv.paint(pupil * opening, np.array([0.03, 0.03, 0.03]))
        glint = cv.alpha_from_distance(np.hypot(x - ix - 0.02, y - ident.eye_y + 0.02) - 0.012)
        cv.paint(glint * opening, np.array([1.0, 1.0, 1.0]))
        # Upper lid margin with lashes, the lid crease above it, and the lower lid line.
        xs = np.linspace(ex - hw, ex + hw, 14)
        ts = (xs - ex) / hw
        sh = np.sqrt(np.clip(1 - ts**2, 0, 1))
        up = np.stack([xs, ident.eye_y - g.upper_aperture * sh**0.9 * (1 + 0.12 * ts * side)], 1)
        lo = np.stack([xs, ident.eye_y + g.lower_aperture * sh**1.1], 1)
        cv.paint(_stroke(cv, up, 0.014, 0.014), np.array([0.08, 0.06, 0.05]))
        cv.shade(_stroke(cv, lo, 0.007, 0.007), 0.75)
        if g.lid_crease > 0:
            crease = up.copy()
            crease[:, 1] -= 0.045 + 0.6 * (g.upper_aperture - ident.eye_aperture)
            cv.shade(_stroke(cv, crease[2:-1], 0.008, 0.008), 1 - 0.25 * g.lid_crease)
        del t


def _draw_nose(cv: _Canvas, g: _Geometry) -> None:
    ident = cv.ident
    x, y = cv.x, cv.y
    hw = ident.nose_half_width
    side = 1.0 if cv.view.light[0] < 0 else -1.0  # the bridge's shadow falls away from the light
    bridge = np.array([[side * 0.07, ident.eye_y + 0.02], [side * 0.09, g.nostril_y - 0.08]])
    cv.shade(_stroke(cv, bridge, 0.025, 0.035), 0.88)
    tip = _ellipse_sd(x, y, 0.0, g.nostril_y - 0.035, 0.075, 0.06)
    cv.shade(cv.alpha_from_distance(tip), 1.07)
    for s in (-1.0, 1.0):
        wing = _bezier(
            (s * hw * 0.55, g.nostril_y - 0.10),
            (s * hw * 1.15, g.nostril_y - 0.03),
            (s * hw * 0.6, g.nostril_y + 0.03),
            10,
        )
        cv.shade(_stroke(cv, wing, 0.012, 0.010), 0.72)
        nostril = _ellipse_sd(
            x,
            y,
            s * hw * 0.42 * g.nostril_flare,
            g.nostril_y + 0.005,
            0.055 * g.nostril_flare,
            0.024,
        )
        cv.paint(cv.alpha_from_distance(nostril), np.asarray(ident.skin) * 0.35)
    if g.nose_wrinkle > 0:
        for k in range(3):
            yk = ident.eye_y + 0.07 + 0.045 * k
            pts = _bezier((-0.10, yk + 0.01), (0.0, yk - 0.015), (0.10, yk + 0.01), 8)
            cv.shade(_stroke(cv, pts, 0.009, 0.009), 1 - 0.40 * g.nose_wrinkle)


def _mouth_curves(cv: _Canvas, g: _Geometry) -> dict[str, FloatArray]:
    s = np.clip(cv.x / g.corner_x, -1, 1)
    bell = 1 - s**2
    base = g.mouth_y + g.corner_y * s**2
    half_open = 0.5 * g.opening * np.sqrt(np.clip(bell, 0, 1))
    upper_in = base - half_open - g.upper_raise * bell
    lower_in = base + half_open
    # Cupid's bow: the upper lip's outline dips at the centre.
    bow = 1 - 0.35 * np.exp(-((cv.x / 0.06) ** 2))
    upper_out = upper_in - g.upper_lip * np.sqrt(np.clip(bell, 0, 1)) ** 0.7 * bow
    lower_out = lower_in + g.lower_lip * np.sqrt(np.clip(bell, 0, 1)) ** 0.8
    return {
        "upper_out": upper_out,
        "upper_in": upper_in,
        "lower_in": lower_in,
        "lower_out": lower_out,
    }


def _draw_mouth(cv: _Canvas, g: _Geometry) -> None:
    ident = cv.ident
    c = _mouth_curves(cv, g)
    lip = (
        np.asarray(ident.skin) * (1 - ident.lip_red) + np.array([0.62, 0.22, 0.24]) * ident.lip_red
    )
    x0, x1 = -g.corner_x, g.corner_x
    cv.paint(_band(cv, c["upper_out"], c["upper_in"], x0, x1), lip * 0.85)
    cv.paint(_band(cv, c["lower_in"], c["lower_out"], x0, x1), lip)
    # Lower lip highlight.
    hl = _band(
        cv,
        c["lower_in"] + 0.3 * (c["lower_out"] - c["lower_in"]),
        c["lower_out"] - 0.35 * (c["lower_out"] - c["lower_in"]),
        x0 * 0.5,
        x1 * 0.5,
    )
    cv.shade(hl, 1.10)
    gap = _band(cv, c["upper_in"], c["lower_in"], x0, x1)
    cv.paint(gap, np.array([0.22, 0.07, 0.07]))
    if g.teeth > 0:
        teeth_bottom = c["upper_in"] + np.minimum(
            c["lower_in"] - c["upper_in"], 0.05 + 0.03 * g.teeth
        )
        teeth = _band(cv, c["upper_in"], teeth_bottom, x0 * 0.75, x1 * 0.75)
        cv.paint(teeth * min(1.0, g.teeth), np.array([0.92, 0.90, 0.84]))
    # The line where the lips meet (or the dark corners of an open mouth).
    line = np.stack([np.linspace(x0, x1, 16), np.zeros(16)], 1)
    s = line[:, 0] / g.corner_x
    line[:, 1] = g.mouth_y + g.corner_y * s**2 - g.upper_raise * (1 - s**2)
    cv.shade(_stroke(cv, line, 0.008, 0.008), 0.55)
    if g.chin_boss > 0:
        boss = _ellipse_sd(cv.x, cv.y, 0.0, g.mouth_y + g.lower_lip + 0.17, 0.17, 0.09)
        cv.shade(cv.alpha_from_distance(boss) * g.chin_boss, 1.10)
        dimple = _bezier(
            (-0.12, g.mouth_y + g.lower_lip + 0.07),
            (0.0, g.mouth_y + g.lower_lip + 0.05),
            (0.12, g.mouth_y + g.lower_lip + 0.07),
            8,
        )
        cv.shade(_stroke(cv, dimple, 0.010, 0.010), 1 - 0.3 * g.chin_boss)


def _draw_folds(cv: _Canvas, g: _Geometry) -> None:
    ident = cv.ident
    for s in (-1.0, 1.0):
        start = (s * ident.nose_half_width * 1.05, g.nostril_y - 0.04)
        end = (s * (g.corner_x + 0.06), g.mouth_y + g.corner_y + 0.06)
        ctrl = (s * (max(abs(start[0]), abs(end[0])) + 0.07), 0.5 * (start[1] + end[1]))
        pts = _bezier(start, ctrl, end, 10)
        cv.shade(_stroke(cv, pts, 0.013, 0.008), 1 - 0.30 * g.nasolabial)


def _aois(cv: _Canvas, g: _Geometry, face_sd: FloatArray) -> dict[str, BoolArray]:
    """Disjoint feature regions inside the face oval (priority eyes > brows > mouth > nose)."""
    ident = cv.ident
    x, y = cv.x, cv.y
    face = face_sd < 0
    eyes = np.zeros(x.shape, dtype=bool)
    brows = np.zeros(x.shape, dtype=bool)
    for side in (-1.0, 1.0):
        eyes |= (
            _ellipse_sd(
                x,
                y,
                side * ident.eye_x,
                ident.eye_y,
                ident.eye_half_width + 0.09,
                max(g.upper_aperture, g.lower_aperture) + 0.07,
            )
            < 0
        )
        brows |= _near_polyline(x, y, _brow_points(g, side), ident.brow_thickness * 0.62 + 0.06)
    mouth_top = (
        g.mouth_y + min(g.corner_y, 0.0) - g.upper_lip - g.upper_raise - 0.5 * g.opening - 0.05
    )
    mouth_bottom = g.mouth_y + max(g.corner_y, 0.0) + 0.5 * g.opening + g.lower_lip + 0.06
    mouth = (
        _ellipse_sd(
            x,
            y,
            0.0,
            0.5 * (mouth_top + mouth_bottom),
            g.corner_x + 0.08,
            0.5 * (mouth_bottom - mouth_top),
        )
        < 0
    )
    nose_top = ident.eye_y + 0.05
    nose_bottom = g.nostril_y + 0.07
    frac = np.clip((y - nose_top) / (nose_bottom - nose_top), 0, 1)
    nose_half = 0.09 + (ident.nose_half_width + 0.06 - 0.09) * frac
    nose = (y >= nose_top) & (y <= nose_bottom) & (np.abs(x) <= nose_half)
    eyes &= face
    brows &= face & ~eyes
    mouth &= face & ~eyes & ~brows
    nose &= face & ~eyes & ~brows & ~mouth
    return {
        "eyes": eyes,
        "brows": brows,
        "nose": nose,
        "mouth": mouth,
        "face": face,
        "background": ~face,
    }


def _to_uint8(rgb: FloatArray, view: Viewing) -> npt.NDArray[np.uint8]:
    noise = np.random.default_rng(view.noise_seed).normal(0.0, view.noise_sd, rgb.shape)
    return np.asarray(np.clip(np.rint(rgb * 255.0 + noise), 0, 255), dtype=np.uint8)


def render_face(
    identity: Identity, viewing: Viewing, aus: Mapping[int, float], *, rows: int, cols: int
) -> tuple[npt.NDArray[np.uint8], dict[str, BoolArray]]:
    """Render one face: (rows, cols, 3) uint8 RGB and its AOI masks (rows, cols) bool."""
    if rows < 16 or cols < 16:
        raise ValueError(f"a synthetic face needs at least 16x16 px, got {rows}x{cols}")
    unknown = set(aus) - set(ACTION_UNITS)
    if unknown:
        raise ValueError(
            f"unknown action units {sorted(unknown)}; modelled: {sorted(ACTION_UNITS)}"
        )
    rgb, aois = _render(identity, viewing, aus, rows, cols)
    return _to_uint8(rgb, viewing), aois


def render_expression(
    identity: Identity,
    viewing: Viewing,
    label: str,
    intensity: float,
    *,
    rows: int,
    cols: int,
) -> SyntheticFace:
    """Render ``label`` at ``intensity`` with its planted mask and AOIs.

    ``planted[r, c]`` is True exactly where the uint8 image differs (in any channel) from the
    same identity's neutral face under the same ``viewing`` (same light, pose and noise).
    """
    aus = expression_aus(label, intensity)
    image, aois = render_face(identity, viewing, aus, rows=rows, cols=cols)
    if aus:  # the neutral twin's pixels only (its regions are not needed)
        neutral = _to_uint8(_render(identity, viewing, {}, rows, cols, with_aois=False)[0], viewing)
        planted = np.any(image != neutral, axis=2)
    else:
        planted = np.zeros((rows, cols), dtype=bool)
    return SyntheticFace(image, label, intensity, aus, planted, aois)


# --- data sets ---------------------------------------------------------------------------------

#: KDEF numbers identities 01-35 per gender, so a KDEF-named set holds at most 70.
MAX_IDENTITIES = 70


@dataclass(frozen=True)
class SyntheticSpec:
    """One image of a synthetic data set, before rendering (cheap to list)."""

    identity_index: int
    session: str  # "A" or "B"
    label: str
    seed: int

    @property
    def gender(self) -> Gender:
        return "F" if self.identity_index % 2 == 0 else "M"

    @property
    def number(self) -> int:
        return self.identity_index // 2 + 1

    @property
    def kdef_name(self) -> KdefName:
        """The image's name in KDEF's scheme (straight view)."""
        return KdefName(self.session, self.gender, self.number, KDEF_CODE_OF[self.label], "S")

    @property
    def subject(self) -> str:
        """KDEF identity without session, e.g. ``F01``."""
        return self.kdef_name.subject

    @property
    def folder(self) -> str:
        """KDEF folder, e.g. ``AF01``."""
        return self.kdef_name.folder

    @property
    def stem(self) -> str:
        """KDEF file stem, e.g. ``AF01HAS``."""
        return self.kdef_name.stem


def synthetic_specs(identities: int, seed: int, *, sessions: int = 1) -> list[SyntheticSpec]:
    """Every image of a data set: identities x sessions x the seven expressions.

    Identities alternate female/male (F01, M01, F02, ...) as KDEF numbers them.
    """
    if not 1 <= identities <= MAX_IDENTITIES:
        raise ValueError(
            f"identities must be 1..{MAX_IDENTITIES} (KDEF numbering), got {identities}"
        )
    if sessions not in (1, 2):
        raise ValueError(f"sessions must be 1 or 2 (KDEF sessions A and B), got {sessions}")
    return [
        SyntheticSpec(i, "AB"[s], label, seed)
        for i in range(identities)
        for s in range(sessions)
        for label in LABELS
    ]


def identity_for(index: int, seed: int) -> Identity:
    """The identity ``index`` of a data set drawn with ``seed``."""
    gender: Gender = "F" if index % 2 == 0 else "M"
    return sample_identity(np.random.default_rng([seed, index, 0xFACE]), gender)


def spec_conditions(
    spec: SyntheticSpec, intensity_range: tuple[float, float] = (0.5, 1.0)
) -> tuple[Identity, Viewing, float]:
    """Identity, viewing conditions and expression intensity of one image (cheap: no pixels)."""
    lo, hi = intensity_range
    if not 0 < lo <= hi <= 1:
        raise ValueError(
            f"intensity range must satisfy 0 < low <= high <= 1, got {intensity_range}"
        )
    ident = identity_for(spec.identity_index, spec.seed)
    rng = np.random.default_rng(
        [spec.seed, spec.identity_index, "AB".index(spec.session), LABELS.index(spec.label)]
    )
    view = sample_viewing(rng)
    intensity = float(rng.uniform(lo, hi)) if spec.label != "neutral" else 0.0
    return ident, view, intensity


def identity_shift_px(index: int, seed: int, pose_jitter_px: float) -> tuple[float, float]:
    """The (x, y) shift in px of identity ``index``'s face layout, uniform in
    +-``pose_jitter_px`` per axis; (0, 0) for no jitter. Drawn from its own stream, so no other
    draw of the data set changes with it."""
    if pose_jitter_px < 0:
        raise ValueError(f"pose_jitter_px must be >= 0, got {pose_jitter_px}")
    if pose_jitter_px == 0:
        return 0.0, 0.0
    dx, dy = np.random.default_rng([seed, index, 0x5417]).uniform(-1.0, 1.0, 2) * pose_jitter_px
    return float(dx), float(dy)


def render_spec(
    spec: SyntheticSpec,
    *,
    rows: int,
    cols: int,
    intensity_range: tuple[float, float] = (0.5, 1.0),
    pose_jitter_px: float = 0.0,
) -> SyntheticFace:
    """Render one image of a data set (deterministic for the spec).

    ``pose_jitter_px`` > 0 shifts every image of an identity by the same
    :func:`identity_shift_px`, added to the photo's own shift.
    """
    ident, view, intensity = spec_conditions(spec, intensity_range)
    if pose_jitter_px > 0:
        dx, dy = identity_shift_px(spec.identity_index, spec.seed, pose_jitter_px)
        view = replace(view, shift_x=view.shift_x + dx / cols, shift_y=view.shift_y + dy / rows)
    return render_expression(ident, view, spec.label, intensity, rows=rows, cols=cols)
