"""The ``region_shares`` stage: share of network relevance and of human gaze per facial region.

Per image (stimulus frame, AOI masks of the stimuli stage): the share of positive relevance of
each network method, the share of fixations and the share of dwell time in eyes, brows, nose and
mouth. Artifacts:

    region_shares_per_image.parquet   stimulus_id, label, identity, session, source, region,
                                      share
                                      (source: "human" = fixation count, "human (dwell)",
                                      "image area" = the region's share of the image, or a
                                      network method; region "planted" on synthetic faces)
    region_shares.parquet             mean share per (source, region, label | all), bootstrap CI
                                      over identities
    region_shares_difference.parquet  per-image <method> - human share, mean, identity-clustered
                                      CI, permutation test, per-class p adjusted per contrast
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from gazealign.compare.regions import FACE_REGIONS, fixation_shares, relevance_shares
from gazealign.errors import PipelineError
from gazealign.pipeline.artifacts import table
from gazealign.pipeline.registry import stage
from gazealign.pipeline.stage import StageContext
from gazealign.pipeline.store import read_arrays, write_table
from gazealign.stages import common
from gazealign.stats.tables import summarise

HUMAN = "human"
HUMAN_DWELL = "human (dwell)"
#: The share of the image a region covers: what a map that ignored the face would score.
AREA = "image area"
#: Synthetic faces only: the pixels that differ from the identity's neutral face.
PLANTED = "planted"

WRITES = (
    table(
        "region_shares_per_image",
        "per (image, source, region): the share",
        {**common.PER_IMAGE_COLUMNS, "source": "human, human (dwell), image area or a method"}
        | {"region": "", "share": ""},
        frame="stimulus",
    ),
    table(
        "region_shares",
        "mean share per (source, region, label | all) with its interval",
        {"source": "", "region": ""} | common.SUMMARY_COLUMNS | {"share": "mean"},
    ),
    table(
        "region_shares_difference",
        "per-image <method> - human share, with intervals and tests",
        {"contrast": "", "region": ""} | common.SUMMARY_COLUMNS | common.TEST_COLUMNS,
        optional=True,
    ),
)


@stage(
    "region_shares",
    description="Share of network relevance, fixations and dwell time in eyes, brows, nose, mouth.",
    reads=(
        *common.INFERENCE_KEYS,
        "gaze.correct_only",
    ),
    needs=("stimuli", "explain", "gaze", "human_maps"),
    writes=WRITES,
)
def _run(ctx: StageContext) -> None:
    from gazealign.stimuli.artifacts import read_item

    cfg = ctx.config.comparison
    table = common.selected_stimuli(ctx, cfg.split)
    fixations = common.read_fixations(ctx)
    clusters = common.stimulus_clusters(table).set_index("stimulus_id")
    rows: list[dict[str, Any]] = []
    for row in ctx.track(table.itertuples(index=False), total=len(table), description="regions"):
        sid, label = str(row.stimulus_id), str(row.label)
        item = read_item(ctx.input("stimuli"), sid)
        aois = dict(item.aois)
        regions: tuple[str, ...] = FACE_REGIONS
        if item.planted is not None and item.planted.any():
            # Synthetic faces: the planted diagnostic region is measured like an AOI.
            aois[PLANTED] = item.planted
            regions = (*FACE_REGIONS, PLANTED)
        explain = read_arrays(ctx.artifact("explain", "maps", sid))
        shares: dict[str, dict[str, float]] = {
            m: relevance_shares(explain[f"{m}__stimulus"], aois, regions=regions)
            for m in common.network_methods(explain)
        }
        shares[AREA] = {r: float(aois[r].mean()) for r in regions}
        fix = fixations[fixations["stimulus_id"].astype(str) == sid]
        if len(fix):
            shares[HUMAN], shares[HUMAN_DWELL] = fixation_shares(
                fix["x_px"], fix["y_px"], fix["duration_ms"], aois, regions=regions
            )
        ident = {k: str(clusters.at[sid, k]) for k in ("identity", "session")}
        for source, by_region in shares.items():
            rows += [
                {
                    "stimulus_id": sid,
                    "label": label,
                    **ident,
                    "source": source,
                    "region": r,
                    "share": v,
                }
                for r, v in by_region.items()
            ]
    if not rows:
        raise PipelineError("region_shares: no image to measure")
    per_image = pd.DataFrame(rows)
    valid, summary = common.write_and_summarise(
        ctx,
        per_image,
        file_name="region_shares_per_image.parquet",
        value="share",
        keys=["source", "region"],
        undefined_note="region_shares_undefined",
        seed_name="shares",
    )
    write_table(ctx.out_dir / "region_shares.parquet", summary)
    wide = valid.pivot_table(
        index=["stimulus_id", "label", "identity", "session", "region"],
        columns="source",
        values="share",
    )
    frames = [
        (wide[m] - wide[HUMAN]).rename("difference").reset_index().assign(contrast=f"{m} - human")
        for m in wide.columns
        if m not in (HUMAN, HUMAN_DWELL, AREA) and HUMAN in wide
    ]
    if frames:
        all_diffs = pd.concat(frames, ignore_index=True)
        diffs = all_diffs.dropna(subset=["difference"])
        ctx.note("region_shares_undefined_differences", int(len(all_diffs) - len(diffs)))
        write_table(
            ctx.out_dir / "region_shares_difference.parquet",
            summarise(
                diffs,
                value="difference",
                keys=["contrast", "region"],
                seed=ctx.seed("differences"),
                **common.inference_options(ctx),
            ),
        )
