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

#: Mean RGB face-api.js subtracts before its face feature extractor (``FaceFeatureExtractor.ts``).
FACE_API_MEAN_RGB: tuple[float, float, float] = (122.782, 117.001, 104.298)

#: Preprocessing presets: name -> (per-channel offset, scale) with x_model = (x_255 - offset) * scale.
PREPROCESSING: dict[str, tuple[tuple[float, float, float], float]] = {
    "vggface": (VGGFACE_MEAN_RGB, 1.0),  # RGB 0-255 minus the VGG-Face mean
    "thesis": ((0.0, 0.0, 0.0), 1.0 / 255.0),  # x/255, what the seed study did
    # face-api.js: (RGB - mean) / 255
    "face_api": (FACE_API_MEAN_RGB, 1.0 / 255.0),
    # grey (ITU-R BT.601 luma, as OpenCV's BGR2GRAY and PIL's "L") / 255, then (g - 0.5) / 0.5:
    # PyEmotion's Normalize(0.5, 0.5) and fer's (g / 255 - 0.5) * 2 are the same map to [-1, 1]
    "grey_pm1": ((127.5, 127.5, 127.5), 1.0 / 127.5),
}

#: Presets whose model input is one grey channel (luma of the RGB image) instead of RGB.
GREY_PRESETS: frozenset[str] = frozenset({"grey_pm1"})

#: Luma weights (R, G, B) of ITU-R BT.601, what ``cv2.COLOR_BGR2GRAY`` and PIL's ``convert("L")`` use.
LUMA_RGB: tuple[float, float, float] = (0.299, 0.587, 0.114)


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

    @property
    def input_channels(self) -> int:
        """Channels of the model input: 1 for grey presets, else 3."""
        return 1 if self.preprocessing in GREY_PRESETS else 3

    def preprocess(self, images: npt.NDArray[np.uint8] | torch.Tensor) -> torch.Tensor:
        """(N, H, W, 3) uint8 RGB -> (N, C, H, W) float32 model input (C = input_channels)."""
        x = torch.as_tensor(np.asarray(images) if not isinstance(images, torch.Tensor) else images)
        if x.ndim != 4 or x.shape[-1] != 3:
            raise ValueError(f"images must be (N, H, W, 3) RGB, got shape {tuple(x.shape)}")
        return self.preprocess_float(x.to(torch.float32).permute(0, 3, 1, 2))

    def preprocess_float(self, x_255: torch.Tensor) -> torch.Tensor:
        """The preprocessing on (N, 3, H, W) float RGB in [0, 255] (augmented training batches).

        Grey presets take the BT.601 luma first. The originals convert a uint8 image to uint8
        grey and resize it; here the luma stays float (no rounding to integers).
        """
        offset, scale = PREPROCESSING[self.preprocessing]
        if self.preprocessing in GREY_PRESETS:
            luma = torch.tensor(LUMA_RGB, dtype=x_255.dtype, device=x_255.device)
            x_255 = (x_255 * luma.view(1, 3, 1, 1)).sum(dim=1, keepdim=True)
            off = torch.tensor(offset[:1], dtype=x_255.dtype, device=x_255.device).view(1, 1, 1, 1)
        else:
            off = torch.tensor(offset, dtype=x_255.dtype, device=x_255.device).view(1, 3, 1, 1)
        return (x_255 - off) * scale

    def input_bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Lowest and highest model-input value per channel, shape (1, C, 1, 1) each.

        These are the images 0 and 255 preprocessed: the box bounds of LRP's z^B rule.
        """
        black = torch.zeros((1, 3, 1, 1))
        return self.preprocess_float(black), self.preprocess_float(black + 255.0)
