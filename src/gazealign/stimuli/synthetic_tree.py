"""Write synthetic faces as a KDEF-conformant folder tree, and draw contact sheets.

Layout written by :func:`write_synthetic_tree` (the KDEF loader reads it unchanged)::

    DIR/AF01/AF01HAS.JPG          the face (KDEF name: session A, female 01, happy, straight)
    DIR/regions/AF01/AF01HAS.npz  masks in the image frame: ``planted``, ``aoi_<region>``
    DIR/manifest.csv              one row per image: path, label, subject, session, intensity, seed

The masks come from the rendered arrays; the JPEG (quality 95, no chroma subsampling) changes
pixel values by a few grey levels, so compare planted regions with the rendered image, not
with a decoded JPEG.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from PIL import Image

from gazealign.pipeline.store import write_arrays, write_bytes, write_text
from gazealign.stimuli.artifacts import AOI_REGIONS
from gazealign.stimuli.synthetic import (
    SyntheticFace,
    SyntheticSpec,
    render_spec,
    spec_conditions,
    synthetic_specs,
)
from gazealign.types import LABELS

JPEG_QUALITY = 95

MANIFEST_COLUMNS = ("path", "label", "subject", "session", "intensity", "identity_index", "seed")


def encode_jpeg(image: npt.NDArray[np.uint8], quality: int = JPEG_QUALITY) -> bytes:
    """JPEG bytes of an RGB image (4:4:4, no chroma subsampling; deterministic)."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality, subsampling=0)
    return buf.getvalue()


def encode_png(image: npt.NDArray[np.uint8]) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def face_path(spec: SyntheticSpec) -> str:
    """Relative path of a face in the tree, e.g. ``AF01/AF01HAS.JPG``."""
    return f"{spec.folder}/{spec.stem}.JPG"


def region_path(spec: SyntheticSpec) -> str:
    return f"regions/{spec.folder}/{spec.stem}.npz"


def region_arrays(face: SyntheticFace) -> dict[str, npt.NDArray[np.bool_]]:
    return {"planted": face.planted, **{f"aoi_{r}": face.aois[r] for r in AOI_REGIONS}}


def write_synthetic_face(
    root: Path, spec: SyntheticSpec, face: SyntheticFace, *, quality: int = JPEG_QUALITY
) -> Path:
    """Write one face (JPEG) and its masks (npz) below ``root``; returns the JPEG path."""
    path = root / face_path(spec)
    write_bytes(path, encode_jpeg(face.image, quality))
    write_arrays(root / region_path(spec), region_arrays(face))
    return path


def manifest_table(
    specs: Sequence[SyntheticSpec], intensity_range: tuple[float, float] = (0.5, 1.0)
) -> pd.DataFrame:
    """The ``manifest.csv`` rows of ``specs`` (intensities recomputed cheaply from the seeds)."""
    rows = []
    for spec in specs:
        _, _, intensity = spec_conditions(spec, intensity_range)
        rows.append(
            (face_path(spec), spec.label, spec.subject, spec.session, round(intensity, 6),
             spec.identity_index, spec.seed)
        )  # fmt: skip
    return pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))


def write_synthetic_tree(
    out: Path,
    *,
    identities: int,
    seed: int,
    rows: int = 160,
    cols: int = 128,
    sessions: int = 1,
    intensity_range: tuple[float, float] = (0.5, 1.0),
    quality: int = JPEG_QUALITY,
) -> pd.DataFrame:
    """Render ``identities`` x ``sessions`` x 7 expressions into ``out``; returns the manifest."""
    specs = synthetic_specs(identities, seed, sessions=sessions)
    for spec in specs:
        face = render_spec(spec, rows=rows, cols=cols, intensity_range=intensity_range)
        write_synthetic_face(out, spec, face, quality=quality)
    manifest = manifest_table(specs, intensity_range)
    write_text(out / "manifest.csv", manifest.to_csv(index=False, lineterminator="\n"))
    return manifest


def _outline(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    inner = mask.copy()
    inner[1:, :] &= mask[:-1, :]
    inner[:-1, :] &= mask[1:, :]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    return mask & ~inner


#: Outline colours of the AOIs on a contact sheet's mask rows.
AOI_COLOURS: dict[str, tuple[int, int, int]] = {
    "eyes": (40, 90, 255),
    "brows": (40, 220, 40),
    "nose": (255, 220, 0),
    "mouth": (255, 0, 255),
}


def overlay_masks(face: SyntheticFace) -> npt.NDArray[np.uint8]:
    """The face with its planted region tinted red and its AOIs outlined."""
    vis = face.image.astype(np.float64)
    vis[face.planted] = 0.45 * vis[face.planted] + np.array([140.0, 0.0, 0.0])
    out = np.clip(vis, 0, 255).astype(np.uint8)
    for region, colour in AOI_COLOURS.items():
        out[_outline(face.aois[region])] = colour
    return out


def contact_sheet(
    *,
    identities: int = 6,
    seed: int = 0,
    rows: int = 160,
    cols: int = 128,
    masks: bool = False,
    intensity_range: tuple[float, float] = (0.5, 1.0),
) -> npt.NDArray[np.uint8]:
    """A grid: one row per identity (twice with ``masks``), one column per expression (LABELS).

    With ``masks`` each identity's row is followed by the same faces with the planted region in
    red and the AOIs outlined (eyes blue, brows green, nose yellow, mouth magenta).
    """
    per = 2 if masks else 1
    sheet = np.full((identities * per * rows, len(LABELS) * cols, 3), 255, dtype=np.uint8)
    for spec in synthetic_specs(identities, seed):
        face = render_spec(spec, rows=rows, cols=cols, intensity_range=intensity_range)
        r = spec.identity_index * per * rows
        c = LABELS.index(spec.label) * cols
        sheet[r : r + rows, c : c + cols] = face.image
        if masks:
            sheet[r + rows : r + 2 * rows, c : c + cols] = overlay_masks(face)
    return sheet
