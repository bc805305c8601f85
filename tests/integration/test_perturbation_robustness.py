"""The robustness sweep and the perturbation strip on the small synthetic comparison study.

The study of ``test_compare_synthetic_study``: a fixed network whose evidence for class c is the
brightness of one 8 px tile, a network map marking that tile, observers looking at the face
centre. At 8 px tiles the network order removes the evidence at step 1 and the human order late,
so human - network MoRF accuracy AUC is positive whatever the fill.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch
from test_compare_synthetic_study import TILE, S, TileBrightnessNet, stand_in_stages

from gazealign.config import study_from_dict
from gazealign.models.bundle import ModelBundle
from gazealign.pipeline import Runner
from gazealign.pipeline.registry import get_stage
from gazealign.pipeline.store import read_arrays, read_json, read_table
from gazealign.report.build import write_report
from gazealign.report.sections.perturbation_strip import load_strips
from gazealign.stages import perturbation as perturbation_stage
from gazealign.stages import perturbation_robustness as robustness_stage

pytestmark = pytest.mark.slow


class RecordingBundle(ModelBundle):
    """Keeps the bytes of every image the network is shown."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        object.__setattr__(self, "seen", set())

    def preprocess(self, images: Any) -> torch.Tensor:
        for img in np.asarray(images):
            self.seen.add(img.tobytes())  # type: ignore[attr-defined]
        return super().preprocess(images)


def _config(tmp_path: Path, robustness: dict[str, Any]) -> Any:
    return study_from_dict(
        {
            "study": {"seed": 3, "run_dir": "run", "synthetic": True},
            "heatmap": {"sigma_deg": 0.08},
            "comparison": {
                # float32 on every machine: under the default "auto" a CPU with native bf16
                # runs the perturbation stage in bf16, which moves the 8 px mean-fill contrast
                # (0.330 in bf16 against 0.289 in float32) and the own-pair equality below.
                "perturbation": {
                    "tile_px": TILE,
                    "random_orders": 4,
                    "batch_size": 16,
                    "bf16": False,
                },
                "robustness": robustness,
                "bootstrap_resamples": 300,
                "permutations": 400,
            },
            "report": {"figure_formats": ["png", "pdf"], "dpi": 50, "strip": {"faces": 2}},
        },
        base_dir=tmp_path,
        source=str(tmp_path / "study.toml"),
    )


def _run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, robustness: dict[str, Any]) -> Any:
    torch.set_num_threads(1)
    bundle = RecordingBundle(TileBrightnessNet().eval(), preprocessing="thesis", input_size_px=S)
    for module in (perturbation_stage, robustness_stage):
        monkeypatch.setattr(module, "cached_model", lambda train_dir, device: bundle)
    config = _config(tmp_path, robustness)
    stages = [*stand_in_stages(), get_stage("perturbation"), get_stage("perturbation_robustness")]
    return config, Runner(config, stages, show_progress=False).run(), bundle


