"""The ``[gaze]`` table: recordings, screen geometry and fixation detection."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt

from gazealign.config.base import Section


class ScreenSection(Section):
    width_px: PositiveInt = Field(1920, description="Screen width in px.")
    height_px: PositiveInt = Field(1080, description="Screen height in px.")
    width_cm: PositiveFloat = Field(53.0, description="Screen width in cm.")
    height_cm: PositiveFloat = Field(30.0, description="Screen height in cm.")
    distance_cm: PositiveFloat = Field(65.0, description="Eye-to-screen distance in cm.")


class SimulationSection(Section):
    participants: PositiveInt = Field(8, description="Number of simulated observers.")


class GazeSection(Section):
    source: Literal["asc", "edf", "csv_samples", "csv_fixations", "simulated"] = Field(
        "simulated", description="Recording format, or simulated observers (built-in data)."
    )
    path: Path | None = Field(
        None, description="Folder or file of recordings (relative to the study file)."
    )
    screen: ScreenSection = Field(default_factory=ScreenSection)
    stimulus_scale: PositiveFloat = Field(
        1.0, description="Scale of the stimulus image on screen (centred)."
    )
    fixations: Literal["events", "ivt", "idt"] = Field(
        "events", description="Use the tracker's fixation events, or detect them with I-VT or I-DT."
    )
    correct_only: bool = Field(
        True, description="Keep only trials whose response equals the true label."
    )
    simulation: SimulationSection = Field(default_factory=SimulationSection)
