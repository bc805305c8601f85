"""The ``[comparison]`` table: perturbation analysis, metrics, statistics."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator
from pydantic_core import PydanticCustomError

from gazealign.config.base import Section
from gazealign.config.robustness import RobustnessSection


class PerturbationSection(Section):
    tile_px: PositiveInt = Field(
        56, description="Tile side in model-input px (thesis: 56 on 224 = 4x4 grid)."
    )
    orders: list[Literal["morf", "lerf"]] = Field(["morf", "lerf"], description="Orders to run.")
    tile_score: Literal["sum", "mean"] = Field(
        "sum", description="Tile score from the map inside it."
    )
    tile_sign: Literal["positive", "signed", "absolute"] = Field(
        "positive",
        description=(
            "Which relevance a network map's tile score is made of: positive (evidence for the "
            "class only), signed (counter-evidence lowers the score; Samek et al. 2017) or "
            "absolute. Human densities are never negative; the report states the choice."
        ),
    )
    fill: str = Field(
        "uniform_noise",
        description=(
            "What replaces a tile (a registered fill): uniform_noise, mean (the image's mean "
            "colour), blur, zeros (black)."
        ),
    )
    random_orders: PositiveInt = Field(10, description="Number of random orders (baseline).")
    batch_size: PositiveInt = Field(32, description="Perturbed images per network batch.")
    bf16: bool | Literal["auto"] = Field(
        "auto",
        description=(
            "Run a bfloat16, channels-last copy of the network. 'auto': where the CPU or GPU "
            "has fast bf16 and a check on bf16_check_images images keeps every per-image AUC "
            "(probability, accuracy) within bf16_tolerance of float32 (recorded in "
            "precision.json); float32 otherwise. The robustness sweep runs bf16 only when "
            "this is true: the 'auto' check covers the study's own tile size and fill only."
        ),
    )
    bf16_check_images: PositiveInt = Field(
        4, description="Images of the study (first by id) the 'auto' bf16 check runs on."
    )
    bf16_tolerance: PositiveFloat = Field(
        0.005, description="Largest per-image AUC difference bf16 - fp32 that 'auto' accepts."
    )
    incremental: bool | Literal["auto"] = Field(
        "auto",
        description=(
            "Compute each step as an increment on the previous step of its order (equal to a "
            "full forward within rounding); 'auto': for chain networks of at least "
            "0.2 G conv multiply-adds per image. Not part of the stage's key."
        ),
    )
    blur_sigma_px: PositiveFloat = Field(
        8.0, description="Gaussian sigma of the 'blur' fill, in model-input px."
    )

    controls: list[str] = Field(
        default_factory=list,
        description=(
            "Control orderings run beside human, network and random (registered names, see "
            "`gazealign list controls`): other_identity, expression_mean, all_mean, centre_bias, "
            "<method>_blurred (a method of explain.methods). Empty: none."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _device_moved(cls, data: Any) -> Any:
        if isinstance(data, dict) and "device" in data:
            raise PydanticCustomError(
                "moved_key",
                "'device' moved to the [study] table (study.device sets it for every stage "
                "that runs the network); remove it here",
            )
        return data


class MetricsSection(Section):
    names: list[str] = Field(
        default_factory=list,
        description=(
            "Saliency metrics computed (registered names, see `gazealign list metrics`); "
            "empty: every registered metric."
        ),
    )
    auc_splits: PositiveInt = Field(
        100, description="Random negative sets of AUC-Borji and shuffled AUC."
    )
    emd_max_side_px: PositiveInt = Field(
        32, description="Maps are area-downsized to this longer side before EMD."
    )
    ceiling_splits: PositiveInt = Field(
        10, description="Random subject splits of the split-half noise ceiling."
    )
    ceiling: Literal["leave_one_out", "split_half"] = Field(
        "leave_one_out",
        description="Human noise ceiling: 'leave_one_out' (gold standard: the other observers' "
        "density predicts each held-out observer, network maps scored on the same held-out "
        "fixations; Kummerer et al. 2015) or 'split_half' (one half predicts the other).",
    )
    ceiling_metrics: list[str] = Field(
        ["cc", "nss", "auc_judd", "information_gain"],
        description="Metrics of the leave-one-out ceiling and the chance-corrected % of ceiling "
        "(registered names; those not in `names` are skipped when `names` is set).",
    )
    ceiling_observer_counts: list[PositiveInt] = Field(
        [1, 2, 4, 8, 16],
        description="Numbers of observers k for the ceiling-vs-observers curve (leave-one-out; "
        "k below the observers of an image minus one are used), extrapolated to infinitely many.",
    )
    centre_bias_sigma_fraction: PositiveFloat = Field(
        0.25, description="Sigma of the centre-bias baseline, as a fraction of image height/width."
    )
    calibrate: bool = Field(
        True,
        description=(
            "Also score each network map on KLD, IG, CC and SIM after calibrating it into a "
            "fixation density (blur and centre-bias weight fitted on held-out identities, "
            "Kummerer et al. 2018); rows '<method> (calibrated)' beside the raw ones."
        ),
    )
    calibration_folds: int = Field(
        2,
        ge=2,
        description=(
            "Identity folds of the calibration: each image's blur and weight are fitted on the "
            "images of the identities in the other folds."
        ),
    )


class ComparisonSection(Section):
    perturbation: PerturbationSection = Field(default_factory=PerturbationSection)
    metrics: MetricsSection = Field(default_factory=MetricsSection)
    robustness: RobustnessSection = Field(default_factory=RobustnessSection)
    split: Literal["test", "val", "train", "all"] = Field(
        "test", description="Which stimuli are compared (the seed study: the test split)."
    )
    bootstrap_resamples: PositiveInt = Field(
        2000, description="Bootstrap resamples for confidence intervals."
    )
    permutations: PositiveInt = Field(
        5000, description="Permutations for paired permutation tests."
    )
    confidence: float = Field(0.95, gt=0, lt=1, description="Confidence level of intervals.")
    interval: Literal["bca", "percentile"] = Field(
        "bca",
        description="Bootstrap interval: 'bca' (bias-corrected and accelerated, acceleration "
        "from the jackknife over identities) or 'percentile'.",
    )
    expand_intervals: bool = Field(
        True,
        description="Widen bootstrap intervals for few identities (Hesterberg 2015 expanded "
        "interval: z -> sqrt(G/(G-1)) t_(G-1)); without it a 95 % interval from 16 identities "
        "covers about 92 % (benchmarks/inference_calibration.py).",
    )
    p_adjust: Literal["holm", "fdr_bh", "none"] = Field(
        "holm",
        description="Adjustment of the per-class p-values of one contrast and measure (one "
        "family): 'holm' (family-wise error), 'fdr_bh' (Benjamini-Hochberg) or 'none'.",
    )
