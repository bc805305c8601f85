"""The ``[gaze]`` table: recordings, screen geometry, trials and fixation detection."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt

from gazealign.config.base import Section
from gazealign.coords import ScreenGeometry


class ScreenSection(Section):
    width_px: PositiveInt = Field(1920, description="Screen width in px.")
    height_px: PositiveInt = Field(1080, description="Screen height in px.")
    width_cm: PositiveFloat = Field(53.0, description="Screen width in cm.")
    height_cm: PositiveFloat = Field(30.0, description="Screen height in cm.")
    distance_cm: PositiveFloat = Field(65.0, description="Eye-to-screen distance in cm.")

    def geometry(self) -> ScreenGeometry:
        """The screen as a :class:`~gazealign.coords.ScreenGeometry` (px <-> degrees)."""
        return ScreenGeometry(
            self.width_px, self.height_px, self.width_cm, self.height_cm, self.distance_cm
        )


class TrialsSection(Section):
    start: str = Field(
        r"^TRIALID\b\s*(?P<trial>\S*)",
        description="Regular expression of the message that starts a trial (group `trial`: its id).",
    )
    onset: str = Field(
        r"^(STIMULUS_ONSET|SYNCTIME|DISPLAY_ON|IMAGE_ONSET)\b",
        description="Regular expression of the stimulus-onset message (start of the viewing window).",
    )
    offset: str = Field(
        r"^(STIMULUS_OFFSET|DISPLAY_OFF|IMAGE_OFFSET|BLANK_SCREEN)\b",
        description=(
            "Regular expression of the stimulus-offset message; without one the window ends "
            "at the end of the recording block (or the next trial)."
        ),
    )
    stimulus_variable: str = Field(
        "stimulus",
        description="`!V TRIAL_VAR` name holding the stimulus id (else the `!V IMGLOAD` file stem).",
    )
    response_variable: str = Field(
        "response", description="`!V TRIAL_VAR` name holding the participant's response."
    )
    response_message: str = Field(
        "",
        description="Optional regular expression of a response message, with a group `response`.",
    )


class DetectionSection(Section):
    velocity_threshold_deg_s: PositiveFloat = Field(
        30.0, description="I-VT speed threshold in deg/s (EyeLink cognitive parser: 30)."
    )
    velocity_window_ms: PositiveFloat = Field(
        20.0, description="Savitzky-Golay window for I-VT gaze speed, in ms."
    )
    dispersion_threshold_deg: PositiveFloat = Field(
        1.0, description="I-DT dispersion threshold in degrees (Salvucci & Goldberg 2000: 1.0)."
    )
    min_duration_ms: PositiveFloat | None = Field(
        None, description="Shortest fixation in ms; default 60 for I-VT, 100 for I-DT."
    )


class SimulationSection(Section):
    participants: PositiveInt = Field(8, description="Number of simulated observers.")
    sampling_rate_hz: Literal[250, 500, 1000, 2000] = Field(
        1000, description="Sampling rate of the simulated tracker in Hz."
    )
    participant_bias_sd: float = Field(
        0.25,
        ge=0,
        description="Assumption: log-scale SD of each observer's own preference per region.",
    )
    viewing_ms: tuple[PositiveFloat, PositiveFloat] = Field(
        (2000.0, 4000.0), description="Assumption: range of viewing time per face in ms."
    )
    blink_probability: float = Field(
        0.06, ge=0, le=1, description="Assumption: chance that a saccade holds a blink."
    )
    aoi_preferences: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description=(
            "Assumption: share of fixations per region (eyes, brows, nose, mouth, face_other, "
            "background) for each expression; empty = the built-in defaults."
        ),
    )
    fixation_targets: Literal["image", "expression_mean"] = Field(
        "image",
        description=(
            "Where a simulated fixation on a region lands: in that region of the image itself "
            "('image'), or of the expression's mean region layout over the simulated images "
            "(each pixel to the region most of them give it; 'expression_mean'): observers "
            "that know the expression but not the face, a check of the control orderings."
        ),
    )


class GazeSection(Section):
    source: str = Field(
        "simulated",
        description=(
            "Recording format (a registered gaze format): asc, edf (extra `edf`), csv_samples, "
            "csv_fixations, or simulated observers (built-in data)."
        ),
    )
    path: Path | None = Field(
        None, description="Folder or file of recordings (relative to the study file)."
    )
    screen: ScreenSection = Field(default_factory=ScreenSection)
    stimulus_scale: PositiveFloat = Field(
        1.0, description="Scale of the stimulus image on screen (screen px per stimulus px)."
    )
    placement: Literal["centred", "messages"] = Field(
        "centred",
        description=(
            "Where stimuli were on screen: centred at `stimulus_scale`, or from each trial's "
            "`!V IMGLOAD` message."
        ),
    )
    eye: Literal["auto", "L", "R"] = Field(
        "auto", description="Eye to analyse; auto = the one with more valid samples."
    )
    fixations: str = Field(
        "events",
        description=("Fixation detector (a registered one): events (the tracker's own), ivt, idt."),
    )
    detection: DetectionSection = Field(default_factory=DetectionSection)
    trials: TrialsSection = Field(default_factory=TrialsSection)
    response_labels: dict[str, str] = Field(
        default_factory=dict,
        description="Response value -> expression label (e.g. key codes or 'fear' -> 'afraid').",
    )
    correct_only: bool = Field(
        True, description="Keep only trials whose response equals the true label."
    )
    simulation: SimulationSection = Field(default_factory=SimulationSection)
