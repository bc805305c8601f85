"""The report stage is registered last and needs every earlier stage of the study."""

from __future__ import annotations

from gazealign.pipeline.registry import get_stage, run_order
from gazealign.stages import study_stages
from gazealign.stages.report import READS


def test_report_is_the_last_stage_and_needs_all_others() -> None:
    stages = study_stages()
    last = stages[-1]
    assert last.name == "report"
    assert set(last.needs) == {s.name for s in stages[:-1]}
    assert not last.per_item


def test_report_stage_reads_every_table_of_the_study_file() -> None:
    from gazealign.config import StudyConfig

    tables = {key.split(".")[0] for key in READS}
    assert tables == set(StudyConfig.model_fields)
    assert "study.run_dir" not in READS and "study" not in READS  # moving a run keeps its report


def test_report_needs_every_other_stage_whatever_stages_there_are() -> None:
    from gazealign.pipeline import Stage

    extra = Stage("extra", "a stage the report has not heard of", reads=(), run=lambda ctx: None)
    ordered = run_order([get_stage("report"), extra])
    assert [s.name for s in ordered] == ["extra", "report"]
    assert ordered[-1].needs == ("extra",)
