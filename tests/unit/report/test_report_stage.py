"""The report stage is registered last and needs every earlier stage of the study."""

from __future__ import annotations

from gazealign.stages import study_stages
from gazealign.stages.report import READS, make_stage


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
    assert make_stage(["a", "b"]).needs == ("a", "b")
