"""Stage ``report``: the study's figures and self-contained HTML report, from every earlier stage."""

from __future__ import annotations

from gazealign.config import dump_study
from gazealign.pipeline.artifacts import other
from gazealign.pipeline.registry import stage
from gazealign.pipeline.stage import ALL_STAGES, StageContext
from gazealign.pipeline.store import read_json

#: The report shows the whole study file, so it reads every table of it (but not where the run
#: folder lives: moving a run must not invalidate its report).
READS = (
    "plugins",
    "study.name",
    "study.seed",
    "study.synthetic",
    "stimuli",
    "model",
    "explain",
    "gaze",
    "heatmap",
    "comparison",
    "sanity",
    "alignment",
    "report",
)


WRITES = (
    other("page", "report.html", "file", "the self-contained HTML report"),
    other("summary", "summary.json", "json", "the numbers the findings are written from"),
    other("figures", "figures", "folder", "every figure in each configured format"),
)


@stage(
    "report",
    description="figures and the self-contained HTML report",
    reads=READS,
    needs=(ALL_STAGES,),
    writes=WRITES,
)
def run(ctx: StageContext) -> None:
    from gazealign.report.build import write_report

    manifest_path = ctx.config.run_dir / "manifest.json"
    manifest = read_json(manifest_path) if manifest_path.exists() else {}
    _page, absent = write_report(
        dict(ctx.inputs),
        ctx.out_dir,
        config=ctx.config,
        study_toml=dump_study(ctx.config),
        manifest=manifest,
    )
    ctx.note("figures", len(list((ctx.out_dir / "figures").glob("*.png"))))
    ctx.note("absent", absent)
