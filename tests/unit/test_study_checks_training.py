"""Training keys that cannot work together are refused at load, one message naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_study_checks import (
    test_invalid_study_is_refused_with_one_message_naming_the_keys as refused_with_one_message,
)


def test_cached_features_without_a_frozen_backbone_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refused_with_one_message(
        tmp_path,
        capsys,
        "[model.train]\nfreeze = 'none'\nfeature_copies = 2\n",
        ["model.train"],
        "feature_copies = 2 caches the frozen layers' features, but freeze = 'none'",
    )


def test_a_negative_number_of_feature_copies_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refused_with_one_message(
        tmp_path,
        capsys,
        "[model.train]\nfeature_copies = -1\n",
        ["model.train.feature_copies"],
        "greater than or equal to 0",
    )


def test_an_unknown_learning_rate_schedule_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refused_with_one_message(
        tmp_path,
        capsys,
        "[model.train]\nlr_schedule = 'one-cycle'\n",
        ["model.train.lr_schedule"],
        "'one_cycle'",
    )


def test_a_memory_format_that_is_not_a_bool_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refused_with_one_message(
        tmp_path,
        capsys,
        "[model.train]\nchannels_last = 'yes'\n",
        ["model.train.channels_last"],
        "expected a boolean (true or false)",
    )


def test_fewer_than_one_worker_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refused_with_one_message(
        tmp_path,
        capsys,
        "[study]\nworkers = 0\n",
        ["study.workers"],
        "greater than or equal to 1",
    )
