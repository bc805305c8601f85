"""Reading a run's artifacts for the report: the right rows, the right files, clear absences."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from report_fakes import METHOD, OVERALL_HUMAN_MINUS_NETWORK, FakeRun

from gazealign.errors import DataError
from gazealign.pipeline.store import write_table
from gazealign.report.inputs import (
    _comparison_tables,
    find_auc_differences,
    find_curves,
    find_metrics,
    find_region_shares,
    find_stage_dirs,
    gather_inputs,
    load_network_confusion,
    load_quality,
    normalise_columns,
)


def test_normalise_columns_renames_the_first_alias_only_when_needed() -> None:
    table = pd.DataFrame({"expression": ["happy"], "lower": [0.1], "upper": [0.3], "mean": [0.2]})
    out = normalise_columns(table, ("label", "ci_low", "ci_high", "estimate"))
    assert list(out.columns) == ["label", "ci_low", "ci_high", "estimate"]
    # a canonical column that is there already wins over its aliases
    kept = normalise_columns(pd.DataFrame({"value": [1], "mean": [2]}), ("value",))
    assert list(kept.columns) == ["value", "mean"]


def test_comparison_tables_are_picked_by_name_and_filtered(fake_run: FakeRun) -> None:
    tables = _comparison_tables(find_stage_dirs(fake_run.run_dir))
    assert not any("per_image" in name for name, _ in tables)
    curves = find_curves(tables)
    assert curves is not None
    assert set(curves["order"]) == {"morf"} and set(curves["measure"]) == {"accuracy"}
    assert curves["value"].max() <= 1.0  # the off-scale rows of other measures are gone
    assert set(curves["ordering"]) == {"human", METHOD, "random"}
    auc = find_auc_differences(tables)
    assert auc is not None
    assert len(auc) == 16  # 2 contrasts x (7 classes + all), AUC of MoRF accuracy only
    overall = auc[(auc["label"] == "all") & (auc["contrast"] == f"human - {METHOD}")]
    assert overall["estimate"].tolist() == [OVERALL_HUMAN_MINUS_NETWORK]
    metrics = find_metrics(tables)
    assert metrics is not None
    assert set(metrics["label"]) == {"all"} and len(metrics) == 6
    regions = find_region_shares(tables)
    assert regions is not None and "share" in regions.columns


def test_network_confusion_reads_wide_long_and_predictions(tmp_path: Path) -> None:
    wide = tmp_path / "wide"
    wide.mkdir()
    pd.DataFrame({"label": ["happy", "sad"], "pred_happy": [3, 1], "pred_sad": [0, 2]}).to_csv(
        wide / "confusion.csv", index=False
    )
    got = load_network_confusion(wide)
    assert got is not None
    assert got.loc["sad", "happy"] == 1 and got.loc["happy", "happy"] == 3
    long = tmp_path / "long"
    long.mkdir()
    pd.DataFrame({"true": ["happy", "sad"], "predicted": ["sad", "sad"], "count": [2, 5]}).to_csv(
        long / "confusion.csv", index=False
    )
    got = load_network_confusion(long)
    assert got is not None
    assert got.loc["happy", "sad"] == 2 and got.loc["sad", "sad"] == 5
    preds = tmp_path / "preds"
    write_table(
        preds / "predictions.parquet",
        pd.DataFrame(
            {
                "split": ["test", "test", "train"],
                "label": ["happy", "sad", "sad"],
                "predicted": ["happy", "happy", "sad"],
            }
        ),
    )
    got = load_network_confusion(preds)
    assert got is not None
    assert int(got.to_numpy().sum()) == 2  # test split only
    assert load_network_confusion(tmp_path / "nothing") is None


def test_quality_is_counted_from_trials_when_no_quality_table(tmp_path: Path) -> None:
    trials = pd.DataFrame(
        {
            "subject": ["P1", "P1", "P1", "P2"],
            "kept": [True, False, False, True],
            "drop_reason": ["", "incorrect", "off stimulus", ""],
        }
    )
    write_table(tmp_path / "trials.parquet", trials)
    got = load_quality(tmp_path)
    assert got is not None
    assert got.to_dict(orient="list") == {
        "subject": ["P1", "P2"],
        "trials_kept": [1, 1],
        "dropped_incorrect": [1, 0],
        "dropped_off stimulus": [1, 0],
    }


def test_bad_comparison_table_is_an_absence_with_the_reason(tmp_path: Path) -> None:
    folder = tmp_path / "perturbation"
    write_table(folder / "curves.parquet", pd.DataFrame({"step": [0], "thing": [1.0]}))
    with pytest.raises(DataError, match="no column for"):
        find_curves(_comparison_tables({"perturbation": folder}))
    inputs = gather_inputs({"perturbation": folder}, study_toml='[study]\nname = "x"\n')
    assert "no column for" in inputs.absent["curves"]
    assert inputs.absent["overview"] == "the run has no finished stimuli, explain, human_maps stage"
    assert inputs.study_name == "x" and inputs.synthetic is False
