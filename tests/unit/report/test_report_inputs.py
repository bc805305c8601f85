"""Reading a run's artifacts for the report: through the stage contracts, with clear absences."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from report_fakes import METHOD, OVERALL_HUMAN_MINUS_NETWORK, FakeRun, fake_config

from gazealign.errors import DataError
from gazealign.pipeline import Runner, Stage, StageContext
from gazealign.pipeline.registry import get_stage
from gazealign.pipeline.store import write_table
from gazealign.report.inputs import (
    find_stage_dirs,
    gather_inputs,
    load_auc_differences,
    load_curves,
    load_metrics,
    load_network_confusion,
    load_quality,
    load_region_shares,
)


def test_comparison_tables_are_read_by_name_and_filtered(fake_run: FakeRun) -> None:
    dirs = find_stage_dirs(fake_run.run_dir)
    curves = load_curves(dirs["perturbation"])
    assert set(curves["order"]) == {"morf"} and set(curves["measure"]) == {"accuracy"}
    assert curves["value"].max() <= 1.0  # the off-scale rows of other measures are gone
    assert set(curves["ordering"]) == {"human", METHOD, "random"}
    auc = load_auc_differences(dirs["perturbation"])
    assert len(auc) == 16  # 2 contrasts x (7 classes + all), AUC of MoRF accuracy only
    overall = auc[(auc["label"] == "all") & (auc["contrast"] == f"human - {METHOD}")]
    assert overall["estimate"].tolist() == [OVERALL_HUMAN_MINUS_NETWORK]
    metrics = load_metrics(dirs["saliency_metrics"])
    assert set(metrics["label"]) == {"all"} and len(metrics) == 6
    assert "share" in load_region_shares(dirs["region_shares"]).columns


def test_network_confusion_and_quality_come_from_the_declared_tables(fake_run: FakeRun) -> None:
    dirs = find_stage_dirs(fake_run.run_dir)
    confusion = load_network_confusion(dirs["train"])
    assert confusion.loc["afraid", "surprised"] == 1 and confusion.loc["happy", "happy"] == 2
    quality = load_quality(dirs["gaze"])
    assert quality.to_dict(orient="list") == {
        "subject": ["P00", "P01", "P02"],
        "trials_kept": [6, 7, 7],
        "dropped_incorrect": [1, 0, 0],
    }


def _bad_curves(ctx: StageContext) -> None:
    write_table(ctx.out_dir / "curves.parquet", pd.DataFrame({"step": [0], "thing": [1.0]}))


def test_a_stage_that_breaks_its_contract_fails_when_it_runs(tmp_path: Path) -> None:
    curves = next(a for a in get_stage("perturbation").writes if a.name == "curves")
    stage = Stage("perturbation", "bad", reads=(), run=_bad_curves, writes=(curves,))
    runner = Runner(fake_config(tmp_path / "run"), [stage], show_progress=False, versions={})
    with pytest.raises(Exception, match=r"curves.parquet lacks column\(s\) label, ordering"):
        runner.run()


def test_a_table_that_lost_its_columns_is_an_absence_with_the_reason(
    fake_run: FakeRun, tmp_path: Path
) -> None:
    import shutil

    dirs = find_stage_dirs(fake_run.run_dir)
    folder = tmp_path / "perturbation"
    shutil.copytree(dirs["perturbation"], folder)
    write_table(folder / "curves.parquet", pd.DataFrame({"step": [0], "thing": [1.0]}))
    with pytest.raises(DataError, match="lacks column"):
        load_curves(folder)
    config = fake_config(tmp_path / "run")
    inputs = gather_inputs({"perturbation": folder}, config=config)
    assert "lacks column(s)" in inputs.absent["curves"] and " label," in inputs.absent["curves"]
    assert inputs.absent["overview"] == "the run has no finished stimuli, explain, human_maps stage"
    assert inputs.absent["metrics"] == "the run has no finished saliency_metrics stage"
    assert inputs.study_name == "report test study" and inputs.synthetic is True


def test_a_folder_without_a_contract_is_a_clear_absence(tmp_path: Path) -> None:
    folder = tmp_path / "perturbation"
    write_table(folder / "curves.parquet", pd.DataFrame({"step": [0]}))
    inputs = gather_inputs({"perturbation": folder}, config=fake_config(tmp_path / "run"))
    assert "not a finished stage folder" in inputs.absent["curves"]
