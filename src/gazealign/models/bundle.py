"""A network with everything needed to use it correctly: labels, preprocessing, input range.

Every model-in-the-loop function (train, explain, perturb) takes a :class:`ModelBundle`, so the
preprocessing and the input range (LRP box bounds) always travel with the weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from gazealign.types import LABELS

#: Mean RGB of the VGG-Face training set (Parkhi et al. 2015), 0-255 scale.
VGGFACE_MEAN_RGB: tuple[float, float, float] = (129.1863, 104.7624, 93.5940)

#: Preprocessing presets: name -> (per-channel offset, scale) with x_model = (x_255 - offset) * scale.
PREPROCESSING: dict[str, tuple[tuple[float, float, float], float]] = {
    "vggface": (VGGFACE_MEAN_RGB, 1.0),  # RGB 0-255 minus the VGG-Face mean
    "thesis": ((0.0, 0.0, 0.0), 1.0 / 255.0),  # x/255, what the seed study did
}


@dataclass
class ModelBundle:
    """A network, its class labels (in output order) and its preprocessing preset."""

    model: nn.Module
    preprocessing: str
    input_size_px: int
    labels: tuple[str, ...] = LABELS
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.preprocessing not in PREPROCESSING:
            raise ValueError(
                f"unknown preprocessing {self.preprocessing!r}; presets: {sorted(PREPROCESSING)}"
            )

    def preprocess(self, images: npt.NDArray[np.uint8] | torch.Tensor) -> torch.Tensor:
        """(N, H, W, 3) uint8 RGB -> (N, 3, H, W) float32 model input."""
        x = torch.as_tensor(np.asarray(images) if not isinstance(images, torch.Tensor) else images)
        if x.ndim != 4 or x.shape[-1] != 3:
            raise ValueError(f"images must be (N, H, W, 3) RGB, got shape {tuple(x.shape)}")
        offset, scale = PREPROCESSING[self.preprocessing]
        x = x.to(torch.float32).permute(0, 3, 1, 2)
        return (x - torch.tensor(offset).view(1, 3, 1, 1)) * scale

    def input_bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Lowest and highest model-input value per channel, shape (1, 3, 1, 1) each.

        These are the images 0 and 255 preprocessed: the box bounds of LRP's z^B rule.
        """
        offset, scale = PREPROCESSING[self.preprocessing]
        off = torch.tensor(offset).view(1, 3, 1, 1)
        return (0.0 - off) * scale, (255.0 - off) * scale
