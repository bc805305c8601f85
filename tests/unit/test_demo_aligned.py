"""The aligned-training demo's study: valid, written and read back, with a lambda sweep."""

from __future__ import annotations

from pathlib import Path

from gazealign.config import dump_study, load_study
from gazealign.demo import DEMO_STUDY, demo_config


def test_aligned_demo_study_round_trips_and_leaves_the_plain_demo_alone(tmp_path: Path) -> None:
    config = demo_config(tmp_path, aligned=True)
    path = tmp_path / "demo.toml"
    path.write_text(dump_study(config))
    again = load_study(path)
    assert again.alignment.enabled and again.alignment.lambdas == [0.0, 0.3, 1.0, 3.0, 10.0]
    assert again.study.synthetic and again.stimuli.input_size_px == 64
    assert "alignment" not in DEMO_STUDY  # the plain demo trains no sweep
    assert not demo_config(tmp_path).alignment.enabled
