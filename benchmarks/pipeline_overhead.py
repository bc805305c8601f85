"""Pipeline overhead: a per-item stage of trivial items, first run vs cached rerun.

Prints items/s for computing and writing items (atomic, deterministic npz) and the time of a
rerun that finds everything cached.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from gazealign.config import study_from_dict
from gazealign.pipeline import Runner, Stage, StageContext


def main(n_items: int = 500) -> None:
    def items(ctx: StageContext) -> list[str]:
        return [f"item{i:05d}" for i in range(n_items)]

    def run_item(ctx: StageContext, item: str) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(int(item[4:]))
        return {"map": rng.random((224, 224))}

    stage = Stage("toy", "trivial items", reads=("study.seed",), items=items, run_item=run_item)
    with tempfile.TemporaryDirectory() as tmp:
        config = study_from_dict({"study": {"run_dir": "run"}}, base_dir=Path(tmp))
        t0 = time.perf_counter()
        Runner(config, [stage], show_progress=False).run()
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        Runner(config, [stage], show_progress=False).run()
        cached = time.perf_counter() - t0
    print(f"{n_items} items of 224x224 float64: {n_items / first:.0f} items/s written")
    print(f"cached rerun: {cached * 1000:.0f} ms")


if __name__ == "__main__":
    main()
