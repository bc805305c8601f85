"""Small networks for the explain tests (shared by test_explain_*.py in this folder)."""

from __future__ import annotations

import torch
from torch import nn

from gazealign.models.bundle import ModelBundle


def small_vgg(
    seed: int = 0, *, width: int = 4, size_px: int = 16, bias: bool = True
) -> nn.Sequential:
    """VGG-shaped: two conv blocks (conv-ReLU-conv-ReLU-maxpool), then two dense layers, 7 logits."""
    torch.manual_seed(seed)
    w = width
    net = nn.Sequential(
        nn.Conv2d(3, w, 3, padding=1, bias=bias),
        nn.ReLU(),
        nn.Conv2d(w, w, 3, padding=1, bias=bias),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(w, 2 * w, 3, padding=1, bias=bias),
        nn.ReLU(),
        nn.Conv2d(2 * w, 2 * w, 3, padding=1, bias=bias),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2 * w * (size_px // 4) ** 2, 16, bias=bias),
        nn.ReLU(),
        nn.Linear(16, 7, bias=bias),
    )
    return net


def bundle(model: nn.Module, *, size_px: int = 16, preprocessing: str = "vggface") -> ModelBundle:
    return ModelBundle(model=model, preprocessing=preprocessing, input_size_px=size_px)
