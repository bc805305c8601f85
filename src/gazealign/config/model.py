"""The ``[model]`` table: architecture, weights, preprocessing and fine-tuning."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt

from gazealign.config.base import Section


class TrainSection(Section):
    epochs: PositiveInt = Field(20, description="Maximum number of training epochs.")
    batch_size: PositiveInt = Field(32, description="Training batch size.")
    learning_rate: PositiveFloat = Field(1e-4, description="Adam learning rate.")
    patience: PositiveInt = Field(
        5, description="Early stopping: epochs without validation improvement."
    )
    freeze: Literal["none", "conv", "all_but_last_block"] = Field(
        "none", description="Which layers stay frozen during fine-tuning."
    )
    augment: bool = Field(
        True, description="Use the thesis augmentation (flip, shift, zoom, shear, brightness)."
    )


class ModelSection(Section):
    architecture: Literal["vggface", "small_vgg"] = Field(
        "small_vgg", description="Network architecture."
    )
    head: Literal["original", "thesis"] = Field(
        "thesis", description="VGG-Face head: original 4096-4096, or the thesis' 512-512."
    )
    width: PositiveFloat = Field(
        0.25, description="Width multiplier of `small_vgg` (1.0 = VGG16 channels)."
    )
    weights: Path | None = Field(
        None,
        description="Pretrained weights (.pth state dict, Keras .h5, or a gazealign .safetensors checkpoint).",
    )
    preprocessing: Literal["vggface", "thesis"] = Field(
        "thesis", description="Input preprocessing preset: VGG-Face mean subtraction, or x/255."
    )
    train: TrainSection = Field(default_factory=TrainSection)
