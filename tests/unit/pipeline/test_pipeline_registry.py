"""The stage registry: stages register themselves; the run order follows their needs."""

from __future__ import annotations

import pytest

from gazealign.errors import PipelineError
from gazealign.pipeline import Stage, StageContext
from gazealign.pipeline.registry import (
    get_stage,
    register_stage,
    registered_stages,
    run_order,
    study_stages,
)
from gazealign.pipeline.stage import ALL_STAGES


def noop(ctx: StageContext) -> None:
    del ctx


def toy(name: str, *needs: str) -> Stage:
    return Stage(name, name, reads=(), needs=needs, run=noop)


def test_run_order_puts_needs_first_and_breaks_ties_by_name() -> None:
    stages = [toy("d", "b", "c"), toy("c", "a"), toy("b", "a"), toy("a"), toy("e")]
    assert [s.name for s in run_order(stages)] == ["a", "b", "c", "d", "e"]


def test_all_stages_resolves_to_every_other_stage() -> None:
    ordered = run_order([toy("z", ALL_STAGES), toy("b", "a"), toy("a")])
    assert [s.name for s in ordered] == ["a", "b", "z"]
    assert ordered[-1].needs == ("a", "b")


def test_unknown_need_and_cycle_are_clear_errors() -> None:
    with pytest.raises(PipelineError, match="needs 'nope', which no stage provides"):
        run_order([toy("a", "nope")])
    with pytest.raises(PipelineError, match="a, b need each other"):
        run_order([toy("a", "b"), toy("b", "a")])


def test_built_in_stages_are_registered_and_ordered() -> None:
    stages = study_stages()
    names = [s.name for s in stages]
    assert {
        "stimuli",
        "train",
        "explain",
        "gaze",
        "human_maps",
        "perturbation",
        "saliency_metrics",
        "region_shares",
        "report",
    } <= set(names)
    for i, s in enumerate(stages):
        assert set(s.needs) <= set(names[:i]), s.name
        assert s.module.startswith("gazealign.stages."), s.name
    assert names[-1] == "report"
    assert get_stage("saliency_metrics").module == "gazealign.stages.metrics"


def test_a_name_registered_by_two_modules_is_refused() -> None:
    taken = get_stage("gaze")
    clash = Stage("gaze", "another gaze", reads=(), run=noop)  # defined in this test module
    with pytest.raises(PipelineError, match="defined twice"):
        register_stage(clash)
    assert registered_stages()["gaze"] is taken


def test_unknown_stage_lists_the_stages() -> None:
    with pytest.raises(PipelineError, match=r"unknown stage 'nope'; stages are: .*stimuli"):
        get_stage("nope")
