"""One home per default: every options class, function and command agrees with the study file.

A library function called without a study must behave like a study that leaves the key out.
Each pair below is (a definition outside the config, the study-file table whose key it mirrors);
the test fails as soon as a default is typed in twice with two values.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import typer
from pydantic import BaseModel

from gazealign.config.base import section_default
from gazealign.config.explain import ExplainSection
from gazealign.config.gaze import (
    DetectionSection,
    GazeSection,
    ScreenSection,
    SimulationSection,
    TrialsSection,
)
from gazealign.config.model import AugmentSection
from gazealign.config.stimuli import SyntheticFacesSection
from gazealign.explain.base import CONSERVATION_TOLERANCE, ExplainOptions
from gazealign.gaze.align import AlignOptions
from gazealign.gaze.events import idt, ivt, velocity_deg_s
from gazealign.gaze.simulate import ObserverModel
from gazealign.gaze.trials import TrialRules
from gazealign.models.augment import Augmentation

#: (dataclass, table, {dataclass field: table key, or "" for a field the table spells another way})
DATACLASSES: list[tuple[type, type[BaseModel], Mapping[str, str]]] = [
    (ExplainOptions, ExplainSection, {}),
    # the screen is required (no default); the table's is [gaze.screen], checked by the commands
    (AlignOptions, GazeSection, {"screen": ""}),
    (TrialRules, TrialsSection, {}),
    # the table's empty aoi_preferences means "the built-in shares", which the model holds
    (ObserverModel, SimulationSection, {"aoi_preferences": ""}),
    (Augmentation, AugmentSection, {}),
]


def _dataclass_default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


@pytest.mark.parametrize(("cls", "section", "renamed"), DATACLASSES)
def test_options_dataclasses_take_the_study_defaults(
    cls: type, section: type[BaseModel], renamed: Mapping[str, str]
) -> None:
    shared = 0
    for f in dataclasses.fields(cls):
        key = renamed.get(f.name, f.name)
        if not key or key not in section.model_fields:
            continue
        shared += 1
        got, want = _dataclass_default(f), section_default(section, key)
        if isinstance(got, float | int) and isinstance(want, float | int):
            assert float(got) == float(want), f"{cls.__name__}.{f.name}"
        else:
            assert got == want, f"{cls.__name__}.{f.name}: {got!r} != {section.__name__}.{key}"
    assert shared >= 2  # the pair really shares keys


def test_augmentation_brightness_range_is_the_study_pair() -> None:
    a = AugmentSection()
    assert Augmentation().brightness == (a.brightness_min, a.brightness_max)


def test_conservation_tolerance_has_one_value() -> None:
    assert CONSERVATION_TOLERANCE == ExplainSection().conservation_tolerance


#: (function, {parameter: (table, key)})
FUNCTIONS: list[tuple[Callable[..., Any], Mapping[str, tuple[type[BaseModel], str]]]] = [
    (
        ivt,
        {
            "velocity_threshold_deg_s": (DetectionSection, "velocity_threshold_deg_s"),
            "velocity_window_ms": (DetectionSection, "velocity_window_ms"),
        },
    ),
    (idt, {"dispersion_threshold_deg": (DetectionSection, "dispersion_threshold_deg")}),
    (velocity_deg_s, {"window_ms": (DetectionSection, "velocity_window_ms")}),
]


@pytest.mark.parametrize(("fn", "params"), FUNCTIONS)
def test_function_defaults_match_the_study(
    fn: Callable[..., Any], params: Mapping[str, tuple[type[BaseModel], str]]
) -> None:
    signature = inspect.signature(fn)
    for name, (section, key) in params.items():
        assert signature.parameters[name].default == section_default(section, key), name


def _command(group: str, name: str) -> Callable[..., Any]:
    from gazealign.cli import build_app

    app = build_app()
    for sub in app.registered_groups:
        if sub.name == group and isinstance(sub.typer_instance, typer.Typer):
            for cmd in sub.typer_instance.registered_commands:
                if cmd.callback is not None and cmd.callback.__name__ == name:
                    return cmd.callback
    raise AssertionError(f"no command {group} {name}")


def _option_default(fn: Callable[..., Any], param: str) -> Any:
    return inspect.signature(fn).parameters[param].default.default


@pytest.mark.parametrize(
    ("group", "command", "params"),
    [
        (
            "gaze",
            "fixations",
            {
                "width_px": (ScreenSection, "width_px"),
                "height_px": (ScreenSection, "height_px"),
                "width_cm": (ScreenSection, "width_cm"),
                "height_cm": (ScreenSection, "height_cm"),
                "distance_cm": (ScreenSection, "distance_cm"),
            },
        ),
        (
            "faces",
            "synth",
            {
                "identities": (SyntheticFacesSection, "identities"),
                "rows": (SyntheticFacesSection, "image_rows"),
                "cols": (SyntheticFacesSection, "image_cols"),
                "sessions": (SyntheticFacesSection, "sessions"),
                "intensity_min": (SyntheticFacesSection, "intensity_min"),
                "intensity_max": (SyntheticFacesSection, "intensity_max"),
            },
        ),
    ],
)
def test_command_defaults_match_the_study(
    group: str, command: str, params: Mapping[str, tuple[type[BaseModel], str]]
) -> None:
    fn = _command(group, command)
    for name, (section, key) in params.items():
        assert _option_default(fn, name) == section_default(section, key), name


def test_a_disagreeing_default_is_caught() -> None:
    # the check itself can fail: a dataclass with its own copy of a default
    @dataclasses.dataclass(frozen=True)
    class Copy:
        epsilon: float = 1e-3
        gamma: float = 0.25

    with pytest.raises(AssertionError, match=r"Copy\.epsilon"):
        test_options_dataclasses_take_the_study_defaults(Copy, ExplainSection, {})
