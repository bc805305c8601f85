"""The ``[comparison]`` table: perturbation analysis, metrics, statistics."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt

from gazealign.config.base import Section


class PerturbationSection(Section):
    tile_px: PositiveInt = Field(
        56, description="Tile side in model-input px (thesis: 56 on 224 = 4x4 grid)."
    )
    orders: list[Literal["morf", "lerf"]] = Field(["morf", "lerf"], description="Orders to run.")
    tile_score: Literal["sum", "mean"] = Field(
        "sum", description="Tile score from the map inside it."
    )
    fill: Literal["uniform_noise", "mean", "blur", "zeros"] = Field(
        "uniform_noise", description="What replaces a tile."
    )
    random_orders: PositiveInt = Field(10, description="Number of random orders (baseline).")
    batch_size: PositiveInt = Field(32, description="Perturbed images per network batch.")
    bf16: bool | Literal["auto"] = Field(
        "auto",
        description=(
            "Run a bfloat16, channels-last copy of the network. 'auto': where the CPU or GPU "
            "has fast bf16 and a check on bf16_check_images images keeps every per-image AUC "
            "(probability, accuracy) within bf16_tolerance of float32 (recorded in "
            "precision.json); float32 otherwise."
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
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where the network runs ('auto': CUDA when available)."
    )


class MetricsSection(Section):
    auc_splits: PositiveInt = Field(
        100, description="Random negative sets of AUC-Borji and shuffled AUC."
    )
    emd_max_side_px: PositiveInt = Field(
        32, description="Maps are area-downsized to this longer side before EMD."
    )
    ceiling_splits: PositiveInt = Field(
        10, description="Random subject splits of the split-half noise ceiling."
    )
    centre_bias_sigma_fraction: PositiveFloat = Field(
        0.25, description="Sigma of the centre-bias baseline, as a fraction of image height/width."
    )


class ComparisonSection(Section):
    perturbation: PerturbationSection = Field(default_factory=PerturbationSection)
    metrics: MetricsSection = Field(default_factory=MetricsSection)
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
    p_adjust: Literal["holm", "fdr_bh", "none"] = Field(
        "holm",
        description="Adjustment of the per-class p-values of one contrast and measure (one "
        "family): 'holm' (family-wise error), 'fdr_bh' (Benjamini-Hochberg) or 'none'.",
    )
