"""The ``[study]`` table: name, seed and where runs are written."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from gazealign.config.base import Section

#: Values of ``study.device``.
Device = Literal["auto", "cpu", "cuda"]


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
    workers: int = Field(
        1,
        ge=1,
        description=(
            "Processes for per-item work (rendering and preparing stimuli, human maps, "
            "perturbation curves): 1 runs every item in the running process; N > 1 starts N "
            "worker processes on this machine, each with its share of the CPU threads. The "
            "results are identical either way (every item's seeds come from the study seed and "
            "its id), so it is not part of any stage's key. A Dask scheduler given on the "
            "command line (`--scheduler`) takes precedence."
        ),
    )
    device: Device = Field(
        "auto",
        description=(
            "Where the network runs in every stage that runs it (train, explain, sanity_checks, "
            "perturbation, perturbation_robustness, alignment_sweep): 'cpu', 'cuda' (refused when "
            "no CUDA GPU is available) or 'auto' (CUDA when available). Each stage records the device it ran "
            "on. Not part of any stage's key, so cached results are reused when only the device "
            "changes: inference agrees across devices to float rounding, but a network trained "
            "on a GPU is not bit-identical to one trained on the CPU (dropout draws and kernel "
            "rounding differ)."
        ),
    )

    @field_validator("device")
    @classmethod
    def _cuda_available(cls, value: str) -> str:
        if value == "cuda":
            # imported here: a study that does not ask for CUDA loads without importing torch
            from gazealign.models import device

            if not device.cuda_available():
                raise PydanticCustomError("no_cuda", device.NO_CUDA)
        return value
