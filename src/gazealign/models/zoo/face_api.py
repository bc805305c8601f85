"""face-api.js's FaceExpressionNet (@vladmandic/face-api 1.7.15), from its quantised tfjs weights.

The original (``src/faceFeatureExtractor/FaceFeatureExtractor.ts``, ``denseBlock.ts``,
``src/faceProcessor/FaceProcessor.ts``; MIT licence, Vincent Mühler's face-api.js as maintained
by Vladimir Mandic): input 112x112 RGB, ``(x - (122.782, 117.001, 104.298)) / 255`` (preset
``face_api``); four dense blocks (32, 64, 128, 256 channels), each::

    out1 = relu(conv0(x))                  # stride 2; a 3x3 conv in block 0, else separable
    out2 = conv1(out1)                     # separable 3x3 + bias, stride 1
    out3 = conv2(relu(out1 + out2))
    out4 = conv3(relu(out1 + out2 + out3))
    return relu(out1 + out2 + out3 + out4)

with TensorFlow ``same`` padding; then a 7x7 average pool (stride 2, valid) to 256 features and
a fully connected layer to 7 classes ``neutral, happy, sad, angry, fearful, disgusted,
surprised`` (``FACE_EXPRESSION_LABELS``) and a softmax, left out here (logits are explained).

The weights are ``model/face_expression_model-weights_manifest.json`` and
``model/face_expression_model.bin`` of the npm package: the manifest lists tensors in file
order; kernels are stored as uint8 with a per-tensor ``scale`` and ``min``
(value = q * scale + min, tfjs' affine dequantisation), biases as float32.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gazealign.errors import DataError
from gazealign.models.zoo.layers import AddN, Reorder, SameConv2d
from gazealign.models.zoo.registry import Package, PackageFile, ZooNet, register

MANIFEST = PackageFile(
    "package/model/face_expression_model-weights_manifest.json",
    "5b349c17c7836da506e03422cd6461c74085d8bb2713ad4114647dc5d28174c8",
)
BINARY = PackageFile(
    "package/model/face_expression_model.bin",
    "9a9840f2cf1f4c7eab95f197512569345c00d2426754d4608b92af30e0300f3d",
)
#: The package's classes in its output order, as gazealign names them.
LABELS_AS = {
    "neutral": "neutral",
    "happy": "happy",
    "sad": "sad",
    "angry": "angry",
    "fearful": "afraid",
    "disgusted": "disgusted",
    "surprised": "surprised",
}
CHANNELS = (32, 64, 128, 256)
DTYPES = {"float32": (np.float32, 4), "uint8": (np.uint8, 1), "uint16": (np.uint16, 2)}


class Separable(nn.Sequential):
    """tfjs ``separableConv2d(x, depthwise, pointwise, stride, 'same')`` + bias."""

    def __init__(self, channels_in: int, channels_out: int, stride: int) -> None:
        super().__init__(
            SameConv2d(channels_in, channels_in, 3, stride=stride, groups=channels_in, bias=False),
            nn.Conv2d(channels_in, channels_out, 1, bias=True),
        )


class DenseBlock4(nn.Module):
    """``denseBlock4`` of face-api.js (see the module docstring)."""

    def __init__(self, channels_in: int, channels_out: int, *, first: bool) -> None:
        super().__init__()
        self.conv0: nn.Module = (
            SameConv2d(channels_in, channels_out, 3, stride=2, bias=True)
            if first
            else Separable(channels_in, channels_out, 2)
        )
        self.conv1 = Separable(channels_out, channels_out, 1)
        self.conv2 = Separable(channels_out, channels_out, 1)
        self.conv3 = Separable(channels_out, channels_out, 1)
        self.relu0, self.relu1, self.relu2, self.relu3 = (nn.ReLU() for _ in range(4))
        self.add2, self.add3, self.add4 = AddN(), AddN(), AddN()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out1 = self.relu0(self.conv0(x))
        out2 = self.conv1(out1)
        out3 = self.conv2(self.relu1(self.add2(out1, out2)))
        out4 = self.conv3(self.relu2(self.add3(out1, out2, out3)))
        return self.relu3(self.add4(out1, out2, out3, out4))


class FaceExpressionNet(nn.Module):
    """FaceExpressionNet of face-api.js; logits in gazealign's order."""

    def __init__(self, order: list[int]) -> None:
        super().__init__()
        ins = (3, *CHANNELS[:-1])
        self.dense0 = DenseBlock4(ins[0], CHANNELS[0], first=True)
        self.dense1 = DenseBlock4(ins[1], CHANNELS[1], first=False)
        self.dense2 = DenseBlock4(ins[2], CHANNELS[2], first=False)
        self.dense3 = DenseBlock4(ins[3], CHANNELS[3], first=False)
        self.pool = nn.AvgPool2d(7, 2)
        self.fc = nn.Linear(CHANNELS[-1], 7)
        self.reorder = Reorder(order)

    def forward_original(self, x: torch.Tensor) -> torch.Tensor:
        """Logits in the package's class order."""
        x = self.dense3(self.dense2(self.dense1(self.dense0(x))))
        return self.fc(self.pool(x).flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.reorder(self.forward_original(x))


def read_tfjs(manifest_path: Path, binary_path: Path) -> dict[str, np.ndarray]:
    """tfjs weights (one manifest group, one shard) as ``name -> float32 array`` (dequantised)."""
    try:
        groups: Any = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
        entries = [w for g in groups for w in g["weights"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{manifest_path}: not a tfjs weights manifest ({exc})") from None
    data = Path(binary_path).read_bytes()
    out: dict[str, np.ndarray] = {}
    offset = 0
    for entry in entries:
        shape = tuple(int(s) for s in entry["shape"])
        count = int(np.prod(shape)) if shape else 1
        quant = entry.get("quantization")
        stored = quant["dtype"] if quant else entry["dtype"]
        if stored not in DTYPES:
            raise DataError(f"{manifest_path}: tensor {entry['name']!r} has dtype {stored!r}")
        np_dtype, size = DTYPES[stored]
        end = offset + count * size
        if end > len(data):
            raise DataError(
                f"{binary_path}: ends at byte {len(data)}, {entry['name']!r} needs {end}"
            )
        values = np.frombuffer(data[offset:end], dtype=np_dtype).astype(np.float32)
        if quant:
            values = values * np.float32(quant["scale"]) + np.float32(quant["min"])
        out[entry["name"]] = values.reshape(shape)
        offset = end
    if offset != len(data):
        raise DataError(
            f"{binary_path}: {len(data) - offset} bytes left after the manifest's tensors"
        )
    return out


def _t(a: np.ndarray, *axes: int) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a.transpose(*axes) if axes else a))


def read(paths: Mapping[str, Path]) -> dict[str, torch.Tensor]:
    w = read_tfjs(paths[MANIFEST.member], paths[BINARY.member])
    t: dict[str, torch.Tensor] = {}
    try:
        for b in range(4):
            for c in range(4):
                key, mod = f"dense{b}/conv{c}", f"dense{b}.conv{c}"
                if b == 0 and c == 0:
                    t[f"{mod}.weight"] = _t(w[f"{key}/filters"], 3, 2, 0, 1)  # HWIO -> OIHW
                    t[f"{mod}.bias"] = _t(w[f"{key}/bias"])
                    continue
                t[f"{mod}.0.weight"] = _t(w[f"{key}/depthwise_filter"], 2, 3, 0, 1)
                t[f"{mod}.1.weight"] = _t(w[f"{key}/pointwise_filter"], 3, 2, 0, 1)
                t[f"{mod}.1.bias"] = _t(w[f"{key}/bias"])
        t["fc.weight"] = _t(w["fc/weights"], 1, 0)
        t["fc.bias"] = _t(w["fc/bias"])
    except KeyError as exc:
        raise DataError(f"{paths[MANIFEST.member]}: tensor {exc} missing") from None
    return t


NET = register(
    ZooNet(
        name="face_api",
        description="face-api.js 1.7.15 FaceExpressionNet: dense blocks of separable convs, 112x112 RGB",
        package=Package(
            registry="npm",
            name="@vladmandic/face-api",
            version="1.7.15",
            archive="vladmandic-face-api-1.7.15.tgz",
            sha256="0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031",
            license="MIT",
        ),
        files=(MANIFEST, BINARY),
        input_size_px=112,
        preprocessing="face_api",
        labels_as=LABELS_AS,
        module=FaceExpressionNet,
        read=read,
        layers=(
            "4 dense blocks (conv/separable 3x3 stride 2, 3 separable 3x3, dense sums, ReLU), "
            "avg pool 7, fc 7"
        ),
        reference=(
            "face-api.js (Vincent Mühler), maintained as @vladmandic/face-api, "
            "https://github.com/vladmandic/face-api"
        ),
    )
)
