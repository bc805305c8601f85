"""A small hand-made run: upstream stages that write the documented artifacts with known numbers.

The stand-in stages below declare the real stages' artifact contracts (for the artifacts they
write) and write through :func:`put`, which fills the declared columns a fake does not care
about with missing values; the values the tests look for in the report are planted. The real
``report`` stage then runs through the real Runner, which checks each fake kept its contract.
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
from gazealign.pipeline.registry import get_stage, run_order
from gazealign.pipeline.stage import Stage, StageContext
from gazealign.pipeline.store import write_arrays, write_json, write_table, write_text
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


#: The settings the perturbation stage stamps on its rows (each caption states them).
SETTINGS = {
    "tile_px": 6,
    "grid_rows": 4,
    "grid_cols": 4,
    "input_px": 24,
    "fill": "blur",
    "tile_score": "sum",
    "tile_sign": "signed",
    "sign": "positive",
    "random_orders": 5,
    "bf16": False,
}

#: The artifacts each stand-in writes (its contract is the real stage's, restricted to these).
WRITTEN = {
    "stimuli": ("stimuli", "dropped", "items"),
    "train": ("metrics", "confusion", "history"),
    "explain": ("maps",),
    "gaze": ("trials", "quality", "fixations"),
    "human_maps": ("maps",),
    "perturbation": ("curves", "auc_differences", "per_image_areas", "curves_per_item"),
    "perturbation_robustness": ("summary", "contrasts", "sign_agreement"),
    "saliency_metrics": ("metrics", "per_image_metrics"),
    "region_shares": ("region_shares", "region_shares_difference", "region_shares_per_image"),
    "sanity_checks": ("randomisation_layers", "verdicts"),
    "alignment_sweep": ("summary", "sweep", "paired"),
}

#: The alignment sweep stand-in's (lambda, test accuracy, Spearman / ceiling).
ALIGNMENT = ((0.0, 0.70, 0.40), (1.0, 0.69, 0.55), (3.0, 0.60, 0.70))


def put(ctx: StageContext, name: str, table: pd.DataFrame) -> None:
    """Write ``table`` as artifact ``name`` of the real stage ``ctx.stage`` stands in for.

    Declared columns the table lacks are added as missing values (the report never reads them).
    """
    artifact = next(a for a in get_stage(ctx.stage).writes if a.name == name)
    for column in artifact.required_columns():
        if column not in table.columns:
            table = table.assign(**{column: pd.NA})
    path = ctx.out_dir / artifact.path
    if artifact.kind == "csv":
        write_text(path, table.to_csv(index=False))
    else:
        write_table(path, table)


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
    put(ctx, "stimuli", pd.DataFrame(rows))
    dropped = pd.DataFrame({"source_path": ["AF99XXS.JPG"], "reason": ["name does not parse"]})
    put(ctx, "dropped", dropped)
    ctx.note("dropped", {"name does not parse": 1})


def _train(ctx: StageContext) -> None:
    write_json(
        ctx.out_dir / "metrics.json",
        {"test_accuracy": TEST_ACCURACY, "val_accuracy": 0.9, "epochs_run": 3},
    )
    # as the train stage writes it: a label column, then pred_<label> counts
    counts = np.eye(7, dtype=np.int64) * 2
    counts[0, 0], counts[0, 6] = 1, 1  # one afraid test face taken for surprised
    confusion = pd.DataFrame(counts, columns=[f"pred_{lab}" for lab in LABELS])
    confusion.insert(0, "label", list(LABELS))
    put(ctx, "confusion", confusion)
    put(ctx, "history", pd.DataFrame({"epoch": [0], "train_loss": [1.0]}))


def _map(seed: int, centre: tuple[int, int]) -> np.ndarray:
    r, c = np.mgrid[0:ROWS, 0:COLS]
    return np.exp(-((r - centre[0]) ** 2 + (c - centre[1]) ** 2) / 20.0) + 0.01 * seed


def _explain(ctx: StageContext) -> None:
    for k, (sid, _label, split) in enumerate(_ids()):
        if split != "test":
            continue
        m = _map(k, (18, 10))
        signed = {f"{METHOD}__signed": m - 0.3}  # the map before the sign policy
        write_arrays(ctx.item_path(sid), {METHOD: m, f"{METHOD}__stimulus": m} | signed)


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
    put(ctx, "trials", pd.DataFrame(trials))
    quality = pd.DataFrame(
        {
            "subject": ["P00", "P01", "P02"],
            "trials_kept": [6, 7, 7],
            "dropped_incorrect": [1, 0, 0],
            "samples_lost_share": [0.01, 0.02, 0.0],
        }
    )
    put(ctx, "quality", quality)
    put(ctx, "fixations", pd.DataFrame({"subject": ["P00"], "x_px": [1.0]}))
    ctx.note("trials_dropped", {"incorrect": 1})


def _human_maps(ctx: StageContext) -> None:
    for k, (sid, _label, split) in enumerate(_ids()):
        if split != "test":
            continue
        m = _map(k, (7, 10))
        write_arrays(ctx.item_path(sid), {"density": m / m.sum(), "density_model": m / m.sum()})


def _curves() -> pd.DataFrame:
    rows = []
    for label in ["all", *LABELS]:
        for ordering, speed in (("human", 1.0), (METHOD, 1.6), ("random", 0.8)):
            for order in ("morf", "lerf"):
                for measure in ("accuracy", "probability"):
                    for step in range(17):
                        # only the MoRF accuracy rows are plotted: the others are off the scale
                        value = max(0.0, 1.0 - speed * step / 16)
                        if (order, measure) != ("morf", "accuracy"):
                            value = 5.0
                        rows.append(
                            {
                                "label": label,
                                "ordering": ordering,
                                "order": order,
                                "measure": measure,
                                "step": step,
                                "fraction_perturbed": step / 16,
                                "value": value,
                                "ci_low": max(0.0, value - 0.05),
                                "ci_high": min(1.0, value + 0.05),
                                "n": 7,
                            }
                            | SETTINGS
                        )
    return pd.DataFrame(rows)


def _auc_differences() -> pd.DataFrame:
    rows = []
    for quantity, measure, order in (
        ("auc", "accuracy", "morf"),
        ("aopc", "accuracy", "morf"),
        ("auc", "probability", "morf"),
        ("auc", "accuracy", "lerf"),
    ):
        keep = (quantity, measure, order) == ("auc", "accuracy", "morf")
        for label in ["all", *LABELS]:
            est = {"all": OVERALL_HUMAN_MINUS_NETWORK, "happy": HAPPY_HUMAN_MINUS_NETWORK}.get(
                label, 0.02
            )
            est = est if keep else 9.0  # rows the report must not pick
            half = 0.05 if label in {"all", "happy"} else 0.04
            for contrast, e, lo, hi in (
                (f"human - {METHOD}", est, est - half, est + half),
                (f"{METHOD} - random", -0.2, -0.3, -0.1),
            ):
                rows.append(
                    {
                        "quantity": quantity,
                        "measure": measure,
                        "order": order,
                        "contrast": contrast,
                        "label": label,
                        "n": 2,
                        "estimate": e,
                        "ci_low": lo,
                        "ci_high": hi,
                        "p_value": 0.03,
                        "cohens_dz": 1.1,
                    }
                    | SETTINGS
                )
    return pd.DataFrame(rows)


def _region_shares() -> tuple[pd.DataFrame, pd.DataFrame]:
    shares, diffs = [], []
    for label in ["all", *LABELS]:
        for region in ("eyes", "brows", "nose", "mouth"):
            human = {"eyes": 0.5, "mouth": 0.2}.get(region, 0.1)
            network = {"eyes": 0.1, "mouth": 0.6}.get(region, 0.1)
            area = {"eyes": 0.08, "mouth": 0.06}.get(region, 0.04)
            for source, share in (
                ("human", human),
                ("human (dwell)", human),
                (METHOD, network),
                ("image area", area),
            ):
                shares.append(
                    {
                        "source": source,
                        "region": region,
                        "label": label,
                        "estimate": share,
                        "ci_low": share - 0.05,
                        "ci_high": share + 0.05,
                        "share": share,
                    }
                )
            d = network - human
            half = 0.1 if d != 0 else 0.05
            diffs.append(
                {
                    "contrast": f"{METHOD} - human",
                    "region": region,
                    "label": label,
                    "estimate": d,
                    "ci_low": d - half,
                    "ci_high": d + half,
                    "p_value": 0.01,
                }
            )
    return pd.DataFrame(shares), pd.DataFrame(diffs)


def _metrics() -> pd.DataFrame:
    rows = []
    for label in ["all", "happy"]:
        bump = 0.0 if label == "all" else 7.0  # per-class rows: not the ones shown
        for metric, mapname, value, higher in (
            ("nss", METHOD, NSS_NETWORK, True),
            ("nss", "human (split-half ceiling)", NSS_CEILING, True),
            ("nss", "centre bias", 0.8, True),
            ("nss", "uniform", 0.0, True),
            ("kld", METHOD, 1.5, False),
            ("kld", "human (split-half ceiling)", 0.5, False),
        ):
            v = value + bump
            rows.append(
                {
                    "map": mapname,
                    "metric": metric,
                    "label": label,
                    "n": 7,
                    "estimate": v,
                    "ci_low": v - 0.1,
                    "ci_high": v + 0.1,
                    "value": v,
                    "higher_is_better": higher,
                }
            )
    return pd.DataFrame(rows)


def _perturbation(ctx: StageContext) -> None:
    put(ctx, "curves", _curves())
    put(ctx, "auc_differences", _auc_differences())
    put(ctx, "per_image_areas", pd.DataFrame({"auc": [1.0]}))
    ctx.seed("fill")  # recorded: the strip figure remakes each image's fill with it
    n = 16  # 6 px tiles over the 24 x 20 input
    rng = np.random.default_rng(0)
    for sid, _label, split in _ids():
        if split != "test":
            continue
        curve = np.linspace(0.9, 0.1, n + 1)
        arrays = {"true_class": np.int64(0)}
        for name in ("human", METHOD):
            arrays |= {
                f"{name}__morf__order": rng.permutation(n),
                f"{name}__morf__prob": curve ** (1.6 if name == METHOD else 1.0),
                f"{name}__morf__correct": curve > 0.5,
            }
        arrays |= {
            "random__order": np.stack([rng.permutation(n) for _ in range(5)]),
            "random__prob": np.tile(curve, (5, 1)),
            "random__correct": np.tile(curve > 0.5, (5, 1)),
        }
        write_arrays(ctx.item_path(sid), arrays)


#: The robustness stand-in's pairs: (tile_px, fill, human - method estimate); the last flips.
ROBUSTNESS = [(6, "blur", 0.1234), (12, "blur", 0.0876), (6, "mean", 0.0456), (12, "mean", -0.0321)]


def _robustness(ctx: StageContext) -> None:
    pairs = [{"tile_px": t, "fill": f} for t, f, _ in ROBUSTNESS]
    write_json(ctx.out_dir / "summary.json", {"enabled": True, "pairs": pairs})
    contrasts = pd.DataFrame(
        {
            "tile_px": [t for t, _, _ in ROBUSTNESS],
            "fill": [f for _, f, _ in ROBUSTNESS],
            "estimate": [e for _, _, e in ROBUSTNESS],
            "ci_low": [e - 0.05 for _, _, e in ROBUSTNESS],
            "ci_high": [e + 0.05 for _, _, e in ROBUSTNESS],
            "study_setting": [True, False, False, False],
        }
    ).assign(measure="accuracy", contrast=f"human - {METHOD}", label="all", n=7, n_groups=7)
    put(ctx, "contrasts", contrasts)
    agreement = pd.DataFrame(
        {
            "measure": ["accuracy"],
            "contrast": [f"human - {METHOD}"],
            "reference_estimate": [0.1234],
            "reference_ci_low": [0.0734],
            "reference_ci_high": [0.1734],
            "pairs": [4],
            "same_sign": [3],
            "keeps_sign": [False],
            "other_sign": ["12 px / mean"],
            "interval_holds_zero": ["6 px / mean; 12 px / mean"],
        }
    )
    put(ctx, "sign_agreement", agreement)


def _alignment(ctx: StageContext) -> None:
    write_json(
        ctx.out_dir / "summary.json",
        {"enabled": True, "synthetic": True, "lambdas": [w for w, _, _ in ALIGNMENT]},
    )
    sweep = pd.DataFrame(
        {
            "weight": [w for w, _, _ in ALIGNMENT],
            "test_accuracy": [a for _, a, _ in ALIGNMENT],
            "test_accuracy_ci_low": [a - 0.1 for _, a, _ in ALIGNMENT],
            "test_accuracy_ci_high": [a + 0.1 for _, a, _ in ALIGNMENT],
            "spearman_of_ceiling": [r for _, _, r in ALIGNMENT],
            "cc_of_ceiling": [r + 0.1 for _, _, r in ALIGNMENT],
            "train_images": 40,
            "train_images_with_map": 40,
        }
    ).assign(objective="harmonization", saliency="gradient")
    put(ctx, "sweep", sweep)
    paired = pd.DataFrame(
        {
            "weight": [1.0, 3.0],
            "measure": "correct",
            "baseline_weight": 0.0,
            "n": 14,
            "n_groups": 7,
            "estimate": [-0.01, -0.10],
            "ci_low": [-0.05, -0.2],
            "ci_high": [0.03, 0.0],
            "p_value": 0.5,
        }
    )
    put(ctx, "paired", paired)


def _saliency_metrics(ctx: StageContext) -> None:
    put(ctx, "metrics", _metrics())
    put(ctx, "per_image_metrics", _metrics().assign(stimulus_id="x"))


def _regions(ctx: StageContext) -> None:
    shares, diffs = _region_shares()
    put(ctx, "region_shares", shares)
    put(ctx, "region_shares_difference", diffs)
    put(ctx, "region_shares_per_image", shares.assign(stimulus_id="x"))


#: The sanity_checks stand-in's verdict for the method (a planted sentence).
SANITY_VERDICT = "fails class sensitivity: maps for different classes correlate at r = 0.91"


def _sanity(ctx: StageContext) -> None:
    layers = pd.DataFrame(
        {
            "method": [METHOD] * 3,
            "step": [0, 1, 2],
            "layer": ["trained", "fc8", "conv1"],
            "layer_kind": ["", "dense", "conv"],
            "spearman_abs_median": [1.0, 0.8, 0.321],
            "spearman_abs_q25": [1.0, 0.7, 0.2],
            "spearman_abs_q75": [1.0, 0.9, 0.4],
            "ssim_abs_median": [1.0, 0.7, 0.2],
            "images": [4, 4, 4],
        }
    )
    verdicts = pd.DataFrame(
        {
            "method": [METHOD],
            "target_output": ["logit"],
            "randomised_spearman": [0.321],
            "passes_randomisation": [True],
            "class_r": [0.91],
            "passes_class_sensitivity": [False],
            "verdict": [SANITY_VERDICT],
        }
    )
    put(ctx, "randomisation_layers", layers)
    put(ctx, "verdicts", verdicts)


def _stage(name: str, run: Callable[[StageContext], None], needs: tuple[str, ...]) -> Stage:
    writes = tuple(a for a in get_stage(name).writes if a.name in WRITTEN[name])
    return Stage(
        name=name,
        description=f"stand-in {name}",
        reads=("study.seed",),
        needs=needs,
        run=run,
        writes=writes,
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
        stages += [
            _stage("perturbation", _perturbation, ("stimuli", "train", "explain", "human_maps")),
            _stage(
                "saliency_metrics", _saliency_metrics, ("stimuli", "explain", "gaze", "human_maps")
            ),
            _stage("region_shares", _regions, ("stimuli", "explain", "gaze", "human_maps")),
            _stage("sanity_checks", _sanity, ("stimuli", "train")),
            _stage("perturbation_robustness", _robustness, ("perturbation",)),
            _stage("alignment_sweep", _alignment, ("stimuli", "gaze", "human_maps")),
        ]
    return run_order([*stages, get_stage("report")])


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
            # as the perturbation stand-in's stamped settings say it ran
            "comparison": {"perturbation": {"tile_px": 6, "fill": "blur", "tile_sign": "signed"}},
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
