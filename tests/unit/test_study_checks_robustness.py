"""The robustness sweep and the strip figure are checked at load, one message per problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_config import write
from test_study_checks import (
    test_invalid_study_is_refused_with_one_message_naming_the_keys as refused_with_one_message,
)

from gazealign.config import load_study, study_from_dict
from gazealign.config.robustness import sweep_combinations
from gazealign.errors import StudyFileError

INVALID = [
    (
        "[comparison.robustness]\ntile_px = [56, 300]\n",
        ["comparison.robustness.tile_px", "stimuli.input_size_px"],
        "a tile of 300 px is larger than the 224 px model input",
    ),
    (
        "[comparison.robustness]\nfills = ['mean', 'sand']\n",
        ["comparison.robustness.fills"],
        "unknown perturbation fill 'sand'; available: blur, mean, uniform_noise, zeros",
    ),
    (
        "[comparison.robustness]\ntile_px = [28, 56, 28]\n",
        ["comparison.robustness.tile_px"],
        "listed more than once: 28",
    ),
    (
        "[comparison.perturbation]\norders = ['lerf']\n[comparison.robustness]\nfills = ['mean']\n"
        "[report.strip]\norder = 'lerf'\n",
        ["comparison.robustness", "comparison.perturbation.orders"],
        "add 'morf' to the orders",
    ),
    (
        "[comparison.perturbation]\norders = ['morf']\n[report.strip]\norder = 'lerf'\n",
        ["report.strip.order", "comparison.perturbation.orders"],
        "the strip shows the 'lerf' order, which the perturbation stage does not run",
    ),
    (
        "[comparison.robustness]\ntile_px = [0]\n",
        ["comparison.robustness.tile_px.0"],
        "greater than 0",
    ),
    ("[report.strip]\nmax_steps = 0\n", ["report.strip.max_steps"], "greater than 0"),
]


@pytest.mark.parametrize(("text", "keys", "phrase"), INVALID)
def test_invalid_sweep_or_strip_is_refused_with_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, keys: list[str], phrase: str
) -> None:
    # the same refusal as every other invalid study: one message naming the keys, exit code 2
    refused_with_one_message(tmp_path, capsys, text, keys, phrase)


def test_every_sweep_problem_is_its_own_message(tmp_path: Path) -> None:
    text = "[comparison.robustness]\ntile_px = [300, 400]\nfills = ['sand', 'mean', 'mean']\n"
    with pytest.raises(StudyFileError) as exc:
        load_study(write(tmp_path, text))
    lines = str(exc.value).splitlines()
    assert len(lines) == 4, lines
    assert sum("larger than" in line for line in lines) == 2
    assert sum("'sand'" in line for line in lines) == 1
    assert sum("listed more than once: mean" in line for line in lines) == 1


def test_sweep_pairs_default_to_the_studys_tile_size_and_fill() -> None:
    def pairs(robustness: dict[str, object]) -> list[tuple[int, str]]:
        study = {"comparison": {"perturbation": {"tile_px": 56, "fill": "blur"}}}
        study["comparison"]["robustness"] = robustness  # type: ignore[index]
        return sweep_combinations(study_from_dict(study))

    assert pairs({}) == []  # off by default
    assert pairs({"tile_px": [28, 56]}) == [(28, "blur"), (56, "blur")]
    assert pairs({"fills": ["mean", "zeros"]}) == [(56, "mean"), (56, "zeros")]
    assert pairs({"tile_px": [32], "fills": ["mean", "zeros"]}) == [(32, "mean"), (32, "zeros")]


CONTROL_ERRORS = [
    (
        "[comparison.perturbation]\ncontrols = ['other_identity', 'mean_face']\n",
        ["comparison.perturbation.controls"],
        "unknown control ordering 'mean_face'; available: <method>_blurred, all_mean, "
        "centre_bias, expression_mean, other_identity",
    ),
    (
        "[explain]\nmethods = ['integrated_gradients']\n[comparison.perturbation]\n"
        "controls = ['gradcam_blurred']\n",
        ["comparison.perturbation.controls"],
        "'gradcam' is not one of the study's explain methods (integrated_gradients)",
    ),
    (
        "[comparison.perturbation]\ncontrols = ['all_mean', 'all_mean']\n",
        ["comparison.perturbation.controls"],
        "listed more than once: all_mean",
    ),
]


@pytest.mark.parametrize(("text", "keys", "phrase"), CONTROL_ERRORS)
def test_unknown_or_repeated_controls_are_refused_with_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, keys: list[str], phrase: str
) -> None:
    refused_with_one_message(tmp_path, capsys, text, keys, phrase)
