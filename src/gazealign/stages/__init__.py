"""The study's stages, in order. Each module wraps plain functions of gazealign as a Stage.

To add a stage: write ``gazealign/stages/<name>.py`` defining ``STAGE``, and list it in
:func:`study_stages` in order (a stage's ``needs`` must come before it).
"""

from __future__ import annotations

from gazealign.pipeline.stage import Stage


def study_stages() -> list[Stage]:
    """All stages of a full study, in run order (imported here: some pull in torch)."""
    from gazealign.stages import (
        explain,
        gaze,
        human_maps,
        metrics,
        perturbation,
        regions,
        report,
        stimuli,
        train,
    )

    stages: list[Stage] = [
        stimuli.STAGE,
        train.STAGE,
        explain.STAGE,
        gaze.STAGE,
        human_maps.STAGE,
        perturbation.STAGE,
        metrics.STAGE,
        regions.STAGE,
    ]
    stages.append(report.make_stage([s.name for s in stages]))  # last: it needs every stage
    return stages
