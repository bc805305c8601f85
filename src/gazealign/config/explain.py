"""The ``[explain]`` table: network saliency methods."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, field_validator

from gazealign.config.base import Section

#: What of the target class an explanation explains (``explain.target_output``).
TargetOutput = Literal["logit", "contrastive", "sglrp"]

Baseline = Literal["black", "grey", "zero"]


class ExplainSection(Section):
    methods: list[str] = Field(
        ["lrp_epsilon_plus_flat"],
        description=(
            "Explainer names, one map per method: lrp_epsilon_plus_flat, lrp_epsilon_gamma_box, "
            "lrp_epsilon_alpha2_beta1, lrp_epsilon_alpha2_beta1_flat, lrp_epsilon; with the "
            "captum extra also integrated_gradients, gradcam, occlusion, gradient_x_input."
        ),
    )
    target: Literal["true", "predicted"] = Field(
        "true", description="Class explained: the true label or the prediction."
    )
    target_output: TargetOutput = Field(
        "logit",
        description=(
            "What of the target class is explained (recorded with every map): logit (the target "
            "logit; LRP's usual start), contrastive (the target against the other classes, as in "
            "contrastive LRP, Gu et al. 2018) or sglrp (the softmax probability's gradient, "
            "SGLRP, Iwana et al. 2019). The last two make modified-backprop maps "
            "class-discriminative."
        ),
    )
    splits: list[Literal["train", "val", "test"]] = Field(
        ["test"], description="Stimuli explained: those in these splits of the stimuli stage."
    )
    epsilon: PositiveFloat = Field(
        1e-6, description="LRP epsilon (stabiliser of the epsilon rule)."
    )
    gamma: PositiveFloat = Field(0.25, description="LRP gamma (conv layers of epsilon_gamma_box).")
    sign: Literal["positive", "absolute", "signed"] = Field(
        "positive",
        description=(
            "Sign policy of the map: positive (evidence for the class, negatives set to 0), "
            "absolute, or signed (unchanged)."
        ),
    )
    batch_size: PositiveInt = Field(16, description="Images per explanation batch.")
    ig_steps: PositiveInt = Field(50, description="Integrated Gradients: integration steps.")
    ig_baseline: Baseline = Field(
        "black",
        description="Integrated Gradients baseline image: black (0), grey (128), zero (model input 0).",
    )
    internal_batch_size: PositiveInt = Field(
        32,
        description="Integrated Gradients / Occlusion: model inputs per forward pass (memory bound).",
    )
    occlusion_window_px: PositiveInt = Field(
        16, description="Occlusion: side of the square window, model-input pixels."
    )
    occlusion_stride_px: PositiveInt = Field(
        8, description="Occlusion: step of the window, model-input pixels."
    )
    occlusion_baseline: Baseline = Field(
        "zero", description="Occlusion: what fills the window (black, grey, zero model input)."
    )
    gradcam_layer: str | None = Field(
        None,
        description="Grad-CAM: module name to read (default: the last conv layer's ReLU).",
    )
    conservation_tolerance: PositiveFloat = Field(
        0.1,
        description=(
            "Relative tolerance of the conservation check (LRP: relevance sum vs target logit; "
            "Integrated Gradients: vs logit minus baseline logit); maps beyond it are flagged."
        ),
    )

    @field_validator("methods")
    @classmethod
    def _methods_listed_once(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("list at least one method")
        if len(set(value)) != len(value):
            raise ValueError(f"a method is listed twice: {value}")
        return value
