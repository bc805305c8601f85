"""The ``stimuli`` stage end to end: synthetic faces and a KDEF tree, artifacts per contract."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gazealign.config import study_from_dict
from gazealign.pipeline import Runner
from gazealign.pipeline.registry import get_stage
from gazealign.stimuli.artifacts import AOI_REGIONS, STIMULUS_COLUMNS, read_item, read_stimuli_table
from gazealign.stimuli.kdef import scan_kdef
from gazealign.stimuli.synthetic import SyntheticSpec, render_spec
from gazealign.stimuli.synthetic_tree import write_synthetic_tree
from gazealign.types import LABELS

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "stimuli"))
from test_stimuli_kdef import CORRUPT, MISNAMED, make_tree


def _run(tmp_path: Path, stimuli: dict[str, object], seed: int = 7, workers: int = 1) -> Path:
    cfg = study_from_dict(
        {
            "study": {"seed": seed, "run_dir": "run", "workers": workers},
            "stimuli": stimuli,
            "comparison": {"perturbation": {"tile_px": 8}},  # not above the small inputs
        },
        base_dir=tmp_path,
    )
    runner = Runner(cfg, [get_stage("stimuli")], show_progress=False, versions={"numpy": "test"})
    runner.run()
    return runner.stage_dir("stimuli")


def test_synth_tree_round_trips_through_the_kdef_loader(tmp_path: Path) -> None:
    manifest = write_synthetic_tree(tmp_path / "faces", identities=4, seed=3, rows=64, cols=52)
    scan = scan_kdef(tmp_path / "faces")
    table = scan.table()
    assert len(table) == len(manifest) == 4 * 7
    assert not scan.dropped
    assert (table.groupby("label").size() == 4).all() and set(table["label"]) == set(LABELS)
    assert set(table["subject"]) == {"F01", "M01", "F02", "M02"}
    merged = table.merge(manifest, left_on="source_path", right_on="path")
    assert (merged["label_x"] == merged["label_y"]).all()
    assert len(list((tmp_path / "faces" / "regions").rglob("*.npz"))) == 28


def test_synthetic_stage_writes_the_contract(tmp_path: Path) -> None:
    out = _run(
        tmp_path,
        {
            "source": "synthetic",
            "crop": "none",
            "input_size_px": 40,
            "synthetic": {"identities": 4, "image_rows": 64, "image_cols": 52},
        },
    )
    table = read_stimuli_table(out)
    assert list(table.columns[: len(STIMULUS_COLUMNS)]) == list(STIMULUS_COLUMNS)
    assert len(table) == 28
    assert set(table["split"]) <= {"train", "val", "test"}
    assert (table.groupby("subject")["split"].nunique() == 1).all()
    assert (table["rows"] == 64).all() and (table["cols"] == 52).all()
    dropped = pd.read_csv(out / "dropped.csv")
    assert (
        list(dropped.columns) == ["source_path", "stimulus_id", "reason", "detail"]
        and dropped.empty
    )
    item = read_item(out, "AM02HAS")
    assert item.image.shape == (64, 52, 3) and item.model_image.shape == (40, 40, 3)
    assert set(item.aois) == set(AOI_REGIONS)
    assert item.planted is not None and item.planted.any()
    # The planted mask is the renderer's (from exact arrays), not recomputed from the JPEG.
    spec = SyntheticSpec(3, "A", "happy", int(np.asarray(0)) + _faces_seed(out))
    face = render_spec(spec, rows=64, cols=52)
    np.testing.assert_array_equal(item.planted, face.planted)
    # The stimulus image is the decoded JPEG: within a few grey levels of the render.
    assert np.abs(item.image.astype(int) - face.image).mean() < 3


def test_worker_processes_write_what_one_process_writes(tmp_path: Path) -> None:
    """``study.workers = 2``: the faces are rendered and prepared in two worker processes; every
    file (items, faces, tables) is byte-identical to one process's, the stage key too (workers
    is not keyed), and the item seeds and notes recorded are the same."""
    stimuli = {
        "source": "synthetic",
        "crop": "none",
        "input_size_px": 32,
        "synthetic": {"identities": 2, "sessions": 2, "image_rows": 64, "image_cols": 52},
    }
    one = _run(tmp_path / "one", stimuli)
    two = _run(tmp_path / "two", stimuli, workers=2)
    assert one.name == two.name  # the same key

    def files(folder: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "_stage.json"
        }

    a, b = files(one), files(two)
    assert len([k for k in a if k.startswith("items/") and k.endswith(".npz")]) == 28
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
    record = {d: json.loads((d / "_stage.json").read_text()) for d in (one, two)}
    for part in ("seeds", "notes", "files"):
        assert record[one][part] == record[two][part], part


def _faces_seed(stage_dir: Path) -> int:
    import json

    return int(json.loads((stage_dir / "_stage.json").read_text())["seeds"]["faces"])


def test_kdef_stage_reports_misnamed_and_corrupt_files(tmp_path: Path) -> None:
    make_tree(tmp_path / "kdef")
    out = _run(
        tmp_path,
        {
            "source": "kdef",
            "path": "kdef",
            "crop": "none",
            "input_size_px": 16,
            "split": {"test_identities": ["AF02"], "val_fraction": 0.0},
        },
    )
    table = read_stimuli_table(out)
    dropped = pd.read_csv(out / "dropped.csv", keep_default_na=False)
    assert sorted(dropped.loc[dropped["reason"] == "corrupt_image", "source_path"]) == sorted(
        CORRUPT
    )
    assert sorted(dropped.loc[dropped["reason"] == "unparseable_name", "source_path"]) == sorted(
        MISNAMED
    )
    assert len(table) == 3 * 2 * 7 - 2
    assert set(table.loc[table["subject"] == "F02", "split"]) == {"test"}
    assert set(table.loc[table["subject"] != "F02", "split"]) == {"train"}
    assert (table["aoi_method"] == "template").all() or (table["aoi_method"] == "landmarks").all()


@pytest.mark.parametrize("size", [24, 33])
def test_input_size_is_honoured(tmp_path: Path, size: int) -> None:
    out = _run(
        tmp_path,
        {
            "source": "synthetic",
            "crop": "none",
            "input_size_px": size,
            "synthetic": {"identities": 2, "image_rows": 48, "image_cols": 40},
        },
    )
    item = read_item(out, "AF01NES")
    assert item.model_image.shape == (size, size, 3)
    assert (item.crop.out_rows, item.crop.out_cols) == (size, size)
