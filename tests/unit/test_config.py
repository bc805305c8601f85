"""Study files: validation with clear messages naming the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from gazealign.cli import main
from gazealign.config import dump_study, load_study, study_from_dict
from gazealign.errors import StudyFileError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "study.toml"
    path.write_text(text)
    return path


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    captured = capsys.readouterr()
    return int(exc.value.code or 0), captured.out + captured.err


def test_defaults_load_and_round_trip(tmp_path: Path) -> None:
    config = load_study(write(tmp_path, "[study]\nname = 'x'\nseed = 5\n"))
    assert config.study.seed == 5
    assert config.heatmap.sigma_deg == 1.0
    again = load_study(write(tmp_path, dump_study(config)))
    assert again.model_dump() == config.model_dump()
    assert config.run_dir == tmp_path / "runs" / "study"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[heatmap]\nsigma_dg = 1.0\n",
            "unknown key 'heatmap.sigma_dg'; known keys here: sigma_deg",
        ),
        ("[studdy]\nseed = 1\n", "unknown key 'studdy'"),
        ("[heatmap]\nsigma_deg = 'wide'\n", "key 'heatmap.sigma_deg'"),
        (
            "[heatmap]\nsigma_deg = -1.0\n",
            "key 'heatmap.sigma_deg': Input should be greater than 0",
        ),
        ("[comparison.perturbation]\ntile_px = -4\n", "key 'comparison.perturbation.tile_px'"),
        (
            "[stimuli]\nsource = 'kdef'\npath = 'no/such/folder'\n",
            "key 'stimuli.path': file or folder 'no/such/folder' does not exist",
        ),
        ("[stimuli]\nsource = 'mnist'\n", "key 'stimuli.source'"),
        ("[study\nseed = 1\n", "not valid TOML"),
        ("[alignment]\nlambdas = [0.0, 1.0, 1.0]\n", "key 'alignment.lambdas'"),
        ("[alignment]\nobjective = 'gradcam'\n", "key 'alignment.objective'"),
        ("[alignment]\nlambdas = [-1.0]\n", "key 'alignment.lambdas"),
        (
            "[alignment]\nlambdas = [1.0]\nshortcut = 'corner_mark'\n",
            "keys 'alignment.shortcut', 'stimuli.source': shortcut cue 'corner_mark' needs",
        ),
    ],
)
def test_bad_study_files_give_one_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(StudyFileError, match=None) as exc:
        load_study(path)
    assert expected in str(exc.value)
    assert str(path) in str(exc.value)
    code, output = run_cli(["status", str(path)], capsys)
    assert code == 2
    assert expected in " ".join(output.split())
    assert "Traceback" not in output


def test_wrong_type_names_expected_type(tmp_path: Path) -> None:
    with pytest.raises(StudyFileError) as exc:
        load_study(write(tmp_path, "[gaze.screen]\nwidth_px = 'wide'\n"))
    message = str(exc.value)
    assert "gaze.screen.width_px" in message and "expected int" in message and "'wide'" in message


def test_missing_study_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run_cli(["run", str(tmp_path / "nope.toml")], capsys)
    assert code == 2
    assert "nope.toml" in output and "does not exist" in output
    assert "Traceback" not in output


def test_get_dotted_key() -> None:
    config = study_from_dict({"heatmap": {"sigma_deg": 2.0}})
    assert config.get("heatmap.sigma_deg") == 2.0
    assert config.get("heatmap")["sigma_deg"] == 2.0
    with pytest.raises(KeyError, match=r"heatmap\.nope"):
        config.get("heatmap.nope")


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run_cli(["--version"], capsys)
    assert code == 0 and output.startswith("gazealign ")
    code, output = run_cli(["run", "--help"], capsys)
    assert code == 0 and "--until" in output and "--force" in output
