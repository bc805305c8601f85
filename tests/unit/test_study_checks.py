"""The study is checked completely at load: names, cross-key rules, strict types, patterns.

Every invalid combination is refused by ``gazealign status`` (which checks for every stage)
with exit code 2 and exactly one message naming the keys, without a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_config import run_cli, write  # the same file and CLI helpers

from gazealign.cli.study import open_study
from gazealign.config import load_study
from gazealign.errors import StudyFileError

# (study text, the keys the one message must name, a phrase of the message)
INVALID = [
    (
        "[comparison.perturbation]\ntile_px = 300\n",
        ["comparison.perturbation.tile_px", "stimuli.input_size_px"],
        "larger than the 224 px model input",
    ),
    (
        "[stimuli]\ninput_size_px = 48\n[comparison.perturbation]\ntile_px = 16\n"
        "[explain]\nmethods = ['occlusion']\nocclusion_window_px = 64\n",
        ["explain.occlusion_window_px", "stimuli.input_size_px"],
        "larger than the 48 px",
    ),
    (
        "[gaze.simulation]\nviewing_ms = [4000.0, 2000.0]\n",
        ["gaze.simulation.viewing_ms"],
        "(4000.0) is above the highest (2000.0)",
    ),
    (
        "[stimuli.synthetic]\nintensity_min = 0.9\nintensity_max = 0.6\n",
        ["stimuli.synthetic.intensity_min", "stimuli.synthetic.intensity_max"],
        "lowest expression intensity (0.9) is above the highest (0.6)",
    ),
    (
        "[model.train.augmentation]\nbrightness_min = 1.6\n",
        ["model.train.augmentation.brightness_min", "model.train.augmentation.brightness_max"],
        "lowest brightness factor (1.6) is above the highest (1.5)",
    ),
    (
        "[explain]\nmethods = ['lrp_epsilon', 'lrp_magic']\n",
        ["explain.methods"],
        "unknown explanation method 'lrp_magic'; available: ",
    ),
    (
        "[comparison.perturbation]\nfill = 'sand'\n",
        ["comparison.perturbation.fill"],
        "unknown perturbation fill 'sand'; available: blur, mean, uniform_noise, zeros",
    ),
    (
        "[comparison.metrics]\nnames = ['nss', 'auc_foo']\n",
        ["comparison.metrics.names"],
        "unknown metric 'auc_foo'; available: auc_borji",
    ),
    (
        "[comparison.metrics]\nnames = ['nss', 'nss']\n",
        ["comparison.metrics.names"],
        "listed twice",
    ),
    (
        "[report]\noverview_method = 'gradcam'\n",
        ["report.overview_method", "explain.methods"],
        "'gradcam' is not one of the study's explain methods ['lrp_epsilon_plus_flat']",
    ),
    (
        "[gaze.trials]\nstart = '^TRIALID ('\n",
        ["gaze.trials.start"],
        "not a valid regular expression",
    ),
    (
        "[gaze.trials]\nresponse_message = '^RESPONSE (\\\\S+)'\n",
        ["gaze.trials.response_message"],
        "has no group ['response']",
    ),
    (
        "[stimuli]\nsubject_pattern = '[A-Z'\n",
        ["stimuli.subject_pattern"],
        "not a valid regular expression",
    ),
    (
        "[stimuli]\nsubject_pattern = '^[A-Z]+'\n",
        ["stimuli.subject_pattern"],
        "has no group",
    ),
    (
        "[comparison]\nsplit = 'val'\n",
        ["comparison.split", "explain.splits"],
        "the 'val' split is compared but not explained",
    ),
    (
        "[stimuli]\nsource = 'mnist'\n",
        ["stimuli.source"],
        "unknown dataset layout 'mnist'; available: fer2013, folder, kdef, manifest, synthetic",
    ),
    ("[stimuli]\nsource = 'kdef'\n", ["stimuli.source", "stimuli.path"], "set stimuli.path"),
    (
        "[stimuli]\nsource = 'fer2013'\npath = '.'\n",
        ["stimuli.path"],
        "is a folder; this source reads a file",
    ),
    (
        "[stimuli]\nsource = 'synthetic'\n[stimuli.split]\nuse_dataset_split = true\n",
        ["stimuli.split.use_dataset_split", "stimuli.source"],
        "has no split of its own (layouts that do: fer2013)",
    ),
    (
        "[gaze]\nsource = 'tobii'\n",
        ["gaze.source"],
        "unknown gaze format 'tobii'; available: asc, csv_fixations, csv_samples, edf, simulated",
    ),
    ("[gaze]\nsource = 'asc'\n", ["gaze.source", "gaze.path"], "set gaze.path"),
    (
        "[gaze]\nsource = 'csv_fixations'\npath = '.'\nfixations = 'ivt'\n",
        ["gaze.fixations", "gaze.source"],
        "hold fixations, not samples",
    ),
    (
        "[gaze]\nfixations = 'i-vt'\n",
        ["gaze.fixations"],
        "unknown fixation detector 'i-vt'; available: events, idt, ivt",
    ),
    ("[study]\nseed = '96'\n", ["study.seed"], "expected an integer"),
    ("[comparison.perturbation]\ntile_px = 56.0\n", ["comparison.perturbation.tile_px"], "integer"),
    ("[heatmap]\nduration_weighted = 'yes'\n", ["heatmap.duration_weighted"], "boolean"),
    ("[heatmap]\nduration_weighted = 1\n", ["heatmap.duration_weighted"], "boolean"),
    ("[heatmap]\nsigma_deg = '1.0'\n", ["heatmap.sigma_deg"], "expected a number"),
    (
        "plugins = ['no_such_plugin_module_xyz']\n",
        ["plugins"],
        "plug-in module 'no_such_plugin_module_xyz' not found",
    ),
    ("plugins = ['missing_plugin.py']\n", ["plugins"], "does not exist"),
]


@pytest.mark.parametrize(("text", "keys", "phrase"), INVALID)
def test_invalid_study_is_refused_with_one_message_naming_the_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, keys: list[str], phrase: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(StudyFileError) as exc:
        load_study(path)
    message = str(exc.value)
    assert len(message.splitlines()) == 1, message
    assert phrase in message
    for key in keys:
        assert f"'{key}'" in message
    code, output = run_cli(["status", str(path)], capsys)
    assert code == 2
    assert phrase in " ".join(output.split())
    assert "Traceback" not in output
    assert output.count(str(path)) == 1


def test_every_problem_is_reported_together(tmp_path: Path) -> None:
    text = (
        "[comparison.perturbation]\ntile_px = 300\nfill = 'sand'\n"
        "[gaze.simulation]\nviewing_ms = [4000.0, 2000.0]\n"
    )
    with pytest.raises(StudyFileError) as exc:
        load_study(write(tmp_path, text))
    lines = str(exc.value).splitlines()
    assert len(lines) == 3
    assert all("study.toml: key" in line for line in lines)


def test_empty_study_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for text in ("", "# only a comment\n"):
        path = write(tmp_path, text)
        code, output = run_cli(["status", str(path)], capsys)
        assert code == 2 and "the study file is empty" in output and "Traceback" not in output


def test_folder_as_study_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = run_cli(["status", str(tmp_path)], capsys)
    assert code == 2 and "is not a file" in output and "Traceback" not in output


def test_until_checks_only_the_stages_it_runs(tmp_path: Path) -> None:
    # issue 13: preparing stimuli must not need the recordings to exist yet
    path = write(
        tmp_path,
        "[study]\nrun_dir = 'run'\n[gaze]\nsource = 'asc'\npath = 'recordings'\n"
        "[comparison.perturbation]\ntile_px = 300\n",
    )
    runner = open_study(path, until="stimuli", progress=False)
    assert runner.plan("stimuli") == {"stimuli"}
    with pytest.raises(StudyFileError) as exc:
        open_study(path, until="gaze", progress=False)
    assert "'gaze.path'" in str(exc.value) and "tile_px" not in str(exc.value)
    with pytest.raises(StudyFileError) as exc:
        open_study(path, progress=False)
    assert len(str(exc.value).splitlines()) == 2


def test_types_are_checked_even_for_stages_that_do_not_run(tmp_path: Path) -> None:
    path = write(tmp_path, "[comparison.perturbation]\ntile_px = '56'\n")
    with pytest.raises(StudyFileError, match="tile_px"):
        open_study(path, until="stimuli", progress=False)


def test_examples_pass_every_check() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    for path in sorted(examples.glob("*.toml")):
        try:
            load_study(path)
        except StudyFileError as exc:
            # examples whose data are not shipped may only miss their input paths
            assert all("does not exist" in line for line in str(exc).splitlines()), exc
