"""``gazealign faces scan`` drops exactly what the stimuli stage drops, for the same reasons."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from gazealign.cli import main
from gazealign.config import study_from_dict
from gazealign.pipeline import Runner
from gazealign.pipeline.registry import get_stage
from gazealign.stimuli.synthetic_tree import write_synthetic_tree


def _damaged_manifest(root: Path, identities: int = 2, rows: int = 96, cols: int = 80) -> Path:
    """Synthetic faces listed in a manifest, with the damage careless copies have."""
    manifest = write_synthetic_tree(root, identities=identities, seed=5, rows=rows, cols=cols)
    paths = manifest["path"].tolist()
    (root / paths[0]).write_bytes(b"")  # zero bytes
    good = (root / paths[1]).read_bytes()
    (root / paths[2]).write_bytes(good[: len(good) // 3])  # truncated JPEG
    (root / paths[3]).unlink()  # listed, but missing
    buf = io.BytesIO()
    Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(buf, format="JPEG")
    (root / paths[4]).write_bytes(buf.getvalue())  # 1 x 1 px
    noise = np.random.default_rng(0).integers(0, 256, (96, 80, 3), dtype=np.uint8)
    Image.fromarray(noise).resize((cols, rows)).save(
        root / paths[5], format="JPEG"
    )  # no face in it
    table = manifest[["path", "label", "subject"]].assign(session="")
    out = root / "list.csv"
    table.to_csv(out, index=False)
    return out


@pytest.mark.parametrize("crop", ["none", "haar"])
def test_scan_counts_equal_the_stage_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], crop: str
) -> None:
    # the Haar cascade finds some synthetic faces at 320 x 256 px (not at 96 x 80)
    size = {"identities": 4, "rows": 320, "cols": 256} if crop == "haar" else {}
    listing = _damaged_manifest(tmp_path / "faces", **size)
    with pytest.raises(SystemExit) as exit_:
        main(["faces", "scan", str(listing), "--source", "manifest", "--crop", crop])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    to_use, n_dropped = map(int, re.search(r"(\d+) images to use, (\d+) dropped", out).groups())
    scan_reasons = dict(
        (reason, int(n)) for reason, n in re.findall(r"^(\w+): (\d+) files$", out, re.M)
    )

    cfg = study_from_dict(
        {
            "study": {"seed": 3, "run_dir": "run"},
            "comparison": {"perturbation": {"tile_px": 8}},
            "stimuli": {"source": "manifest", "path": str(listing), "crop": crop,
                        "input_size_px": 32, "aoi_method": "template"},
        },
        base_dir=tmp_path,
    )  # fmt: skip
    runner = Runner(cfg, [get_stage("stimuli")], show_progress=False, versions={"numpy": "t"})
    runner.run()
    stage_dir = runner.stage_dir("stimuli")
    dropped = pd.read_csv(stage_dir / "dropped.csv")
    held = int((dropped["reason"] == "held_out").sum())
    stage_reasons = dropped[dropped["reason"] != "held_out"]["reason"].value_counts().to_dict()
    used = len(pd.read_parquet(stage_dir / "stimuli.parquet"))

    assert (to_use, n_dropped) == (used + held, sum(stage_reasons.values()))
    assert scan_reasons == stage_reasons
    assert scan_reasons["corrupt_image"] == 3 and scan_reasons["too_small"] == 1
    if crop == "haar":
        assert scan_reasons.get("no_face", 0) >= 1  # at least the noise image
