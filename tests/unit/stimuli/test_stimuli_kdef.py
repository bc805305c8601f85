"""KDEF loader on a generated tree with misnamed and corrupt files; label mappings; splits."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gazealign.errors import DataError
from gazealign.stimuli.dataset import Dropped, iter_stimuli
from gazealign.stimuli.kdef import THESIS_TEST_IDENTITIES, parse_kdef_name, scan_kdef
from gazealign.stimuli.labels import CKPLUS_CODES, FER2013_CODES, JAFFE_CODES, KDEF_CODES, to_label
from gazealign.stimuli.split import HELD_OUT, assign_splits, kfold_subjects, split_subjects
from gazealign.types import LABELS

CODES = ("AF", "AN", "DI", "HA", "NE", "SA", "SU")
ANGLES = ("FL", "HL", "S", "HR", "FR")


def _jpeg(seed: int) -> bytes:
    buf = io.BytesIO()
    pixels = np.random.default_rng(seed).integers(0, 255, (12, 10, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


MISNAMED = [
    "AF01/AF1HAS.JPG",  # one-digit id
    "AF01/AF01XXS.JPG",  # unknown expression code
    "AF01/AF01HAX.JPG",  # unknown angle
    "AF01/AF01HAS.JPG.bak.jpg",
    "AF01/AF02HAS.JPG",  # name disagrees with its folder
    "AM36/AM36HAS.JPG",  # id outside 01-35
    "AF01/af01has.jpg",  # codes must be upper case
]
CORRUPT = ["AF02/AF02NES.JPG", "BM03/BM03SUS.JPG"]


def make_tree(root: Path) -> None:
    """3 identities (F01, F02, M03) x 2 sessions x 7 expressions x 5 angles, then damage."""
    k = 0
    for subject in ("F01", "F02", "M03"):
        for session in "AB":
            folder = root / f"{session}{subject}"
            folder.mkdir(parents=True, exist_ok=True)
            for code in CODES:
                for angle in ANGLES:
                    (folder / f"{session}{subject}{code}{angle}.JPG").write_bytes(_jpeg(k))
                    k += 1
    for rel in MISNAMED:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(_jpeg(999))
    good = (root / CORRUPT[0]).read_bytes()
    (root / CORRUPT[0]).write_bytes(good[: len(good) // 2])  # truncated JPEG
    (root / CORRUPT[1]).write_bytes(b"this is not a jpeg at all")
    (root / "README.txt").write_text("not an image")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    make_tree(tmp_path)
    return tmp_path


def test_counts_per_class_angle_session(tree: Path) -> None:
    scan = scan_kdef(tree, angles=ANGLES)
    table = scan.table()
    assert len(table) == 3 * 2 * 7 * 5
    assert (table.groupby("label").size() == 30).all()
    assert set(table["label"]) == set(LABELS)
    assert (table.groupby("angle").size() == 42).all()
    assert (table.groupby("session").size() == 105).all()
    assert scan.ignored == ["README.txt"]


def test_filters_straight_views_of_session_a(tree: Path) -> None:
    scan = scan_kdef(tree, sessions=["A"])  # default angle: straight
    table = scan.table()
    assert len(table) == 3 * 7
    assert set(table["angle"]) == {"S"} and set(table["session"]) == {"A"}
    assert set(table["subject"]) == {"F01", "F02", "M03"}
    filtered = [d for d in scan.dropped if d.reason == "filtered"]
    assert len(filtered) == 210 - 21
    females = scan_kdef(tree, genders=["F"], angles=["S"]).table()
    assert set(females["subject"]) == {"F01", "F02"}


def test_misnamed_files_are_reported_by_name_never_guessed(tree: Path) -> None:
    scan = scan_kdef(tree, angles=ANGLES)
    bad = sorted(d.source_path for d in scan.dropped if d.reason == "unparseable_name")
    assert bad == sorted(MISNAMED)
    assert not any(r.source_path in MISNAMED for r in scan.records)
    mismatch = next(d for d in scan.dropped if d.source_path == "AF01/AF02HAS.JPG")
    assert "folder AF01" in mismatch.detail


def test_corrupt_jpegs_are_reported_by_name(tree: Path) -> None:
    scan = scan_kdef(tree, angles=["S"], sessions=["A", "B"])
    # Both corrupt files are straight views, so they are scanned (names are fine) ...
    assert {c for c in CORRUPT} <= {r.source_path for r in scan.records}
    results = list(iter_stimuli(scan))
    corrupt = sorted(r.source_path for r in results if isinstance(r, Dropped))
    assert corrupt == sorted(CORRUPT)
    assert all(r.reason == "corrupt_image" for r in results if isinstance(r, Dropped))
    good = [r for r in results if not isinstance(r, Dropped)]
    assert len(good) == 42 - 2
    assert good[0].image.shape == (12, 10, 3)


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        scan_kdef(tmp_path / "nope")
    with pytest.raises(DataError, match="angle"):
        scan_kdef(tmp_path, angles=["XX"])


def test_parse_kdef_name() -> None:
    p = parse_kdef_name("BM35SUHR.JPG")
    assert p is not None
    assert (p.session, p.subject, p.label, p.angle, p.folder) == (
        "B",
        "M35",
        "surprised",
        "HR",
        "BM35",
    )
    assert parse_kdef_name("AF00HAS.JPG") is None


def test_label_vocabulary_mappings() -> None:
    for mapping in (KDEF_CODES, JAFFE_CODES, FER2013_CODES, CKPLUS_CODES):
        assert set(mapping.values()) == set(LABELS)
    assert JAFFE_CODES["FE"] == "afraid" and FER2013_CODES[2] == "afraid" and 2 not in CKPLUS_CODES
    assert to_label("Fear") == "afraid" and to_label("happiness") == "happy"
    assert to_label("contempt") is None
    assert to_label("c3", {"c3": "sad"}) == "sad"
    with pytest.raises(DataError):
        to_label("x", {"x": "joyful"})


def test_thesis_split_holds_out_session_b_of_test_identities() -> None:
    import pandas as pd

    subjects = [f"{g}{n:02d}" for g in "FM" for n in range(1, 36)]
    table = pd.DataFrame(
        [(s, sess) for s in subjects for sess in "AB" for _ in range(7)],
        columns=["subject", "session"],
    )
    split = assign_splits(table, test_identities="thesis", seed=3)
    thesis = {t[1:] for t in THESIS_TEST_IDENTITIES}
    assert len(thesis) == 16
    is_test = table["subject"].isin(thesis)
    assert (split[is_test & (table["session"] == "A")] == "test").all()
    assert (split[is_test & (table["session"] == "B")] == HELD_OUT).all()
    assert (split == "test").sum() == 112  # 16 identities x 7 expressions, as in the thesis
    assert set(split[~is_test]) == {"train", "val"}
    # Identity-disjoint: no subject in two splits.
    per_subject = table.assign(split=split)[split != HELD_OUT].groupby("subject")["split"].nunique()
    assert (per_subject == 1).all()


def test_random_split_is_identity_disjoint_and_seeded() -> None:
    subjects = [f"S{i:02d}" for i in range(20)]
    a = split_subjects(subjects, test_fraction=0.25, val_fraction=0.2, seed=1)
    assert a == split_subjects(
        list(reversed(subjects)), test_fraction=0.25, val_fraction=0.2, seed=1
    )
    assert sum(v == "test" for v in a.values()) == 5
    assert sum(v == "val" for v in a.values()) == 3
    assert a != split_subjects(subjects, test_fraction=0.25, val_fraction=0.2, seed=2)
    with pytest.raises(DataError, match="not in the data set"):
        split_subjects(subjects, test_identities=["AF09"], seed=0)


def test_kfold_by_identity() -> None:
    subjects = [f"S{i}" for i in range(10)]
    folds = kfold_subjects(subjects, 3, seed=0)
    tests = [set(t) for _, t in folds]
    assert sorted(len(t) for t in tests) == [3, 3, 4]
    assert set().union(*tests) == set(subjects)
    for train, test in folds:
        assert not set(train) & set(test) and set(train) | set(test) == set(subjects)


def test_a_tiny_image_is_dropped_as_too_small(tmp_path: Path) -> None:
    folder = tmp_path / "AF01"
    folder.mkdir()
    (folder / "AF01HAS.JPG").write_bytes(_jpeg(1))
    Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(folder / "AF01SAS.JPG", format="JPEG")
    results = list(iter_stimuli(scan_kdef(tmp_path, angles=["S"])))
    dropped = [r for r in results if isinstance(r, Dropped)]
    assert [(d.source_path, d.reason) for d in dropped] == [("AF01/AF01SAS.JPG", "too_small")]
    assert "1x1 px" in dropped[0].detail and "AF01SAS.JPG" in dropped[0].detail
