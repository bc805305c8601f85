"""The study files in examples/ load, and demo.toml is the demo's own study."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gazealign.config import load_study
from gazealign.demo import demo_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_demo_example_is_the_demo_study(tmp_path: Path) -> None:
    example = load_study(EXAMPLES / "demo.toml").model_dump()
    demo = demo_config(tmp_path).model_dump()
    example["study"].pop("run_dir")
    demo["study"].pop("run_dir")
    assert example == demo


@pytest.mark.parametrize(
    ("name", "inputs"),
    [
        (
            "kdef_thesis.toml",
            ["data/KDEF/", "weights/rcmalli_vggface_tf_notop_vgg16.h5", "data/eyetracking/"],
        ),
        ("folder_csv.toml", ["data/faces/", "data/fixations.csv"]),
        ("real_photos.toml", ["photos/"]),
    ],
)
def test_user_examples_load_once_their_data_exist(
    tmp_path: Path, name: str, inputs: list[str]
) -> None:
    shutil.copy(EXAMPLES / name, tmp_path / name)
    from gazealign.errors import StudyFileError

    with pytest.raises(StudyFileError, match="does not exist"):
        load_study(tmp_path / name)
    for rel in inputs:
        target = tmp_path / rel
        if rel.endswith("/"):
            target.mkdir(parents=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(b"")
    config = load_study(tmp_path / name)
    assert config.stimuli.path is not None


def test_kdef_thesis_example_is_the_thesis_setup() -> None:
    text = (EXAMPLES / "kdef_thesis.toml").read_text()
    assert 'test_identities = "thesis"' in text
    assert "tile_px = 56" in text and 'head = "thesis"' in text
