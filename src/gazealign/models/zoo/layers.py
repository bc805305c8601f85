"""Layers the ported networks share: TensorFlow's ``same`` padding, separable convs, sums.

TensorFlow pads ``same`` convolutions and poolings asymmetrically when the total padding is odd
(the extra row and column go at the bottom and right), and by an amount that depends on the
input size; PyTorch's symmetric ``padding=`` cannot express that, so the padding is computed
per call here. Everything is a module or a linear functional (padding, indexing), so zennit's
rules attach to the convolutions and linear layers and the rest passes relevance on unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from zennit.layer import Sum


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding of TensorFlow's ``same`` for one axis of ``size`` pixels."""
    out = -(-size // stride)  # ceil
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad_same(x: torch.Tensor, kernel: int, stride: int, value: float = 0.0) -> torch.Tensor:
    """``x`` (N, C, H, W) padded as TensorFlow pads a ``same`` window of ``kernel`` / ``stride``."""
    top, bottom = same_padding(x.shape[2], kernel, stride)
    left, right = same_padding(x.shape[3], kernel, stride)
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom), value=value)


class SameConv2d(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow's ``same`` padding (asymmetric where TensorFlow's is)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = pad_same(x, self.kernel_size[0], self.stride[0])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class SameMaxPool2d(nn.MaxPool2d):
    """``nn.MaxPool2d`` with TensorFlow's ``same`` padding (padded cells never win: -inf)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.kernel_size if isinstance(self.kernel_size, int) else self.kernel_size[0]
        s = self.stride if isinstance(self.stride, int) else self.stride[0]
        return F.max_pool2d(pad_same(x, k, s, value=float("-inf")), k, s)


def separable(channels_in: int, channels_out: int, *, stride: int, bias: bool) -> nn.Sequential:
    """A depthwise-separable convolution as two convolutions: depthwise 3x3, then pointwise 1x1.

    Two real conv modules (not one fused op) so that LRP rules apply to each, and a batch norm
    that follows merges into the pointwise one.
    """
    return nn.Sequential(
        SameConv2d(channels_in, channels_in, 3, stride=stride, groups=channels_in, bias=False),
        nn.Conv2d(channels_in, channels_out, 1, bias=bias),
    )


class AddN(nn.Module):
    """Elementwise sum of branches, through zennit's ``Sum`` layer.

    zennit's composites give ``Sum`` the normalisation rule: relevance is split between the
    branches in proportion to their contributions, so a residual or dense connection conserves
    relevance instead of copying the full amount into every branch (what plain gradient routing
    through ``a + b`` does).
    """

    def __init__(self) -> None:
        super().__init__()
        self.sum = Sum(dim=-1)

    def forward(self, *branches: torch.Tensor) -> torch.Tensor:
        return self.sum(torch.stack(branches, dim=-1))


class Reorder(nn.Module):
    """Output columns reordered (a permutation): original class order -> gazealign's."""

    order: torch.Tensor

    def __init__(self, order: list[int]) -> None:
        super().__init__()
        self.register_buffer("order", torch.tensor(order, dtype=torch.int64), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.order]
