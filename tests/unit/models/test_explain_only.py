"""Explain-only studies (``model.train.epochs = 0``) and the training-split warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from gazealign.config import parse_study, study_from_dict
from gazealign.errors import DataError, StudyFileError
from gazealign.pipeline.stage import StageContext
from gazealign.stages.train import check_training_split, starting_network
from gazealign.types import LABELS


@dataclass
class FakeContext:
    config: Any
    notes: dict[str, Any] = field(default_factory=dict)

    def warn(self, message: str) -> None:
        self.notes.setdefault("warnings", []).append(message)

    def note(self, key: str, value: Any) -> None:
        self.notes[key] = value

    def seed(self, name: str) -> int:
        return 0


def ctx_of(data: dict[str, Any]) -> StageContext:
    return cast(StageContext, FakeContext(parse_study(data)))  # types only: the stage's own guards


def test_epochs_zero_is_accepted_and_negative_refused() -> None:
    assert parse_study({"model": {"train": {"epochs": 0}}}).model.train.epochs == 0
    with pytest.raises(StudyFileError, match=r"model\.train\.epochs"):
        parse_study({"model": {"train": {"epochs": -1}}})


def test_zoo_architecture_is_a_study_key() -> None:
    data = {
        "stimuli": {"input_size_px": 48},
        "model": {"architecture": "pyemotion", "train": {"epochs": 0}},
        "comparison": {"perturbation": {"tile_px": 12}},
    }
    assert study_from_dict(data).model.architecture == "pyemotion"


def test_explain_only_without_weights_is_refused() -> None:
    ctx = ctx_of({"stimuli": {"input_size_px": 32}, "model": {"train": {"epochs": 0}}})
    with pytest.raises(DataError, match=r"model\.weights is not set"):
        starting_network(ctx, 32)


def test_zoo_network_needs_its_input_size() -> None:
    ctx = ctx_of({"model": {"architecture": "fer", "train": {"epochs": 0}}})
    with pytest.raises(DataError, match="fer takes 64 px inputs, the stimuli are 224 px"):
        starting_network(ctx, 224)


def test_warnings_for_missing_and_rare_classes(tmp_path: Path) -> None:
    ctx = ctx_of({})
    labels = np.array([LABELS.index("happy")] * 9 + [LABELS.index("sad")] * 2)
    check_training_split(ctx, labels, {"train": 11, "val": 0, "test": 3}, tmp_path)
    warnings = cast(FakeContext, ctx).notes["warnings"]
    assert any(
        "no training images of afraid, angry, disgusted, neutral, surprised" in w for w in warnings
    )
    assert any("fewer than 5 images of sad (2)" in w for w in warnings)
    assert any("no validation images" in w for w in warnings)
    with pytest.raises(DataError, match="no stimulus in the 'train' split"):
        check_training_split(ctx, labels[:0], {"train": 0, "val": 0, "test": 3}, tmp_path)


def test_study_checks_of_explain_only_and_zoo_keys() -> None:
    from gazealign.config.checks import study_problems

    def problems(data: dict[str, Any]) -> list[str]:
        return [p.text() for p in study_problems(parse_study(data))]

    zoo_ok = {
        "stimuli": {"input_size_px": 48},
        "model": {"architecture": "pyemotion", "train": {"epochs": 0}},
    }
    assert not [p for p in problems(zoo_ok) if "model." in p]
    wrong = problems({"stimuli": {"input_size_px": 64}, "model": {"architecture": "pyemotion"}})
    assert any("takes 48 px inputs" in p for p in wrong)
    assert any("set epochs = 0" in p for p in wrong)
    untrained = problems({"model": {"train": {"epochs": 0}}})
    assert any("would be untrained" in p for p in untrained)