def test_sweep_measures_the_headline_per_pair_and_the_report_shows_it_and_the_strip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sweep = {"tile_px": [TILE, 16], "fills": ["uniform_noise", "mean"]}
    config, dirs, bundle = _run(tmp_path, monkeypatch, sweep)
    out = dirs["perturbation_robustness"]
    assert read_json(out / "summary.json")["enabled"] is True
    assert len(list((out / "items").glob("*.npz"))) == 21

    # The study's own pair reproduces the perturbation stage's per-image AUCs to the last digit.
    mine = read_table(out / "per_image_areas.parquet")
    own = mine[mine.study_setting & (mine.measure == "accuracy")]
    assert set(own.tile_px) == {TILE} and set(own.fill) == {"uniform_noise"}
    theirs = read_table(dirs["perturbation"] / "per_image_areas.parquet")
    theirs = theirs[(theirs.order == "morf") & (theirs.measure == "accuracy")]
    joined = own.merge(theirs, on=["stimulus_id", "ordering"], suffixes=("", "_p"))
    assert len(joined) == 21 * 2
    np.testing.assert_array_equal(joined.auc, joined.auc_p)

    contrasts = read_table(out / "contrasts.parquet")
    acc = contrasts[contrasts.measure == "accuracy"].set_index(["tile_px", "fill"])
    assert len(acc) == 4 and set(acc.contrast) == {"human - lrp"}
    assert (acc.n == 21).all() and (acc.n_groups == 21).all()
    assert (acc.resampling_unit == "identity").all()
    # at 8 px the network order removes the evidence tile first, the human order late
    for fill in ("uniform_noise", "mean"):
        row = acc.loc[(TILE, fill)]
        assert row.estimate > 0.25 and row.ci_low > 0 and row.p_value < 0.01
    headline = read_table(dirs["perturbation"] / "auc_differences.parquet")
    headline = headline[
        (headline.contrast == "human - lrp")
        & (headline.label == "all")
        & (headline.quantity == "auc")
        & (headline.order == "morf")
        & (headline.measure == "accuracy")
    ].iloc[0]
    assert acc.loc[(TILE, "uniform_noise")].estimate == pytest.approx(headline.estimate, abs=1e-12)
    assert list(acc.grid_rows) == [4, 4, 2, 2]

    agreement = read_table(out / "sign_agreement.parquet").set_index("measure")
    row = agreement.loc["accuracy"]
    assert row.reference_estimate == pytest.approx(headline.estimate)
    same = int((np.sign(acc.estimate) == np.sign(headline.estimate)).sum())
    assert row.pairs == 4 and row.same_sign == same and bool(row.keeps_sign) == (same == 4)

    # The report: the strip of two faces (one per expression), the sweep's findings and figure.
    report_dir = tmp_path / "report"
    page, _absent = write_report(dict(dirs), report_dir, config=config, study_toml="")
    html = page.read_text()
    body = re.search(r'<section id="perturbation_strip">(.*?)</section>', html, re.S)
    assert body and body.group(1).count("<img") == 2
    assert "Fill: &#x27;uniform_noise&#x27;; tiles of 8 px, a 4 × 4 grid" in body.group(1)
    assert "Every step of the 16 is shown" in body.group(1)
    strips = load_strips(dirs, config)
    assert [s.label for s in strips.strips] == ["afraid", "angry"]
    for strip in strips.strips:
        for fmt in ("png", "pdf"):
            assert (
                report_dir / "figures" / f"perturbation_strip_{strip.stimulus_id}.{fmt}"
            ).exists()
        assert [r.name for r in strip.rows] == ["random", "lrp", "human"]
        stored = read_arrays(dirs["perturbation"] / "items" / f"{strip.stimulus_id}.npz")
        for r in strip.rows:
            # every perturbed panel is an image the network was shown during the run
            assert all(img.tobytes() in bundle.seen for img in r.images)
            key = "random" if r.name == "random" else f"{r.name}__morf"
            order = stored[f"{key}__order"]
            np.testing.assert_array_equal(r.order, order[0] if r.name == "random" else order)
    sweep_body = re.search(r'<section id="robustness">(.*?)</section>', html, re.S)
    assert sweep_body and "<img" in sweep_body.group(1)
    expected = "keeps its sign in all 4" if row.keeps_sign else "does not keep its sign"
    assert expected in sweep_body.group(1)
    assert (report_dir / "figures" / "robustness.pdf").exists()


def test_sweep_is_off_by_default_and_the_report_says_how_to_run_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, dirs, _ = _run(tmp_path, monkeypatch, {})
    out = dirs["perturbation_robustness"]
    assert read_json(out / "summary.json") == {"enabled": False, "pairs": []}
    assert not (out / "contrasts.parquet").exists()
    page, _ = write_report(dict(dirs), tmp_path / "report", config=config, study_toml="")
    body = re.search(r'<section id="robustness">(.*?)</section>', page.read_text(), re.S)
    assert body and "robustness sweep was not run" in body.group(1)


@pytest.mark.parametrize(("choice", "expected"), [(True, True), (False, False), ("auto", False)])
def test_sweep_runs_bf16_only_where_the_study_says_so(choice: Any, expected: bool) -> None:
    # Under "auto" the perturbation stage's check saw only the study's own tile size and fill;
    # the sweep does not inherit its verdict (and reads no precision record).
    perturbation = SimpleNamespace(bf16=choice)
    ctx = SimpleNamespace(
        config=SimpleNamespace(comparison=SimpleNamespace(perturbation=perturbation))
    )
    assert robustness_stage._bf16(ctx) is expected  # type: ignore[arg-type]
