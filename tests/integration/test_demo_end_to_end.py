"""The whole study end to end on a tiny demo configuration, through the CLI.

Every stage runs for real (synthetic faces -> small network -> LRP -> simulated observers' ASC
files -> fixations -> density maps -> perturbation, metrics, regions, statistics -> report), on
sizes small enough for a test. The numbers are not meaningful at this size; the test checks that
every report section is built from real numbers and that a second run reuses the cache.
"""

from __future__ import annotations

import copy
import json
import re
import time
from pathlib import Path

import pandas as pd
import pytest

from gazealign.cli import main
from gazealign.config import dump_study, study_from_dict
from gazealign.demo import DEMO_STUDY
from gazealign.report.sections import page_sections
from gazealign.stages import study_stages

pytestmark = pytest.mark.slow


def tiny_study() -> dict[str, object]:
    study = copy.deepcopy(DEMO_STUDY)
    study["stimuli"]["synthetic"] = {
        "identities": 8,
        "sessions": 1,
        "image_rows": 96,
        "image_cols": 80,
    }  # type: ignore[index]
    study["stimuli"]["input_size_px"] = 32  # type: ignore[index]
    study["stimuli"]["split"] = {"test_fraction": 0.5, "val_fraction": 0.25}  # type: ignore[index]
    study["model"]["train"]["epochs"] = 2  # type: ignore[index]
    study["gaze"]["simulation"] = {"participants": 3}  # type: ignore[index]
    study["gaze"]["stimulus_scale"] = 6.0  # type: ignore[index]
    study["comparison"]["perturbation"] = {  # type: ignore[index]
        "tile_px": 8,
        "random_orders": 3,
        "batch_size": 64,
        "controls": ["other_identity", "expression_mean", "lrp_epsilon_plus_flat_blurred"],
    }
    study["comparison"]["metrics"] = {"auc_splits": 5, "ceiling_splits": 2, "emd_max_side_px": 8}  # type: ignore[index]
    study["comparison"]["robustness"] = {"tile_px": [8, 16], "fills": ["uniform_noise", "mean"]}  # type: ignore[index]
    study["alignment"] = {"lambdas": [0.0, 1.0]}  # the sweep and its section, at this size too
    study["comparison"]["bootstrap_resamples"] = 200  # type: ignore[index]
    study["comparison"]["permutations"] = 200  # type: ignore[index]
    study["report"] = {"figure_formats": ["png"], "dpi": 50}
    return study


def run_cli(args: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code in (0, None)


def test_tiny_demo_study_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = study_from_dict(tiny_study(), base_dir=tmp_path)
    study_file = tmp_path / "tiny.toml"
    study_file.write_text(dump_study(config))

    run_cli(["run", str(study_file), "--no-progress"])
    run_dir = tmp_path / "run"
    printed = "".join(capsys.readouterr().out.split())
    assert "report.html" in printed  # the run says where its report is
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert sorted(manifest["stages"]) == sorted(s.name for s in study_stages())
    report_dir = next((run_dir / "stages" / "report").glob("*[!l]"))
    html = (report_dir / "report.html").read_text()

    assert "synthetic-notice" in html and "not a finding about people" in html
    for section_id, title in [(s.name, s.title) for s in page_sections()]:
        match = re.search(rf'<section id="{section_id}">(.*?)</section>', html, re.S)
        assert match, f"section {section_id} missing"
        body = match.group(1)
        assert "not built" not in body, f"section {title!r} was not built"
        assert "Not available" not in body, f"section {title!r} lacks its inputs"
        if section_id in {"overview", "perturbation", "perturbation_strip", "robustness"}:
            assert "<img" in body
        else:
            assert re.search(r"\d\.\d", body), f"section {title!r} has no numbers"
    assert html.count("<img") >= 6
    assert "http://" not in html and "https://" not in html

    regions_dir = next((run_dir / "stages" / "region_shares").glob("*[!l]"))
    shares = pd.read_parquet(regions_dir / "region_shares.parquet")
    assert "planted" in set(shares["region"]) and "image area" in set(shares["source"])

    summary = json.loads((report_dir / "summary.json").read_text())
    assert summary["planted_share"], "synthetic faces: the planted-region share is reported"
    train_dir = next((run_dir / "stages" / "train").glob("*[!l]"))
    train_metrics = json.loads((train_dir / "metrics.json").read_text())
    assert (
        summary["test_accuracy"] == train_metrics["test_accuracy"]
    )  # the report's number is the run's

    # A second run finds every stage cached and only prints the run folder.
    t0 = time.perf_counter()
    run_cli(["run", str(study_file), "--no-progress"])
    assert time.perf_counter() - t0 < 60  # generous: it must not rerun the study (minutes)
    run_cli(["status", str(study_file)])
