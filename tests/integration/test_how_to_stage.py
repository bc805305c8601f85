"""The worked example of docs/how-to-write-a-stage.md: a stage is one new file, nothing else.

The example's code is taken from the document itself, dropped into a copy of gazealign's source
as ``stages/human_map_entropy.py``, and a small synthetic study runs up to it in a fresh process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gazealign.pipeline.codehash import PACKAGE_ROOT

pytestmark = pytest.mark.slow

DOC = Path(__file__).parents[2] / "docs" / "how-to-write-a-stage.md"

SCRIPT = r"""
import json, sys
from pathlib import Path
import numpy as np
from gazealign.config import study_from_dict
from gazealign.pipeline import Runner
from gazealign.pipeline.store import read_table
from gazealign.stages import study_stages

study = {
    "study": {"name": "how-to", "seed": 5, "run_dir": "run", "synthetic": True},
    "stimuli": {
        "source": "synthetic",
        "input_size_px": 32,
        "synthetic": {"identities": 4, "sessions": 1, "image_rows": 64, "image_cols": 56},
        "split": {"test_fraction": 0.5, "val_fraction": 0.25},
    },
    "gaze": {"source": "simulated", "simulation": {"participants": 2}},
    "comparison": {"perturbation": {"tile_px": 8}},
}
config = study_from_dict(study, base_dir=Path(sys.argv[1]))
stages = study_stages()
runner = Runner(config, stages, show_progress=False)
runner.run(until="human_map_entropy")
out = runner.stage_dir("human_map_entropy")
table = read_table(out / "entropy.parquet")
maps = read_table(runner.stage_dir("human_maps") / "maps.parquet")
print(json.dumps({
    "order": [s.name for s in stages],
    "report_needs": list(next(s for s in stages if s.name == "report").needs),
    "module": next(s for s in stages if s.name == "human_map_entropy").module,
    "rows": len(table),
    "maps": len(maps),
    "ok": bool(((table.entropy_bits > 0) & (table.entropy_bits < table.max_bits)).all()),
    "notes": json.loads((out / "_stage.json").read_text())["notes"],
    "declared": [a["name"] for a in json.loads((out / "_stage.json").read_text())["writes"]],
}))
"""


def example_code() -> str:
    (code,) = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    return code


def test_the_documented_stage_is_one_new_file_and_runs(tmp_path: Path) -> None:
    source = tmp_path / "src" / "gazealign"
    shutil.copytree(PACKAGE_ROOT, source, ignore=shutil.ignore_patterns("__pycache__"))
    (source / "stages" / "human_map_entropy.py").write_text(example_code())
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["module"] == "gazealign.stages.human_map_entropy"
    order = got["order"]
    assert order.index("human_maps") < order.index("human_map_entropy") < order.index("report")
    assert "human_map_entropy" in got["report_needs"]
    assert got["rows"] == got["maps"] > 0 and got["ok"]
    assert got["notes"]["human_map_entropy_maps"] == got["rows"]
    assert got["declared"] == ["entropy"]
