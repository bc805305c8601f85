"""The stand-in control-ordering simulation over several seeds.

Repeats the set-up of ``tests/integration/test_control_orderings_simulation.py`` (real stimuli,
gaze, human_maps and perturbation stages; the fixed ``FeatureNet`` stand-in whose evidence is the
darkness inside each face's own feature regions) for each seed, with observers that fixate each
image's regions and observers that fixate the expression's mean layout, and prints the MoRF
logit-AUC difference human - control with its identity-clustered interval for the controls
``other_identity`` and ``expression_mean``. The test asserts one seed; this script shows how
often the separation holds. Built-in data: these numbers demonstrate the method, they are not a
finding about people. Run::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/control_orderings_standin.py \
        [--seeds 5 11 23] [--identities 16]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.test_control_orderings_simulation import run, use_feature_net

CONTROLS = ("other_identity", "expression_mean")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[5, 11, 23])
    parser.add_argument("--identities", type=int, default=16)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("seed | observers fixate | " + " | ".join(f"human - {c}" for c in CONTROLS))
    summary = {"image_excludes_below": 0, "layout_includes": 0, "n": 0}
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_feature_net(monkeypatch)
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as tmp:
                started = time.perf_counter()
                tables = {
                    targets: run(Path(tmp), targets, seed=seed, identities=args.identities)
                    for targets in ("image", "expression_mean")
                }
                seconds = time.perf_counter() - started
            for targets, table in tables.items():
                cells = []
                for control in CONTROLS:
                    row = table.loc[control]
                    cells.append(f"{row.estimate:+.4f} [{row.ci_low:+.4f}, {row.ci_high:+.4f}]")
                    if targets == "image":
                        summary["image_excludes_below"] += int(row.ci_high < 0)
                    else:
                        summary["layout_includes"] += int(row.ci_low <= 0 <= row.ci_high)
                print(f"{seed} | {targets} | " + " | ".join(cells))
            summary["n"] += len(CONTROLS)
            print(f"# seed {seed}: {seconds:.0f} s for both settings", flush=True)
    n = summary["n"]
    print(
        f"image-following intervals below 0: {summary['image_excludes_below']}/{n}; "
        f"layout-following intervals including 0: {summary['layout_includes']}/{n}"
    )


if __name__ == "__main__":
    main()
