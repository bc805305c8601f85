"""The study's stages, in order. Each module wraps plain functions of gazealign as a Stage.

To add a stage: write ``gazealign/stages/<name>.py`` defining ``STAGE``, and list it here in
order (a stage's ``needs`` must come before it).
"""

from __future__ import annotations

from gazealign.pipeline.stage import Stage


def study_stages() -> list[Stage]:
    """All stages of a full study, in run order (imported lazily: some pull in torch)."""
    from gazealign.stages import stimuli

    stages: list[Stage] = [stimuli.STAGE]
    from gazealign.stages import train

    stages.append(train.STAGE)
    from gazealign.stages import gaze, human_maps

    stages += [gaze.STAGE, human_maps.STAGE]
    from gazealign.stages import explain  # right after train, once train is listed

    if "train" in (names := [s.name for s in stages]):
        stages.insert(names.index("train") + 1, explain.STAGE)
    from gazealign.stages import metrics, perturbation, regions

    # Comparison stages (after human_maps) join once every stage they need is listed above.
    stages += [
        s
        for s in (perturbation.STAGE, metrics.STAGE, regions.STAGE)
        if set(s.needs) <= {x.name for x in stages}
    ]
    from gazealign.stages import report

    stages.append(report.make_stage([s.name for s in stages]))  # last: it needs every stage
    return stages
