"""LRP-epsilon in matrix form, written from the formula, in float64 numpy (no torch, no zennit).

Bach et al. 2015 / Montavon et al. 2019, eq. for the epsilon rule: for an affine layer
z_k = sum_j a_j w_jk + b_k,

    R_j = sum_k  a_j w_jk / (z_k + eps * sign(z_k))  R_k,

with sign(0) taken as +1 (zennit's stabiliser convention). ReLU passes relevance unchanged;
max-pooling sends each output's relevance to the input that won the max (winner-take-all, what
gradient routing does). Every layer is an explicit dense matrix built by loops from the layer's
definition, so nothing is shared with the implementation under test. The output relevance is the
one-hot target times the logits.

Layers are given as plain dicts: {"type": "linear", "w": (out, in), "b": (out,)},
{"type": "conv", "w": (O, C, kh, kw), "b": (O,), "stride": s, "padding": p},
{"type": "relu"}, {"type": "maxpool", "size": k, "stride": s}, {"type": "flatten"}.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


def conv_matrix(
    w: F64, in_shape: tuple[int, int, int], stride: int, padding: int
) -> tuple[F64, tuple[int, int, int]]:
    """Dense matrix of a 2-D convolution (cross-correlation) on a (C, H, W) input, flattened C-order."""
    n_out, n_in, kh, kw = w.shape
    c, h, wd = in_shape
    assert c == n_in
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (wd + 2 * padding - kw) // stride + 1
    mat = np.zeros((n_out * oh * ow, c * h * wd))
    for o in range(n_out):
        for i in range(oh):
            for j in range(ow):
                row = (o * oh + i) * ow + j
                for ci in range(c):
                    for di in range(kh):
                        for dj in range(kw):
                            p = i * stride - padding + di
                            q = j * stride - padding + dj
                            if 0 <= p < h and 0 <= q < wd:
                                mat[row, (ci * h + p) * wd + q] += w[o, ci, di, dj]
    return mat, (n_out, oh, ow)


def maxpool_matrix(
    a: F64, in_shape: tuple[int, int, int], size: int, stride: int
) -> tuple[F64, tuple[int, int, int]]:
    """0/1 matrix sending each pooled output to the first input holding its window's maximum."""
    c, h, wd = in_shape
    oh = (h - size) // stride + 1
    ow = (wd - size) // stride + 1
    x = a.reshape(in_shape)
    mat = np.zeros((c * oh * ow, c * h * wd))
    for ci in range(c):
        for i in range(oh):
            for j in range(ow):
                window = x[ci, i * stride : i * stride + size, j * stride : j * stride + size]
                di, dj = np.unravel_index(int(np.argmax(window)), window.shape)
                p, q = i * stride + di, j * stride + dj
                mat[(ci * oh + i) * ow + j, (ci * h + p) * wd + q] = 1.0
    return mat, (c, oh, ow)


def stabilise(z: F64, eps: float) -> F64:
    return z + eps * np.where(z >= 0, 1.0, -1.0)


def lrp_epsilon(layers: list[dict[str, Any]], x: F64, target: int, eps: float) -> tuple[F64, F64]:
    """(logits, input relevance shaped like ``x``) for one input ``x`` (C, H, W) or (D,)."""
    shape: tuple[int, ...] = x.shape
    a = x.reshape(-1).astype(np.float64)
    # Forward: remember, per layer, (kind, matrix, bias, input activation).
    tape: list[tuple[str, F64 | None, F64 | None, F64]] = []
    for layer in layers:
        kind = layer["type"]
        if kind == "linear":
            mat, b = layer["w"], layer["b"]
            tape.append(("affine", mat, b, a))
            a = mat @ a + b
            shape = a.shape
        elif kind == "conv":
            mat, out_shape = conv_matrix(layer["w"], shape, layer["stride"], layer["padding"])  # type: ignore[arg-type]
            b = np.repeat(layer["b"], out_shape[1] * out_shape[2])
            tape.append(("affine", mat, b, a))
            a = mat @ a + b
            shape = out_shape
        elif kind == "relu":
            tape.append(("pass", None, None, a))
            a = np.maximum(a, 0.0)
        elif kind == "maxpool":
            mat, out_shape = maxpool_matrix(a, shape, layer["size"], layer["stride"])  # type: ignore[arg-type]
            tape.append(("route", mat, None, a))
            a = mat @ a
            shape = out_shape
        elif kind == "flatten":
            shape = a.shape
        else:
            raise ValueError(kind)
    logits = a.copy()
    relevance = np.zeros_like(logits)
    relevance[target] = logits[target]
    for kind, mat, b, a_in in reversed(tape):
        if kind == "affine":
            assert mat is not None and b is not None
            z = mat @ a_in + b
            relevance = a_in * (mat.T @ (relevance / stabilise(z, eps)))
        elif kind == "route":
            assert mat is not None
            relevance = mat.T @ relevance
        # "pass": ReLU leaves relevance unchanged.
    return logits, relevance.reshape(x.shape)


def layers_from_torch(model: Any) -> list[dict[str, Any]]:
    """The dict description of an nn.Sequential of Linear/Conv2d/ReLU/MaxPool2d/Flatten."""
    from torch import nn

    out: list[dict[str, Any]] = []
    for m in model:
        if isinstance(m, nn.Linear):
            out.append(
                {
                    "type": "linear",
                    "w": m.weight.detach().double().numpy(),
                    "b": m.bias.detach().double().numpy(),
                }
            )
        elif isinstance(m, nn.Conv2d):
            out.append(
                {
                    "type": "conv",
                    "w": m.weight.detach().double().numpy(),
                    "b": m.bias.detach().double().numpy(),
                    "stride": m.stride[0],
                    "padding": m.padding[0],
                }
            )
        elif isinstance(m, nn.ReLU):
            out.append({"type": "relu"})
        elif isinstance(m, nn.MaxPool2d):
            out.append({"type": "maxpool", "size": m.kernel_size, "stride": m.stride})
        elif isinstance(m, nn.Flatten):
            out.append({"type": "flatten"})
        else:
            raise TypeError(type(m))
    return out
