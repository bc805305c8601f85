"""A small hand-made run: upstream stages that write the documented artifacts with known numbers.

The stand-in stages below write exactly the files the stage contracts name
(docs/architecture.md), with values chosen so that the tests can look for them in the report.
The real ``report`` stage then runs through the real Runner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gazealign.config import StudyConfig, study_from_dict
from gazealign.coords import CropResize
from gazealign.pipeline import Runner
from gazealign.pipeline.stage import Stage, StageContext
from gazealign.pipeline.store import write_arrays, write_json, write_table, write_text
from gazealign.stages.report import make_stage
from gazealign.stimuli.artifacts import AOI_REGIONS, item_arrays
from gazealign.types import LABELS

ROWS, COLS = 24, 20
METHOD = "lrp_epsilon_plus_flat"

#: Numbers planted in the fake comparison tables, looked for in the report.
OVERALL_HUMAN_MINUS_NETWORK = 0.1234
HAPPY_HUMAN_MINUS_NETWORK = 0.3456
TEST_ACCURACY = 0.8571
NSS_NETWORK = 1.2345
NSS_CEILING = 2.3456


def _ids() -> list[tuple[str, str, str]]:
    out = []
    for k, label in enumerate(LABELS):
        out.append((f"T01{label[:2].upper()}", label, "test"))
        out.append((f"R02{label[:2].upper()}", label, "train"))
        del k
    return out


def _stimuli(ctx: StageContext) -> None:
    rows = []
    for k, (sid, label, split) in enumerate(_ids()):
        rng = np.random.default_rng(k)
        image = rng.integers(0, 255, (ROWS, COLS, 3), dtype=np.uint8)
        aois = {r: np.zeros((ROWS, COLS), dtype=bool) for r in AOI_REGIONS}
        aois["eyes"][6:9, 3:17] = True
        aois["mouth"][17:20, 6:14] = True
        aois["face"][2:22, 2:18] = True
        aois["background"] = ~aois["face"]
        arrays = item_arrays(image, image, CropResize.identity(ROWS, COLS), aois)
        write_arrays(ctx.item_path(sid), arrays)
        rows.append(
            {
                "stimulus_id": sid,
                "label": label,
                "subject": sid[:3],
                "session": "A",
                "split": split,
                "source_path": "",
                "rows": ROWS,
                "cols": COLS,
            }
        )
    write_table(ctx.out_dir / "stimuli.parquet", pd.DataFrame(rows))
    dropped = pd.DataFrame({"path": ["AF99XXS.JPG"], "reason": ["name does not parse"]})
    write_text(ctx.out_dir / "dropped.csv", dropped.to_csv(index=False))
    ctx.note("dropped", {"name does not parse": 1})


def _train(ctx: StageContext) -> None:
    write_json(
        ctx.out_dir / "metrics.json",
        {"test_accuracy": TEST_ACCURACY, "val_accuracy": 0.9, "epochs_run": 3},
    )
    confusion = pd.DataFrame(
        np.eye(7, dtype=np.int64) * 2, index=list(LABELS), columns=list(LABELS)
    )
    confusion.loc["afraid", "afraid"] = 1
    confusion.loc["afraid", "surprised"] = 1
    write_text(ctx.out_dir / "confusion.csv", confusion.rename_axis("true").to_csv())
    write_text(ctx.out_dir / "history.csv", "epoch,loss\n0,1.0\n")


def _map(seed: int, centre: tuple[int, int]) -> np.ndarray:
    r, c = np.mgrid[0:ROWS, 0:COLS]
    return np.exp(-((r - centre[0]) ** 2 + (c - centre[1]) ** 2) / 20.0) + 0.01 * seed


def _explain(ctx: StageContext) -> None:
    for k, (sid, _label, split) in enumerate(_ids()):
        if split != "test":
            continue
        m = _map(k, (18, 10))
        write_arrays(ctx.item_path(sid), {METHOD: m, f"{METHOD}__stimulus": m})


def _gaze(ctx: StageContext) -> None:
    trials = []
    for s in range(3):
        for t, label in enumerate(LABELS):
            response = "surprised" if (label == "afraid" and s == 0) else label
            trials.append(
                {
                    "subject": f"P{s:02d}",
                    "trial": t,
                    "stimulus_id": f"T01{label[:2].upper()}",
                    "label": label,
                    "response": response,
                    "kept": response == label,
                    "drop_reason": "" if response == label else "incorrect",
                }
            )
    write_table(ctx.out_dir / "trials.parquet", pd.DataFrame(trials))
    quality = pd.DataFrame(
        {
            "subject": ["P00", "P01", "P02"],
            "trials_kept": [6, 7, 7],
            "dropped_incorrect": [1, 0, 0],
            "samples_lost_share": [0.01, 0.02, 0.0],
        }
    )
    write_table(ctx.out_dir / "quality.parquet", quality)
    write_table(
        ctx.out_dir / "fixations.parquet", pd.DataFrame({"subject": ["P00"], "x_px": [1.0]})
    )
    ctx.note("trials_dropped", {"incorrect": 1})


def _human_maps(ctx: StageContext) -> None:
    for k, (sid, _label, split) in enumerate(_ids()):
        if split != "test":
            continue
        m = _map(k, (7, 10))
        write_arrays(ctx.item_path(sid), {"density": m / m.sum(), "density_model": m / m.sum()})


def comparison_tables() -> dict[str, pd.DataFrame]:
    """Tidy long tables as a comparison stage writes them (the report's documented columns)."""
    curves = []
    for label in ["all", *LABELS]:
        for ordering, speed in (("human", 1.0), (METHOD, 1.6), ("random", 0.8)):
            for step in range(17):
                value = max(0.0, 1.0 - speed * step / 16)
                curves.append(
                    {
                        "label": label,
                        "ordering": ordering,
                        "order": "morf",
                        "step": step,
                        "value": value,
                        "ci_low": max(0.0, value - 0.05),
                        "ci_high": min(1.0, value + 0.05),
                    }
                )
    auc = []
    for label in ["all", *LABELS]:
        est = {"all": OVERALL_HUMAN_MINUS_NETWORK, "happy": HAPPY_HUMAN_MINUS_NETWORK}.get(
            label, 0.02
        )
        half = 0.05 if label in {"all", "happy"} else 0.04
        auc.append(
            {
                "label": label,
                "contrast": "human - network",
                "estimate": est,
                "ci_low": est - half,
                "ci_high": est + half,
            }
        )
        auc.append(
            {
                "label": label,
                "contrast": "network - random",
                "estimate": -0.2,
                "ci_low": -0.3,
                "ci_high": -0.1,
            }
        )
    regions = []
    for label in LABELS:
        for region in ("eyes", "brows", "nose", "mouth"):
            human = {"eyes": 0.5, "mouth": 0.2}.get(region, 0.1)
            network = {"eyes": 0.1, "mouth": 0.6}.get(region, 0.1)
            regions.append({"label": label, "region": region, "source": "human", "share": human})
            regions.append(
                {"label": label, "region": region, "source": "network", "share": network}
            )
    metrics = [
        {"metric": "NSS", "map": METHOD, "value": NSS_NETWORK, "ci_low": 1.1, "ci_high": 1.4},
        {
            "metric": "NSS",
            "map": "noise ceiling",
            "value": NSS_CEILING,
            "ci_low": 2.2,
            "ci_high": 2.5,
        },
        {"metric": "NSS", "map": "centre bias", "value": 0.8, "ci_low": 0.7, "ci_high": 0.9},
        {"metric": "KLD", "map": METHOD, "value": 1.5, "ci_low": 1.4, "ci_high": 1.6},
        {"metric": "KLD", "map": "noise ceiling", "value": 0.5, "ci_low": 0.4, "ci_high": 0.6},
    ]
    return {
        "curves": pd.DataFrame(curves),
        "auc_differences": pd.DataFrame(auc),
        "region_shares": pd.DataFrame(regions),
        "metrics": pd.DataFrame(metrics),
    }


def _compare(ctx: StageContext) -> None:
    for name, table in comparison_tables().items():
        write_table(ctx.out_dir / f"{name}.parquet", table)


def _stage(name: str, run: Callable[[StageContext], None], needs: tuple[str, ...]) -> Stage:
    return Stage(
        name=name, description=f"stand-in {name}", reads=("study.seed",), needs=needs, run=run
    )


def fake_stages(*, with_compare: bool = True) -> list[Stage]:
    stages = [
        _stage("stimuli", _stimuli, ()),
        _stage("train", _train, ("stimuli",)),
        _stage("explain", _explain, ("stimuli", "train")),
        _stage("gaze", _gaze, ("stimuli",)),
        _stage("human_maps", _human_maps, ("stimuli", "gaze")),
    ]
    if with_compare:
        stages.append(_stage("compare", _compare, tuple(s.name for s in stages)))
    stages.append(make_stage(tuple(s.name for s in stages)))
    return stages


def fake_config(run_dir: Path, *, synthetic: bool = True) -> StudyConfig:
    return study_from_dict(
        {
            "study": {
                "name": "report test study",
                "seed": 11,
                "run_dir": str(run_dir),
                "synthetic": synthetic,
            },
            "report": {"figure_formats": ["png", "pdf"], "dpi": 60},
        },
        base_dir=run_dir.parent,
    )


@dataclass(frozen=True)
class FakeRun:
    run_dir: Path
    report_dir: Path
    html: str


def run_fake(run_dir: Path, *, with_compare: bool = True, synthetic: bool = True) -> FakeRun:
    runner = Runner(
        fake_config(run_dir, synthetic=synthetic),
        fake_stages(with_compare=with_compare),
        show_progress=False,
        versions={"gazealign": "test", "numpy": "test"},
    )
    dirs = runner.run()
    report_dir = dirs["report"]
    return FakeRun(run_dir, report_dir, (report_dir / "report.html").read_text(encoding="utf-8"))
