"""The comparison stages end to end on a small synthetic study run by the real Runner.

Upstream stages are stand-ins that write the documented artifacts (stimuli items and table,
explain items, fixations, human maps); the network is a fixed small model whose evidence for
class c is the brightness of one class-specific tile, and the "network map" marks that tile.
So the network's MoRF order removes the evidence first: its accuracy curve must fall faster than
random, with a confidence interval that excludes 0. Simulated observers look at the face centre.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from gazealign.config import study_from_dict
from gazealign.coords import CropResize
from gazealign.models.bundle import ModelBundle
from gazealign.pipeline import Runner
from gazealign.pipeline.registry import get_stage
from gazealign.pipeline.stage import Stage, StageContext
from gazealign.pipeline.store import read_table, write_arrays, write_table
from gazealign.stages import metrics as metrics_stage
from gazealign.stages import perturbation as perturbation_stage
from gazealign.stimuli.artifacts import item_arrays
from gazealign.types import LABELS

S, TILE = 32, 8
CLASS_TILES = [0, 1, 2, 3, 4, 7, 8]  # one evidence tile per class, off the face centre
N_PER_CLASS = 3


def tile_mask(tile: int) -> np.ndarray:
    mask = np.zeros((S, S), dtype=bool)
    r, c = divmod(tile, S // TILE)
    mask[r * TILE : (r + 1) * TILE, c * TILE : (c + 1) * TILE] = True
    return mask


class TileBrightnessNet(nn.Module):
    """logit_c = 20 * (mean of input over class c's tile - 0.55)."""

    def __init__(self) -> None:
        super().__init__()
        masks = np.stack([tile_mask(t) for t in CLASS_TILES]).astype(np.float32)
        self.weights = nn.Parameter(torch.from_numpy(masks / masks[0].sum()), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        grey = x.mean(dim=1)  # (N, S, S)
        return 20 * (torch.einsum("nrc,krc->nk", grey, self.weights) - 0.55)


def stimuli() -> list[tuple[str, str, np.ndarray]]:
    rng = np.random.default_rng(0)
    out = []
    for k, label in enumerate(LABELS):
        for i in range(N_PER_CLASS):
            img = np.clip(rng.normal(140, 10, size=(S, S, 3)), 0, 255)
            img[tile_mask(CLASS_TILES[k])] = 230
            out.append((f"{label}_{i}", label, img.astype(np.uint8)))
    return out


def aois() -> dict[str, np.ndarray]:
    regions = {}
    for name, rows in {
        "brows": (6, 9),
        "eyes": (10, 14),
        "nose": (15, 21),
        "mouth": (23, 27),
    }.items():
        m = np.zeros((S, S), dtype=bool)
        m[rows[0] : rows[1], 6:26] = True
        regions[name] = m
    face = np.zeros((S, S), dtype=bool)
    face[4:30, 4:28] = True
    regions["face"], regions["background"] = face, ~face
    return regions


def fixations() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for sid, label, _ in stimuli():
        for s in range(6):
            for _ in range(6):
                y = 12 + rng.normal(0, 1.5) if rng.random() < 0.7 else 25 + rng.normal(0, 1.5)
                x = 16 + rng.normal(0, 3)
                rows.append(
                    (f"p{s}", 1, sid, x, y, 0.0, 250.0, "stimulus", label, label, True, 1.0)
                )
    return pd.DataFrame(
        rows,
        columns=[
            "subject",
            "trial",
            "stimulus_id",
            "x_px",
            "y_px",
            "onset_ms",
            "duration_ms",
            "frame",
            "label",
            "response",
            "correct",
            "scale",
        ],
    )


def density(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (
        metrics_stage.gaussian_density(3.0, (S, S), duration_weighted=False)(x, y, np.ones_like(x))
        + 1e-9
    )


def write_stimuli(ctx: StageContext) -> None:
    rows = []
    for sid, label, img in stimuli():
        arrays = item_arrays(img, img, CropResize.identity(S, S), aois())
        write_arrays(ctx.out_dir / "items" / f"{sid}.npz", arrays)
        rows.append((sid, label, sid, "A", "test", "", S, S))
    cols = ["stimulus_id", "label", "subject", "session", "split", "source_path", "rows", "cols"]
    write_table(ctx.out_dir / "stimuli.parquet", pd.DataFrame(rows, columns=cols))


def write_explain(ctx: StageContext) -> None:
    rng = np.random.default_rng(2)
    for k, label in enumerate(LABELS):
        for i in range(N_PER_CLASS):
            relevance = tile_mask(CLASS_TILES[k]) + rng.normal(0, 0.05, size=(S, S))
            write_arrays(
                ctx.out_dir / "items" / f"{label}_{i}.npz",
                {"lrp": relevance, "lrp__stimulus": relevance},
            )
    steps = json.dumps([{"name": "sign", "params": {"policy": "positive"}}])
    records = pd.DataFrame({"stimulus_id": ["x"], "method": ["lrp"], "steps": [steps]})
    for column in (
        "target",
        "target_output",
        "logit",
        "relevance_sum",
        "conservation_violated",
        "params",
    ):
        records[column] = 0
    write_table(ctx.out_dir / "maps.parquet", records)


def write_gaze(ctx: StageContext) -> None:
    write_table(ctx.out_dir / "fixations.parquet", fixations())


def write_human(ctx: StageContext) -> None:
    fix = fixations()
    for sid, sub in fix.groupby("stimulus_id"):
        d = density(sub.x_px.to_numpy(), sub.y_px.to_numpy())
        arrays = {"density": d, "density_model": d, "sigma_px": np.float64(3.0)}
        write_arrays(ctx.out_dir / "items" / f"{sid}.npz", arrays)


def fake(
    name: str, run: object, needs: tuple[str, ...] = (), writes: tuple[str, ...] = ()
) -> Stage:
    """A stand-in for stage ``name`` keeping the real stage's contract for ``writes``."""
    contract = tuple(a for a in get_stage(name).writes if a.name in writes)
    return Stage(name=name, description=name, reads=(), needs=needs, run=run, writes=contract)  # type: ignore[arg-type]


def stand_in_stages() -> list[Stage]:
    """The upstream stages of a comparison study as stand-ins writing the planted data, each
    declaring the artifacts the real stage declares that the comparison stages read."""
    return [
        fake("stimuli", write_stimuli),
        fake("train", lambda ctx: None, ("stimuli",)),
        fake("explain", write_explain, ("stimuli", "train"), ("maps", "records")),
        fake("gaze", write_gaze, ("stimuli",), ("fixations",)),
        fake("human_maps", write_human, ("stimuli", "gaze"), ("maps",)),
    ]


@pytest.mark.slow
def test_comparison_stages_on_a_synthetic_study(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch.set_num_threads(1)
    bundle = ModelBundle(TileBrightnessNet().eval(), preprocessing="thesis", input_size_px=S)
    monkeypatch.setattr(perturbation_stage, "cached_model", lambda train_dir, device: bundle)
    config = study_from_dict(
        {
            "study": {"seed": 3, "run_dir": "run", "synthetic": True},
            "heatmap": {"sigma_deg": 0.08},
            "comparison": {
                "perturbation": {"tile_px": TILE, "random_orders": 6, "batch_size": 16},
                "metrics": {"auc_splits": 5, "ceiling_splits": 2, "emd_max_side_px": 8},
                "bootstrap_resamples": 300,
                "permutations": 400,
            },
        },
        base_dir=tmp_path,
        source=str(tmp_path / "study.toml"),
    )
    stages = [
        *stand_in_stages(),
        get_stage("perturbation"),
        get_stage("saliency_metrics"),
        get_stage("region_shares"),
    ]
    kernels: list[float] = []
    made_like_human_maps = metrics_stage.gaussian_density

    def recording(sigma_px: float, shape: tuple[int, int], *, duration_weighted: bool) -> object:
        kernels.append(sigma_px)
        return made_like_human_maps(sigma_px, shape, duration_weighted=duration_weighted)

    monkeypatch.setattr(metrics_stage, "gaussian_density", recording)
    dirs = Runner(config, stages, show_progress=False).run()
    # The ceiling's kernel is the one the human maps recorded (3 px), not one derived again
    # from heatmap.sigma_deg and the screen (3.28 px here).
    assert kernels and set(kernels) == {3.0}

    pert = dirs["perturbation"]
    # study.device "auto" resolved here, recorded by the stage (its items' notes)
    notes = json.loads((pert / "_stage.json").read_text(encoding="utf-8"))["notes"]
    assert notes["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    curves = read_table(pert / "curves.parquet")
    settings = curves[["tile_px", "grid_rows", "grid_cols", "input_px", "fill", "sign"]]
    assert settings.drop_duplicates().to_dict(orient="records") == [
        {"tile_px": TILE, "grid_rows": S // TILE, "grid_cols": S // TILE, "input_px": S}
        | {"fill": config.comparison.perturbation.fill, "sign": "positive"}
    ]
    assert len(list((pert / "items").glob("*.npz"))) == 7 * N_PER_CLASS
    diffs = read_table(pert / "auc_differences.parquet")
    row = diffs[
        (diffs.contrast == "lrp - random")
        & (diffs.quantity == "auc")
        & (diffs.measure == "accuracy")
        & (diffs.order == "morf")
        & (diffs.label == "all")
    ].iloc[0]
    # The network order removes the evidence tile first: accuracy 1 -> 0 after step 1, so its AUC
    # is 0.5/16; random orders remove it at a uniform random step (AUC about 0.5).
    assert row.estimate < -0.3 and row.ci_high < 0
    assert row.p_value < 0.01 and row.n == 21
    # Every image shows its own identity here: 21 clusters, BCa expanded, Holm per class.
    assert row.n_groups == 21 and row.resampling_unit == "identity"
    assert row.interval_method == "bca" and bool(row.interval_expanded)
    per_class = diffs[(diffs.contrast == "lrp - random") & (diffs.label != "all")]
    assert (per_class.p_adjust_method == "holm").all()
    assert (per_class.p_adjusted >= per_class.p_value - 1e-12).all()
    assert np.isfinite(row.interaction_p)
    assert {"identity", "session"} <= set(read_table(pert / "per_image_areas.parquet").columns)
    interaction = read_table(pert / "interaction.parquet")
    assert (interaction.n_classes == 7).all() and interaction.p_value.notna().any()
    curves = read_table(pert / "curves.parquet")
    net = curves[
        (curves.ordering == "lrp")
        & (curves.order == "morf")
        & (curves.measure == "accuracy")
        & (curves.label == "all")
    ]
    assert net.sort_values("step").value.tolist()[:2] == [1.0, 0.0]
    lerf = diffs[
        (diffs.contrast == "lrp: lerf - morf")
        & (diffs.measure == "accuracy")
        & (diffs.label == "all")
    ]
    assert lerf.estimate.iloc[0] > 0.8

    metrics = read_table(dirs["saliency_metrics"] / "metrics.parquet")
    overall = metrics[metrics.label == "all"].set_index(["map", "metric"])["value"]
    ceiling = overall[metrics_stage.CEILING_LOO]
    assert set(ceiling.index) == {"nss", "cc", "auc_judd", "information_gain"}
    # Observers agree with each other far more than the network's off-centre map agrees with them.
    assert ceiling["nss"] > overall[("lrp", "nss")] + 1
    assert ceiling["cc"] > overall[("lrp", "cc")]
    assert ceiling["auc_judd"] > overall[(metrics_stage.CENTRE_BIAS, "auc_judd")] - 0.05
    # Calibrated rows: only the distribution metrics, and a density never scores worse on IG
    # than the raw map read as one (the fit may pick pure centre bias, never less).
    calibrated = overall["lrp (calibrated)"]
    assert set(calibrated.index) == set(metrics_stage.CALIBRATED_METRICS)
    assert calibrated["information_gain"] > overall[("lrp", "information_gain")]
    fits = read_table(dirs["saliency_metrics"] / "calibration.parquet")
    assert set(fits["fold"]) == {0, 1} and (fits["centre_weight"] >= 0.01).all()

    # Leave-one-observer-out: the network map on the same held-out fixations, chance-corrected.
    table = read_table(dirs["saliency_metrics"] / "ceiling.parquet").set_index(["map", "metric"])
    lrp_nss = table.loc[("lrp", "nss")]
    assert lrp_nss.chance_map == "centre bias" and lrp_nss.percent_of_ceiling < 0.5
    assert lrp_nss.percent_of_ceiling_ci_low <= lrp_nss.percent_of_ceiling
    assert lrp_nss.percent_of_ceiling <= lrp_nss.percent_of_ceiling_ci_high
    assert lrp_nss.n_identities == 21 and lrp_nss.n_images == 21
    pooled = metrics[(metrics.label == "all") & (metrics["map"] == "lrp")].set_index("metric")
    assert pooled.loc["nss", "percent_of_ceiling"] == pytest.approx(lrp_nss.percent_of_ceiling)
    assert (pooled["all_zero_maps"] == 0).all()
    curve = read_table(dirs["saliency_metrics"] / "ceiling_curve.parquet")
    assert curve.n_observers.min() == 1

    shares = read_table(dirs["region_shares"] / "region_shares.parquet")
    eyes = shares[(shares.region == "eyes") & (shares.label == "all")].set_index("source")["share"]
    assert eyes["human"] > 0.5 and eyes["lrp"] < 0.1
    diff = read_table(dirs["region_shares"] / "region_shares_difference.parquet")
    eyes_diff = diff[(diff.region == "eyes") & (diff.label == "all")].iloc[0]
    assert eyes_diff.ci_high < 0
