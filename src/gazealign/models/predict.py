"""Batched inference: logits for uint8 images, optionally in bfloat16 and channels-last.

On CPUs with AVX-512 bf16 (e.g. AMD Zen 4/5) VGG16 runs about 3x faster with bf16 weights and
channels-last memory; ``benchmarks/forward_throughput.py`` measures the speed and how often the
predicted class agrees with float32 (``benchmarks/RESULTS.md``). float32 is the default.
"""

from __future__ import annotations

import copy

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from gazealign.models.bundle import ModelBundle
from gazealign.models.device import model_device


def inference_model(
    model: nn.Module, *, bf16: bool = False, channels_last: bool = False
) -> nn.Module:
    """An eval-mode copy of ``model`` in the requested dtype / memory format (``model`` untouched)."""
    net = copy.deepcopy(model).eval()
    if bf16:
        net = net.to(torch.bfloat16)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    return net


def predict(
    bundle: ModelBundle,
    images_uint8: npt.NDArray[np.uint8],
    *,
    batch_size: int = 64,
    bf16: bool = False,
    channels_last: bool = False,
) -> npt.NDArray[np.float32]:
    """Logits (N, classes) float32 for (N, S, S, 3) uint8 RGB model-input images.

    Runs in eval mode (no dropout) and without gradients, ``batch_size`` images at a time.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    images = np.asarray(images_uint8)
    size = bundle.input_size_px
    if images.ndim != 4 or images.shape[1:] != (size, size, 3):
        raise ValueError(f"images must be (N, {size}, {size}, 3) uint8, got {images.shape}")
    simple = not bf16 and not channels_last
    net = (
        bundle.model
        if simple
        else inference_model(bundle.model, bf16=bf16, channels_last=channels_last)
    )
    was_training = net.training
    device = model_device(net)
    net.eval()
    out = []
    try:
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                x = bundle.preprocess(images[start : start + batch_size]).to(device)
                if bf16:
                    x = x.to(torch.bfloat16)
                if channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                out.append(net(x).float().cpu())
    finally:
        net.train(was_training)
    if not out:
        return np.zeros((0, len(bundle.labels)), dtype=np.float32)
    return torch.cat(out).numpy()
