"""Per-stage cache keys: a code change reruns the stages that run that code, and status says why.

The keys are computed over a copy of gazealign's source, edited as a contributor would edit it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gazealign.config import study_from_dict
from gazealign.demo import DEMO_STUDY
from gazealign.pipeline import Runner, Stage, StageContext
from gazealign.pipeline.codehash import PACKAGE_ROOT, module_closure
from gazealign.pipeline.store import write_json
from gazealign.stages import study_stages

METRIC_MODULE = '''"""A new saliency metric: one new file, registered where it is defined."""

import numpy as np

from gazealign.compare.metric_registry import metric


@metric(
    "mean_at_fixations",
    description="Mean map value at fixated pixels",
    higher_is_better=True,
    inputs=("fixations",),
)
def mean_at_fixations(saliency_map: np.ndarray, fixations: np.ndarray) -> float:
    return float((np.asarray(saliency_map) * fixations).sum() / fixations.sum())
'''


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A copy of gazealign's source folder."""
    copy = tmp_path / "src" / "gazealign"
    shutil.copytree(PACKAGE_ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def keys(source: Path, tmp_path: Path) -> dict[str, str]:
    config = study_from_dict(DEMO_STUDY, base_dir=tmp_path)
    return Runner(config, study_stages(), versions={}, source_root=source).keys


def rerun(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {name for name in before if before[name] != after[name]}


def test_the_copy_keys_like_the_installed_source(source: Path, tmp_path: Path) -> None:
    assert keys(source, tmp_path) == keys(PACKAGE_ROOT, tmp_path)


def test_adding_a_metric_module_reruns_only_the_stages_that_import_the_metrics(
    source: Path, tmp_path: Path
) -> None:
    before = keys(source, tmp_path)
    (source / "compare" / "mean_at_fixations.py").write_text(METRIC_MODULE)  # nothing else edited
    users = {
        s.name
        for s in study_stages()
        if "gazealign.compare.metric_registry" in module_closure([s.module], source)
    }
    # only saliency_metrics scores registered metrics; the alignment sweep correlates maps with
    # compare/correlation.py, outside the registry, so a new metric does not retrain it
    assert users == {"saliency_metrics", "report"}
    assert rerun(before, keys(source, tmp_path)) == {"saliency_metrics", "report"}


def test_a_new_fill_reruns_only_perturbation_and_report(source: Path, tmp_path: Path) -> None:
    before = keys(source, tmp_path)
    (source / "compare" / "grey_fill.py").write_text(
        "from gazealign.compare.fills import fill\n\n\n"
        '@fill("grey", description="Mid grey")\n'
        "def grey(image):\n    return image * 0 + 128\n"
    )
    users = {
        s.name
        for s in study_stages()
        if "gazealign.compare.fills" in module_closure([s.module], source)
    }
    assert "perturbation" in users and "saliency_metrics" not in users
    assert rerun(before, keys(source, tmp_path)) == users | {"report"}


def test_editing_the_report_reruns_only_the_report(source: Path, tmp_path: Path) -> None:
    before = keys(source, tmp_path)
    section = source / "report" / "sections" / "reproducibility.py"
    section.write_text(section.read_text().replace("Configuration, versions and seeds", "Settings"))
    # no stage but the report imports gazealign.report (the alignment sweep writes tables; its
    # trade-off figure is drawn by the report's alignment section)
    assert rerun(before, keys(source, tmp_path)) == {"report"}


def test_editing_the_alignment_figures_reruns_only_the_report(source: Path, tmp_path: Path) -> None:
    before = keys(source, tmp_path)
    figures = source / "report" / "alignment_figures.py"
    figures.write_text(figures.read_text() + "\n# a comment\n")
    assert rerun(before, keys(source, tmp_path)) == {"report"}


def test_a_new_report_section_module_reruns_only_the_report(source: Path, tmp_path: Path) -> None:
    before = keys(source, tmp_path)
    (source / "report" / "sections" / "a_new_section.py").write_text(
        "from gazealign.report.sections import report_section\n\n\n"
        '@report_section("new", title="New", order=55)\n'
        "def new(ctx):\n    return ''\n"
    )
    assert rerun(before, keys(source, tmp_path)) == {"report"}


def test_editing_a_stage_reruns_it_and_the_stages_after_it(source: Path, tmp_path: Path) -> None:
    before = keys(source, tmp_path)
    human = source / "stages" / "human_maps.py"
    human.write_text(human.read_text() + "\n# a comment\n")
    config = study_from_dict(DEMO_STUDY, base_dir=tmp_path)
    after = Runner(config, study_stages(), versions={}, source_root=source).descendants(
        "human_maps"
    )
    assert {"perturbation", "saliency_metrics", "region_shares", "report"} <= after
    assert rerun(before, keys(source, tmp_path)) == {"human_maps"} | after


def test_a_declared_version_enters_the_key(tmp_path: Path) -> None:
    config = study_from_dict(DEMO_STUDY, base_dir=tmp_path)

    def stages(version: str) -> list[Stage]:
        return [Stage("s", "s", reads=(), run=lambda ctx: None, version=version)]

    one = Runner(config, stages("1"), versions={}).keys["s"]
    assert one != Runner(config, stages("2"), versions={}).keys["s"]


def write_sigma(ctx: StageContext) -> None:
    write_json(ctx.out_dir / "sigma.json", {"sigma_deg": ctx.config.heatmap.sigma_deg})


def test_status_says_why_a_stage_is_stale(source: Path, tmp_path: Path) -> None:
    def runner(sigma_deg: float, root: Path) -> Runner:
        study = {**DEMO_STUDY, "heatmap": {"sigma_deg": sigma_deg}}
        config = study_from_dict(study, base_dir=tmp_path)
        stages = [
            Stage(
                "maps",
                "maps",
                reads=("heatmap.sigma_deg",),
                run=write_sigma,
                module="gazealign.heatmaps.density",
            ),
            Stage("after", "after", reads=(), needs=("maps",), run=lambda ctx: None),
        ]
        return Runner(config, stages, versions={}, source_root=root, show_progress=False)

    runner(1.0, source).run()
    assert {s.name: s.state for s in runner(1.0, source).status()} == {
        "maps": "done",
        "after": "done",
    }
    status = {s.name: s for s in runner(2.0, source).status()}
    assert status["maps"].state == "stale"
    assert status["maps"].reasons == ("config: heatmap.sigma_deg 1.0 -> 2.0",)
    assert status["after"].reasons == ("upstream: maps has a new key",)

    density = source / "heatmaps" / "density.py"
    density.write_text(density.read_text() + "\n# edited\n")
    status = {s.name: s for s in runner(1.0, source).status()}
    assert status["maps"].reasons == ("code: gazealign.heatmaps.density (edited)",)


def test_editing_a_plug_in_module_reruns_every_stage(tmp_path: Path) -> None:
    plugin = tmp_path / "my_lab_plugin.py"
    plugin.write_text("LAB = 'one'\n")

    def all_keys() -> dict[str, str]:
        study = {**DEMO_STUDY, "plugins": ["my_lab_plugin.py"]}
        config = study_from_dict(study, base_dir=tmp_path)
        return Runner(config, study_stages(), versions={}).keys

    before = all_keys()
    plugin.write_text("LAB = 'two'\n")
    assert rerun(before, all_keys()) == set(before)
