"""Class-per-folder trees, FER2013 CSV, CSV manifests; template and landmark AOIs; the CLI."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gazealign.cli import build_app
from gazealign.errors import DataError
from gazealign.stimuli.aoi import aois_from_landmarks, template_aois
from gazealign.stimuli.crop import FaceBox
from gazealign.stimuli.dataset import load_record_image
from gazealign.stimuli.kdef import scan_kdef
from gazealign.stimuli.layouts import scan_fer2013, scan_folder, scan_manifest


def _png(path: Path, value: int = 100) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    Image.fromarray(np.full((6, 5, 3), value, dtype=np.uint8)).save(buf, format="PNG")
    path.write_bytes(buf.getvalue())


def test_folder_layout_with_label_map_and_subjects(tmp_path: Path) -> None:
    _png(tmp_path / "Fear" / "s01_a.png")
    _png(tmp_path / "happiness" / "s01_b.png")
    _png(tmp_path / "happiness" / "sub" / "s02_c.png")
    _png(tmp_path / "ekel" / "s02_d.png")
    _png(tmp_path / "contempt" / "s03_e.png")
    (tmp_path / "notes.txt").write_text("x")
    scan = scan_folder(tmp_path, label_map={"ekel": "disgusted"}, subject_pattern=r"^(s\d+)_")
    table = scan.table().set_index("source_path")
    assert table.loc["Fear/s01_a.png", "label"] == "afraid"
    assert table.loc["happiness/sub/s02_c.png", "label"] == "happy"
    assert table.loc["ekel/s02_d.png", "label"] == "disgusted"
    assert sorted(table["subject"]) == ["s01", "s01", "s02", "s02"]
    assert [(d.source_path, d.reason) for d in scan.dropped] == [
        ("contempt/s03_e.png", "unknown_label")
    ]
    assert scan.ignored == ["notes.txt"]
    assert table.loc["happiness/sub/s02_c.png", "stimulus_id"] == "happiness__sub__s02_c"


def test_fer2013_csv(tmp_path: Path) -> None:
    px = " ".join(str(v % 256) for v in range(48 * 48))
    rows = [
        "emotion,pixels,Usage",
        f"2,{px},Training",
        f"6,{px},PrivateTest",
        f"9,{px},Training",  # unknown code
        "3,1 2 3,PublicTest",  # too few pixels
    ]
    path = tmp_path / "fer2013.csv"
    path.write_text("\n".join(rows) + "\n")
    scan = scan_fer2013(path)
    assert [(r.stimulus_id, r.label, r.metadata["usage"]) for r in scan.records] == [
        ("fer00000", "afraid", "train"),
        ("fer00001", "neutral", "test"),
    ]
    assert [d.reason for d in scan.dropped] == ["unknown_label", "bad_row"]
    img = load_record_image(scan.records[0])
    assert img.shape == (48, 48, 3) and img[0, 5, 0] == 5 and (img[..., 0] == img[..., 2]).all()


def test_csv_manifest(tmp_path: Path) -> None:
    _png(tmp_path / "img" / "a.png")
    _png(tmp_path / "img" / "b.png")
    (tmp_path / "m.csv").write_text(
        "path,label,subject,session\nimg/a.png,Surprise,p1,1\nimg/b.png,joy,p2,\nimg/c.png,bored,p3,\n,sad,p4,\n"
    )
    scan = scan_manifest(tmp_path / "m.csv")
    assert [(r.label, r.subject, r.session) for r in scan.records] == [
        ("surprised", "p1", "1"),
        ("happy", "p2", ""),
    ]
    reasons = [(d.reason, d.detail.split(":")[0]) for d in scan.dropped]
    assert reasons == [("unknown_label", "m.csv line 4"), ("bad_row", "m.csv line 5")]
    (tmp_path / "bad.csv").write_text("file,label\n")
    with pytest.raises(DataError, match="needs columns"):
        scan_manifest(tmp_path / "bad.csv")


def test_template_aois_sit_in_the_face_box() -> None:
    box = FaceBox(20, 10, 100, 100)
    aois = template_aois(box, 140, 160)
    eyes_r, eyes_c = np.nonzero(aois["eyes"])
    mouth_r, _ = np.nonzero(aois["mouth"])
    assert 10 + 30 < eyes_r.mean() < 10 + 50 and 20 + 10 < eyes_c.min() and eyes_c.max() < 20 + 90
    assert mouth_r.mean() > eyes_r.mean() + 30
    assert (np.sum([aois[r] for r in ("eyes", "brows", "nose", "mouth")], axis=0) <= 1).all()
    np.testing.assert_array_equal(aois["background"], ~aois["face"])


def test_landmark_aois_follow_the_points() -> None:
    # A schematic 68-point face (iBUG numbering) in a 200x200 image.
    pts = np.zeros((68, 2))
    t = np.linspace(-1, 1, 17)
    pts[0:17] = np.stack([100 + 70 * t, 100 + 80 * np.sqrt(1 - 0.8 * t**2)], 1)  # jaw
    pts[17:22] = np.stack([np.linspace(45, 90, 5), np.full(5, 70)], 1)
    pts[22:27] = np.stack([np.linspace(110, 155, 5), np.full(5, 70)], 1)
    pts[27:36] = np.stack(
        [
            np.r_[np.full(4, 100), np.linspace(88, 112, 5)],
            np.r_[np.linspace(80, 115, 4), np.full(5, 120)],
        ],
        1,
    )
    for start, cx in ((36, 70), (42, 130)):
        a = np.linspace(0, 2 * np.pi, 6, endpoint=False)
        pts[start : start + 6] = np.stack([cx + 15 * np.cos(a), 90 + 6 * np.sin(a)], 1)
    a = np.linspace(0, 2 * np.pi, 20, endpoint=False)
    pts[48:68] = np.stack([100 + 30 * np.cos(a), 150 + 10 * np.sin(a)], 1)
    aois = aois_from_landmarks(pts, 200, 200, margin_px=3)
    assert aois["eyes"][90, 70] and aois["eyes"][90, 130] and not aois["eyes"][150, 100]
    assert aois["mouth"][150, 100] and aois["brows"][70, 60] and aois["nose"][110, 100]
    assert aois["face"][55, 100]  # the forehead above the brows (y = 70) is face
    assert not aois["face"][5, 5]


def test_cli_synth_and_sheet(tmp_path: Path) -> None:
    app = build_app()
    app(
        [
            "faces",
            "synth",
            "--out",
            str(tmp_path / "f"),
            "--identities",
            "2",
            "--seed",
            "4",
            "--rows",
            "48",
            "--cols",
            "40",
        ],
        standalone_mode=False,
    )
    assert len(scan_kdef(tmp_path / "f").records) == 14
    assert (tmp_path / "f" / "manifest.csv").read_text().startswith("path,label,subject")
    app(
        [
            "faces",
            "sheet",
            "--out",
            str(tmp_path / "s.png"),
            "--identities",
            "2",
            "--rows",
            "48",
            "--cols",
            "40",
            "--masks",
        ],
        standalone_mode=False,
    )
    with Image.open(tmp_path / "s.png") as im:
        assert im.size == (7 * 40, 2 * 2 * 48)


def test_fer2013_pixel_out_of_range_is_named(tmp_path: Path) -> None:
    values = ["7"] * (48 * 48)
    values[10] = "300"
    path = tmp_path / "fer2013.csv"
    path.write_text(f"emotion,pixels,Usage\n3,{' '.join(values)},Training\n")
    (gone,) = scan_fer2013(path).dropped
    assert gone.detail == (
        "fer2013.csv line 2: pixels: value 300 at position 11 is outside 0-255 (1 such value)"
    )


@pytest.mark.parametrize("usage", ["", "Validation"])
def test_fer2013_dataset_split_refuses_missing_or_unknown_usage(tmp_path: Path, usage: str) -> None:
    from gazealign.config.stimuli import StimuliSection
    from gazealign.stimuli.prepare import split_table

    px = " ".join(["7"] * (48 * 48))
    path = tmp_path / "fer2013.csv"
    path.write_text(f"emotion,pixels,Usage\n3,{px},Training\n4,{px},{usage}\n")
    table = scan_fer2013(path).table()
    cfg = StimuliSection.model_validate(
        {"source": "fer2013", "path": str(path), "split": {"use_dataset_split": True}}
    )
    with pytest.raises(
        DataError, match=r"column 'Usage' .* in 1 of 2 rows \(first: fer2013.csv line 3\)"
    ):
        split_table(table, cfg, seed=0)
    path.write_text(f"emotion,pixels,Usage\n3,{px},Training\n4,{px},PrivateTest\n")
    split = split_table(scan_fer2013(path).table(), cfg, seed=0)
    assert split.tolist() == ["train", "test"]
