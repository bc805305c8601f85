"""The ``stimuli`` stage: face images -> cropped, resized, annotated and split stimulus items.

Artifacts (the contract is :mod:`gazealign.stimuli.artifacts`): ``items/<id>.npz`` per
stimulus, then ``stimuli.parquet`` (one row per kept stimulus, identity-disjoint split) and
``dropped.csv`` (every file not used, with the reason). For ``source = "synthetic"`` the stage
first renders the faces into ``faces/`` (a KDEF-conformant tree with ``regions/``) and reads
them back through the KDEF loader.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gazealign.errors import PipelineError
from gazealign.pipeline.registry import stage
from gazealign.pipeline.stage import ItemResult, StageContext
from gazealign.pipeline.store import read_arrays, write_table, write_text
from gazealign.stimuli.artifacts import STIMULUS_COLUMNS, STIMULUS_OPTIONAL_COLUMNS, WRITES
from gazealign.stimuli.dataset import Dropped, Scan, dropped_table, load_image
from gazealign.stimuli.kdef import scan_kdef
from gazealign.stimuli.layout_registry import scan_layout
from gazealign.stimuli.prepare import prepare_image, prepare_record, split_table
from gazealign.stimuli.split import HELD_OUT
from gazealign.stimuli.synthetic import SyntheticSpec, render_spec, synthetic_specs
from gazealign.stimuli.synthetic_tree import manifest_table, write_synthetic_face

FACES_DIR = "faces"

# Scanning a dataset reads names only, but run_item is called once per item: keep the last scan.
_SCANS: dict[str, Scan] = {}


def _scan(ctx: StageContext) -> Scan:
    cfg = ctx.config.stimuli
    key = cfg.model_dump_json() + str(ctx.config.resolve(cfg.path) if cfg.path else "")
    if key not in _SCANS:
        _SCANS.clear()
        _SCANS[key] = scan_layout(cfg, ctx.config.resolve)
    return _SCANS[key]


def _intensity_range(ctx: StageContext) -> tuple[float, float]:
    s = ctx.config.stimuli.synthetic
    return (s.intensity_min, s.intensity_max)


def _specs(ctx: StageContext) -> list[SyntheticSpec]:
    s = ctx.config.stimuli.synthetic
    return synthetic_specs(s.identities, ctx.seed("faces"), sessions=s.sessions)


def items(ctx: StageContext) -> Sequence[str]:
    from gazealign.stimuli import landmarks

    if ctx.config.stimuli.aoi_method == "landmarks" and not landmarks.available():
        raise landmarks.LandmarksMissing('stimuli.aoi_method = "landmarks"')
    if ctx.config.stimuli.source == "synthetic":
        return [spec.stem for spec in _specs(ctx)]
    return [r.stimulus_id for r in _scan(ctx).records]


def aoi_margin_px(ctx: StageContext) -> float:
    """``stimuli.aoi_margin_deg`` in stimulus pixels (screen geometry and stimulus scale)."""
    from gazealign.stages.common import screen_of
    from gazealign.stimuli.landmarks import margin_px_of

    return margin_px_of(
        ctx.config.stimuli.aoi_margin_deg,
        screen_of(ctx).px_per_deg,
        ctx.config.gaze.stimulus_scale,
    )


def run_item(ctx: StageContext, item: str) -> ItemResult:
    cfg = ctx.config.stimuli
    if cfg.source != "synthetic":
        return prepare_record(_scan(ctx).by_id()[item], cfg, aoi_margin_px=aoi_margin_px(ctx))
    spec = next(s for s in _specs(ctx) if s.stem == item)
    s = cfg.synthetic
    face = render_spec(
        spec,
        rows=s.image_rows,
        cols=s.image_cols,
        intensity_range=_intensity_range(ctx),
        pose_jitter_px=s.pose_jitter_px,
    )
    path = write_synthetic_face(ctx.out_dir / FACES_DIR, spec, face)
    image = load_image(path)  # the JPEG as a KDEF user would read it
    return prepare_image(image, cfg, aois=dict(face.aois), planted=face.planted)


def _item_facts(ctx: StageContext, item: str) -> tuple[Dropped | None, int, int, str, int, bool]:
    arrays = read_arrays(ctx.item_path(item))
    if "dropped_reason" in arrays:
        return (
            Dropped("", item, str(arrays["dropped_reason"]), str(arrays["dropped_detail"])),
            0,
            0,
            "",
            0,
            False,
        )
    rows, cols = arrays["image"].shape[:2]
    return (
        None,
        int(rows),
        int(cols),
        str(arrays.get("region_method", np.array(""))),
        int(arrays.get("faces_found", np.array(1))),
        bool(arrays.get("face_tie", np.array(False))),
    )


@stage(
    "stimuli",
    description="face images: load, crop, resize, facial regions, identity-disjoint split",
    reads=("study.seed", "stimuli", "gaze.screen", "gaze.stimulus_scale"),
    writes=WRITES,
    items=items,
    run_item=run_item,
)
def run(ctx: StageContext) -> None:
    cfg = ctx.config.stimuli
    if cfg.source == "synthetic":
        specs = _specs(ctx)
        scan = scan_kdef(ctx.out_dir / FACES_DIR, angles=("S",), sessions=("A", "B"))
        got = sorted(r.stimulus_id for r in scan.records)
        if got != sorted(s.stem for s in specs) or scan.dropped:
            raise PipelineError(
                f"synthetic faces do not round-trip through the KDEF loader: {len(got)} read, "
                f"{len(specs)} rendered, {len(scan.dropped)} unreadable names"
            )
        manifest = manifest_table(specs, _intensity_range(ctx))
        write_text(
            ctx.out_dir / FACES_DIR / "manifest.csv",
            manifest.to_csv(index=False, lineterminator="\n"),
        )
        intensity = dict(zip([s.stem for s in specs], manifest["intensity"], strict=True))
        order = {s.stem: i for i, s in enumerate(specs)}
        records = sorted(scan.records, key=lambda r: order[r.stimulus_id])
    else:
        scan = _scan(ctx)
        records = scan.records
        intensity = {}
    dropped: list[Dropped] = list(scan.dropped)
    rows = []
    several: list[str] = []
    ties: list[str] = []
    for rec in records:
        gone, n_rows, n_cols, method, faces, tie = _item_facts(ctx, rec.stimulus_id)
        if faces > 1:
            several.append(rec.source_path or rec.stimulus_id)
        if tie:
            ties.append(rec.source_path or rec.stimulus_id)
        if gone is not None:
            dropped.append(Dropped(rec.source_path, rec.stimulus_id, gone.reason, gone.detail))
            continue
        rows.append(
            {
                "stimulus_id": rec.stimulus_id,
                "label": rec.label,
                "subject": rec.subject,
                "session": rec.session,
                "source_path": rec.source_path,
                "rows": n_rows,
                "cols": n_cols,
                "intensity": float(intensity.get(rec.stimulus_id, np.nan)),
                "aoi_method": method,
                "faces_found": faces,
                "usage": str(rec.metadata.get("usage", "")),
            }
        )
    if not rows:
        raise PipelineError(f"no usable stimuli: {len(dropped)} files dropped (see dropped.csv)")
    table = pd.DataFrame(rows)
    table["split"] = split_table(table, cfg, seed=ctx.seed("split")).to_numpy()
    held = table["split"] == HELD_OUT
    for _, r in table[held].iterrows():
        dropped.append(
            Dropped(
                r["source_path"], r["stimulus_id"], "held_out", "session-B image of a test identity"
            )
        )
    table = table[~held].reset_index(drop=True)
    columns = {**STIMULUS_COLUMNS, **STIMULUS_OPTIONAL_COLUMNS}
    table = table[list(columns)].astype(columns)
    write_table(ctx.out_dir / "stimuli.parquet", table)
    gone_table = dropped_table(dropped)
    write_text(ctx.out_dir / "dropped.csv", gone_table.to_csv(index=False, lineterminator="\n"))
    ctx.note("stimuli", len(table))
    ctx.note("images_with_several_faces", len(several))
    ctx.note("face_ties", len(ties))
    if several:
        ctx.warn(
            f"{len(several)} images show more than one face (the largest is used): "
            + ", ".join(several[:5])
            + (" ..." if len(several) > 5 else "")
        )
    if ties:
        ctx.warn(
            f"{len(ties)} images have two equally large largest faces (the one nearest the top, then the left, is used): "
            + ", ".join(ties[:5])
        )
    ctx.note("ignored_files", len(scan.ignored))
    ctx.note("by_split", {k: int(v) for k, v in table["split"].value_counts().sort_index().items()})
    ctx.note("by_label", {k: int(v) for k, v in table["label"].value_counts().sort_index().items()})
    ctx.note(
        "dropped", {k: int(v) for k, v in gone_table["reason"].value_counts().sort_index().items()}
    )
