"""The ``[study]`` table: name, seed and where runs are written."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from gazealign.config.base import Section


class StudySection(Section):
    name: str = Field("study", description="Name of the study, shown in the report.")
    seed: int = Field(
        0, ge=0, description="Master seed; every stochastic step derives its seed from it."
    )
    run_dir: Path = Field(
        Path("runs/study"),
        description="Directory for the run's cached artifacts and manifest (relative to the study file).",
    )
    synthetic: bool = Field(
        False,
        description=(
            "True when the data are built-in synthetic faces or simulated observers; every output "
            "then says so. Set automatically by the demo."
        ),
    )
