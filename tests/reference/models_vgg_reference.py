"""Independent VGG16 forward passes written from each weight file's own layout.

Used to prove that gazealign's loaders map every tensor correctly: the reference never goes
through gazealign's model or readers.

* :func:`keras_forward_numpy`: NumPy, float64, NHWC images, HWIO kernels, (in, out) dense
  kernels, Keras' (H, W, C) flatten, BGR input channel order (what the rcmalli VGG-Face expects).
* :func:`pth_forward_functional`: ``torch.nn.functional`` in float64 on the raw state dict of a
  ``vgg_face_dag.pth`` (NCHW, OIHW, (C, H, W) flatten, RGB).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F

VGG16_CONVS = [
    ("conv1_1", 3, 64), ("conv1_2", 64, 64),
    ("conv2_1", 64, 128), ("conv2_2", 128, 128),
    ("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256),
    ("conv4_1", 256, 512), ("conv4_2", 512, 512), ("conv4_3", 512, 512),
    ("conv5_1", 512, 512), ("conv5_2", 512, 512), ("conv5_3", 512, 512),
]  # fmt: skip
POOL_AFTER = {"conv1_2", "conv2_2", "conv3_3", "conv4_3", "conv5_3"}

Arr = npt.NDArray[np.float64]


def _conv3x3_same_nhwc(x: Arr, kernel_hwio: Arr, bias: Arr) -> Arr:
    """Cross-correlation ('same', zero padding) as Keras Conv2D computes it, one image (H, W, C)."""
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(0, 1))  # H, W, C, 3, 3
    return np.tensordot(windows, kernel_hwio, axes=([3, 4, 2], [0, 1, 2])) + bias


def _maxpool2_nhwc(x: Arr) -> Arr:
    h, w, c = x.shape
    return x[: h // 2 * 2, : w // 2 * 2].reshape(h // 2, 2, w // 2, 2, c).max(axis=(1, 3))


def keras_forward_numpy(
    image_bgr_hwc: Arr, layers: dict[str, tuple[Arr, Arr]], dense: list[str]
) -> Arr:
    """Conv stack (and the dense layers named in ``dense``, in order) on one BGR (H, W, 3) image."""
    x = image_bgr_hwc.astype(np.float64)
    for name, _, _ in VGG16_CONVS:
        k, b = layers[name]
        x = np.maximum(_conv3x3_same_nhwc(x, k.astype(np.float64), b.astype(np.float64)), 0.0)
        if name in POOL_AFTER:
            x = _maxpool2_nhwc(x)
    return keras_dense_numpy(x, layers, dense) if dense else x  # (7, 7, 512): the notop output


def keras_dense_numpy(
    features_hwc: Arr, layers: dict[str, tuple[Arr, Arr]], dense: list[str]
) -> Arr:
    """Keras Flatten ((H, W, C) order) and the dense layers ``dense`` (ReLU between them)."""
    x = features_hwc.reshape(-1)
    for i, name in enumerate(dense):
        k, b = layers[name]
        x = x @ k.astype(np.float64) + b.astype(np.float64)
        if i < len(dense) - 1:
            x = np.maximum(x, 0.0)
    return x


def pth_forward_functional(
    image_rgb_chw: torch.Tensor, state: dict[str, torch.Tensor]
) -> torch.Tensor:
    """VGG-Face on one preprocessed RGB (3, H, W) image from a raw ``vgg_face_dag`` state dict."""
    x = image_rgb_chw.to(torch.float64).unsqueeze(0)
    for name, _, _ in VGG16_CONVS:
        w, b = state[f"{name}.weight"].double(), state[f"{name}.bias"].double()
        x = F.relu(F.conv2d(x, w, b, padding=1))
        if name in POOL_AFTER:
            x = F.max_pool2d(x, 2, 2)
    x = x.reshape(1, -1)
    for name in ("fc6", "fc7", "fc8"):
        x = F.linear(x, state[f"{name}.weight"].double(), state[f"{name}.bias"].double())
        if name != "fc8":
            x = F.relu(x)
    return x[0]
