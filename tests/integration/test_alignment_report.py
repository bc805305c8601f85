"""The report's alignment section from a small finished sweep: the sweep stage's own aggregation
over hand-made per-lambda items (known numbers), then the real report builder."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gazealign.config import study_from_dict
from gazealign.pipeline.artifacts import check_written, declare_folder
from gazealign.pipeline.stage import StageContext
from gazealign.pipeline.store import write_arrays, write_table
from gazealign.report.build import write_report
from gazealign.stages.alignment_sweep import PER_IMAGE, WRITES
from gazealign.stages.alignment_sweep import run as aggregate

STUDY: dict[str, Any] = {
    "study": {"seed": 3, "run_dir": "run", "synthetic": True},
    "stimuli": {"source": "synthetic"},
    "comparison": {"bootstrap_resamples": 200, "permutations": 200},
    "alignment": {"lambdas": [0.0, 1.0], "shortcut": "corner_mark"},
}

#: Four identities, two test faces each.
TEST_IDS = [f"I{k}_{e}" for k in range(4) for e in ("HA", "SA")]
CORRECT = {0.0: [1, 1, 0, 1, 0, 1, 1, 0], 1.0: [1, 1, 1, 1, 0, 1, 1, 1]}
CUED = {0.0: [1, 1, 1, 1, 1, 1, 1, 1], 1.0: [1, 1, 1, 1, 1, 1, 1, 0]}
#: Spearman per scored test image (the first six have a human map); NaN: a constant map.
SPEARMAN = {
    0.0: [0.10, 0.20, 0.30, 0.40, 0.10, 0.20],
    1.0: [0.30, 0.20, 0.50, np.nan, 0.40, 0.30],
}


def _item(weight: float) -> dict[str, Any]:
    scored = TEST_IDS[:6]
    rho = np.array(SPEARMAN[weight])
    base = {k: np.full(6, 0.5) for k in PER_IMAGE}
    base |= {
        "spearman": rho,
        "cc": rho + 0.1,
        "ceiling_spearman": np.full(6, 0.8),
        "ceiling_cc": np.full(6, 0.9),
        "morf_network": np.full(6, 0.4),
        "morf_human": np.full(6, 0.45 + weight / 100),
    }
    return {
        "weight": np.float64(weight),
        "stimulus_id": np.array(scored),
        "correct": np.array(CORRECT[weight], bool),
        "correct_cued": np.array(CUED[weight], bool),
        "test_ids": np.array(TEST_IDS),
        **base,
        "train_images": np.int64(40),
        "train_images_with_map": np.int64(38),
        "best_epoch": np.int64(3),
        "history": np.str_(json.dumps([{"epoch": 1, "loss": 1.0}])),
    }


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    root = tmp_path_factory.mktemp("alignment_report")
    config = study_from_dict(STUDY, base_dir=root)
    stimuli = root / "stimuli"
    write_table(
        stimuli / "stimuli.parquet",
        pd.DataFrame(
            {
                "stimulus_id": TEST_IDS,
                "label": ["happy" if s.endswith("HA") else "sad" for s in TEST_IDS],
                "subject": [s.split("_")[0] for s in TEST_IDS],
                "session": "A",
                "split": "test",
                "source_path": "",
                "rows": 32,
                "cols": 32,
            }
        ),
    )
    out = root / "alignment_sweep"
    ctx = StageContext(config, "alignment_sweep", out, {"stimuli": stimuli})
    for w in (0.0, 1.0):
        write_arrays(ctx.item_path(f"lambda_{w!r}"), _item(w))
    aggregate(ctx)
    check_written("alignment_sweep", WRITES, out)  # the declared contract holds
    declare_folder(out, WRITES)
    return out, config


def test_paired_differences_match_a_hand_computation(finished: tuple[Path, Any]) -> None:
    out, _ = finished
    paired = pd.read_parquet(out / "paired.parquet").set_index("measure")
    assert set(paired["weight"]) == {1.0} and set(paired["baseline_weight"]) == {0.0}
    # accuracy: 7/8 - 5/8 over the same eight faces of four identities
    assert paired.loc["correct", "estimate"] == pytest.approx(0.25)
    assert (paired.loc["correct", "n"], paired.loc["correct", "n_groups"]) == (8, 4)
    # cue_drop = cued - cue-free: lambda 0 drops 3 of 8, lambda 1 drops 1 and gains 1 -> 0
    assert paired.loc["cue_drop", "estimate"] == pytest.approx(0.0 - 3 / 8)
    assert paired.loc["correct_cued", "estimate"] == pytest.approx(-1 / 8)
    # Spearman: the pair with a constant map (NaN) is dropped, five pairs remain
    diffs = [0.2, 0.0, 0.2, 0.3, 0.1]
    assert paired.loc["spearman", "estimate"] == pytest.approx(np.mean(diffs))
    assert paired.loc["spearman", "n"] == 5 and paired.loc["spearman", "n_groups"] == 3
    assert paired.loc["morf_difference", "estimate"] == pytest.approx(0.01)
    lo, hi = paired.loc["correct", ["ci_low", "ci_high"]]
    assert lo <= 0.25 <= hi
    shortcut = pd.read_parquet(out / "shortcut.parquet").set_index("weight")
    assert shortcut.loc[0.0, "cue_free_accuracy"] == pytest.approx(5 / 8)
    assert shortcut.loc[0.0, "cued_accuracy"] == pytest.approx(1.0)
    assert shortcut.loc[0.0, "cue_drop"] == pytest.approx(3 / 8)
    sweep = pd.read_parquet(out / "sweep.parquet").set_index("weight")
    assert sweep.loc[1.0, "spearman"] == pytest.approx(np.nanmean(SPEARMAN[1.0]))
    assert sweep.loc[1.0, "spearman_of_ceiling"] == pytest.approx(np.nanmean(SPEARMAN[1.0]) / 0.8)


def test_the_section_renders_the_figure_tables_and_plain_sentences(
    finished: tuple[Path, Any], tmp_path: Path
) -> None:
    out, config = finished
    page, _ = write_report(
        {"alignment_sweep": out}, tmp_path / "report", config=config, study_toml=""
    )
    html = page.read_text(encoding="utf-8")
    section = re.search(r'<section id="alignment">(.*?)</section>', html, re.S)
    assert section is not None
    body = section.group(1)
    assert "demonstrates the method" in body and "not a finding about people" in body
    # Spearman / ceiling rises from 0.2167/0.8 to 0.34/0.8
    assert (
        "Alignment (Spearman / ceiling) rises with lambda: 0.271 at λ = 0, 0.425 at λ = 1" in body
    )
    assert "Test accuracy stays within 3 points of λ = 0 (0.625) at λ = 1 (0.875" in body
    assert "The plain network (λ = 0) scores 1.000 on cued test faces and 0.625 on cue-free" in body
    assert "it learned the cue" in body
    assert "The aligned network at λ = 1 loses less on cue-free faces than the plain one" in body
    assert "38 of 40" in body  # training images with a human map
    assert body.count('<table class="data') == 3  # per lambda, paired, shortcut
    assert (tmp_path / "report" / "figures" / "alignment_tradeoff.png").exists()


def test_without_the_sweep_the_section_is_absent(
    finished: tuple[Path, Any], tmp_path: Path
) -> None:
    _, config = finished
    stimuli = finished[0].parent / "stimuli"
    declare_folder(stimuli, [])
    page, _ = write_report({"stimuli": stimuli}, tmp_path / "report", config=config, study_toml="")
    html = page.read_text(encoding="utf-8")
    section = re.search(r'<section id="alignment">(.*?)</section>', html, re.S)
    assert section is not None and "no finished alignment_sweep stage" in section.group(1)
