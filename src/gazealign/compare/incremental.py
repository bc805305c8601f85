"""Incremental inference for occlusion sequences: recompute only where the input changed.

Krypton (Nakandala, Kumar & Papakonstantinou 2019, "Incremental and approximate inference for
faster occlusion-based deep CNN explanations", SIGMOD): when an input differs from one already
run only inside a small box, each convolution's output can change only inside that box grown by
the kernel's reach, and each 2x2 pool halves it. Recomputing just that region, layer by layer,
and reusing the cached activations everywhere else gives the same output as a full forward
(exact up to floating-point rounding: a convolution summed over a patch may round differently
from one over the whole map).

Consecutive steps of a perturbation order differ in one tile, so every step is run as an
increment on the previous step of the same order. The network is split into

* *window stages*: a ``Conv2d`` (zero padding) or ``MaxPool2d`` (no ceil mode) followed by any
  number of position-independent element-wise modules (ReLU and friends, eval-mode BatchNorm and
  Dropout, Identity), which are applied to the recomputed patch only;
* the *tail*: the first module of any other kind and everything after it (``Flatten`` and the
  classifier), run in full on the cached feature map.

Each window stage keeps its full input, already padded (zeros for a convolution, -inf for a
pool), for every chain (order) in the batch. A step finds the changed box of the input by
comparing it with the previous one (so callers need not say where it changed), maps the box
through each stage, recomputes one equal-sized window per chain (clamped inside the map, so the
chains batch into one call) and writes it into the next stage's cache. Where the window would
cover at least ``full_fraction`` of a stage's output, that stage is run on its whole cached
input instead (the changed region has grown to the whole map).

``threshold`` (off by default, and not offered in the study file) is Krypton's approximate
projective-field thresholding (:func:`truncated`). It was measured and rejected for this engine:
because the steps of an order are chained, what a cut leaves stale stays stale for the rest of
the order. On the demo's trained network, a threshold of 0.75 saved 15 % of the convolution work
but moved AUCs by up to 0.16 and changed 13 % of the predicted classes
(``benchmarks/projective_threshold.py``).

Why by hand: no maintained library offers exact incremental CNN inference for PyTorch (Krypton's
code is a research prototype on an old framework).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: Element-wise modules whose output at a position depends only on the input at that position.
POINTWISE: tuple[type[nn.Module], ...] = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Sigmoid,
    nn.Tanh,
    nn.Identity,
    nn.Dropout,
    nn.BatchNorm2d,
)


@dataclass
class WindowStage:
    """One sliding-window operation (conv or max-pool, or identity) and the element-wise modules
    after it. Sizes are (rows, cols)."""

    op: nn.Module | None  # None: an identity window (element-wise modules before any conv)
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    pad_value: float = 0.0
    post: list[nn.Module] = field(default_factory=list)

    def out_size(self, size: tuple[int, int]) -> tuple[int, int]:
        return (self._out(size[0], 0), self._out(size[1], 1))

    def _out(self, n: int, a: int) -> int:
        reach = self.dilation[a] * (self.kernel[a] - 1)
        return (n + 2 * self.padding[a] - reach - 1) // self.stride[a] + 1

    def changed(self, lo: int, hi: int, n_out: int, a: int) -> tuple[int, int]:
        """Output indices [lo', hi') that read any input index in [lo, hi) along axis ``a``."""
        if hi <= lo:
            return 0, 0
        k, s, p, d = self.kernel[a], self.stride[a], self.padding[a], self.dilation[a]
        first = max(0, -(-(lo + p - (k - 1) * d) // s))
        last = min(n_out - 1, (hi - 1 + p) // s)
        return (first, last + 1) if last >= first else (0, 0)

    def in_span(self, n_out: int, a: int) -> int:
        """Padded-input extent that ``n_out`` consecutive outputs read along axis ``a``."""
        return (n_out - 1) * self.stride[a] + (self.kernel[a] - 1) * self.dilation[a] + 1

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """The operation on an already padded input, then the element-wise modules."""
        if isinstance(self.op, nn.Conv2d):
            y = F.conv2d(
                x, self.op.weight, self.op.bias, self.stride, 0, self.dilation, self.op.groups
            )
        elif isinstance(self.op, nn.MaxPool2d):
            y = F.max_pool2d(x, self.kernel, self.stride, 0, self.dilation)
        else:
            y = x
        for module in self.post:
            y = module(y)
        return y


def _pair(v: int | tuple[int, ...]) -> tuple[int, int]:
    if isinstance(v, int):
        return (v, v)
    return (int(v[0]), int(v[1]))


def _window(module: nn.Module) -> WindowStage | None:
    if isinstance(module, nn.Conv2d):
        if module.padding_mode != "zeros" or isinstance(module.padding, str):
            return None
        return WindowStage(
            module,
            kernel=_pair(module.kernel_size),
            stride=_pair(module.stride),
            padding=_pair(module.padding),
            dilation=_pair(module.dilation),
        )
    if isinstance(module, nn.MaxPool2d):
        if module.ceil_mode or module.return_indices:
            return None
        return WindowStage(
            module,
            kernel=_pair(module.kernel_size),
            stride=_pair(module.stride if module.stride is not None else module.kernel_size),
            padding=_pair(module.padding),
            dilation=_pair(module.dilation),
            pad_value=float("-inf"),
        )
    return None


def layer_sequence(model: nn.Module) -> list[nn.Module] | None:
    """The modules a chain-shaped model runs, in order: a VGG's ``layer_names`` or an
    ``nn.Sequential``'s children; None for any other model (it is run in full)."""
    names = getattr(model, "layer_names", None)
    if isinstance(names, tuple | list) and all(isinstance(n, str) for n in names):
        return [getattr(model, n) for n in names]
    if isinstance(model, nn.Sequential):
        return list(model)
    return None


def split_model(model: nn.Module) -> tuple[list[WindowStage], list[nn.Module]] | None:
    """(window stages, tail) of an eval-mode chain model; None when nothing can be incremental."""
    layers = layer_sequence(model)
    if layers is None or model.training:
        return None
    stages: list[WindowStage] = []
    for i, module in enumerate(layers):
        window = _window(module)
        if window is not None:
            stages.append(window)
        elif isinstance(module, POINTWISE) and not module.training:
            if not stages:
                stages.append(WindowStage(None))
            stages[-1].post.append(module)
        else:
            return (stages, layers[i:]) if any(s.op is not None for s in stages) else None
    return (stages, []) if any(s.op is not None for s in stages) else None


def _nhwc(x: torch.Tensor) -> torch.Tensor:
    """(B, H, W, C) view of a channels-last (B, C, H, W) tensor (no copy)."""
    return x.permute(0, 2, 3, 1)


Box = tuple[int, int, int, int]  # rows [r0, r1), cols [c0, c1); empty when r1 <= r0


def changed_boxes(new: torch.Tensor, old: torch.Tensor) -> list[Box]:
    """Per batch element, the bounding box of the positions where ``new`` and ``old`` differ."""
    diff = (new != old).any(dim=1)  # (B, H, W)
    rows, cols = diff.any(dim=2), diff.any(dim=1)
    boxes: list[Box] = []
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        if not any(r):
            boxes.append((0, 0, 0, 0))
            continue
        r0, r1 = r.index(True), len(r) - r[::-1].index(True)
        c0, c1 = c.index(True), len(c) - c[::-1].index(True)
        boxes.append((r0, r1, c0, c1))
    return boxes


def truncated(box: Box, size: tuple[int, int], threshold: float) -> Box:
    """Krypton's projective-field thresholding: a changed box longer than ``threshold`` of its
    map along an axis is cut to that length (at least 1) about its centre, inside the map.

    Approximate: outside the cut box the previous step's activations are kept, although they
    would have changed (Nakandala et al. 2019, section 4.1).
    """
    out: list[int] = []
    for lo, hi, n in ((box[0], box[1], size[0]), (box[2], box[3], size[1])):
        cap = max(1, int(np.ceil(threshold * n)))
        if hi - lo > cap:
            lo = min(max(0, int(np.floor((lo + hi - cap) / 2))), n - cap)
            hi = lo + cap
        out.extend((lo, hi))
    return (out[0], out[1], out[2], out[3])


def _macs_per_output(stage: WindowStage) -> int:
    """Multiply-adds per output position of a stage (0 for pooling and element-wise stages)."""
    if not isinstance(stage.op, nn.Conv2d):
        return 0
    w = stage.op.weight
    return int(w.shape[0] * w[0].numel())


class IncrementalForward:
    """Runs batches of chains (B sequences of inputs, each differing from its predecessor in a
    small region) through ``model``, recomputing only what changed.

    ``start(x0, chains)`` runs the shared first input (1, C, H, W) in full and returns its
    output; each ``step(x)`` with (chains, C, H, W) inputs returns the outputs (chains, ...) and
    makes ``x`` the new predecessor of each chain. Call under ``torch.inference_mode()``.
    Build with :meth:`for_model`, which returns None for models it cannot split.
    """

    def __init__(
        self,
        stages: list[WindowStage],
        tail: list[nn.Module],
        *,
        full_fraction: float = 0.75,
        threshold: float | None = None,
    ) -> None:
        if threshold is not None and not 0 < threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.stages = stages
        self.tail = tail
        self.full_fraction = full_fraction
        self.threshold = threshold
        self._caches: list[torch.Tensor] = []  # padded input of each stage
        self._sizes: list[tuple[int, int]] = []  # unpadded input size of each stage
        self._features: torch.Tensor | None = None  # output of the last stage
        self._outputs: torch.Tensor | None = None
        self._x: torch.Tensor | None = None
        #: Convolution multiply-adds done so far (start and steps, every chain); compare with
        #: :meth:`conv_macs` x outputs for the share of a full forward's work an increment does.
        self.conv_macs_done = 0

    @classmethod
    def for_model(
        cls, model: nn.Module, *, full_fraction: float = 0.75, threshold: float | None = None
    ) -> IncrementalForward | None:
        parts = split_model(model)
        if parts is None:
            return None
        return cls(*parts, full_fraction=full_fraction, threshold=threshold)

    def conv_macs(self, size: tuple[int, int]) -> int:
        """Multiply-adds of the convolutions for one (rows, cols) input, in full."""
        total = 0
        for stage in self.stages:
            out = stage.out_size(size)
            total += _macs_per_output(stage) * out[0] * out[1]
            size = out
        return total

    # --- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _fmt(x: torch.Tensor) -> torch.Tensor:
        # Caches are channels-last: a window of a (B, H, W, C) map is a few long runs.
        return x.contiguous(memory_format=torch.channels_last)

    def _padded(self, stage: WindowStage, x: torch.Tensor) -> torch.Tensor:
        pr, pc = stage.padding
        if pr == 0 and pc == 0:
            return self._fmt(x.clone())
        return self._fmt(F.pad(x, (pc, pc, pr, pr), value=stage.pad_value))

    def _run_tail(self, x: torch.Tensor) -> torch.Tensor:
        for module in self.tail:
            x = module(x)
        return x

    # --- public -------------------------------------------------------------------------------

    def start(self, x0: torch.Tensor, chains: int) -> torch.Tensor:
        """Full forward of the shared first input; every chain starts from its activations."""
        if x0.ndim != 4 or x0.shape[0] != 1:
            raise ValueError(f"the first input must be (1, C, H, W), got {tuple(x0.shape)}")
        self._caches, self._sizes = [], []
        x = x0
        for stage in self.stages:
            self._sizes.append((x.shape[2], x.shape[3]))
            padded = self._padded(stage, x)
            self._caches.append(self._fmt(padded.expand(chains, -1, -1, -1).clone()))
            x = stage.apply(padded)
            self.conv_macs_done += _macs_per_output(stage) * x.shape[2] * x.shape[3]
        self._features = self._fmt(x.expand(chains, -1, -1, -1).clone())
        out = self._run_tail(x)
        self._outputs = out.expand(chains, *out.shape[1:]).clone()
        self._x = x0.expand(chains, -1, -1, -1).clone()
        return out

    def step(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs for the next input of every chain (only the changed regions are recomputed)."""
        if self._x is None or self._features is None or self._outputs is None:
            raise RuntimeError("call start() before step()")
        if x.shape != self._x.shape:
            raise ValueError(f"step inputs must be {tuple(self._x.shape)}, got {tuple(x.shape)}")
        boxes = changed_boxes(x, self._x)
        self._x = x.clone()
        if all(b[1] <= b[0] for b in boxes):
            return self._outputs.clone()
        # The first stage's cache takes the new inputs whole (cheap: the image itself).
        first = self.stages[0]
        pr, pc = first.padding
        h, w = self._sizes[0]
        self._caches[0][:, :, pr : pr + h, pc : pc + w] = x
        for i, stage in enumerate(self.stages):
            boxes = self._advance(i, stage, boxes)
        live = [b for b, box in enumerate(boxes) if box[1] > box[0]]
        if live:
            out = self._run_tail(self._features[live])
            self._outputs[live] = out
        return self._outputs.clone()

    def _advance(self, i: int, stage: WindowStage, boxes: list[Box]) -> list[Box]:
        """Recompute stage ``i`` where its input changed; return the changed output boxes."""
        n_rows, n_cols = stage.out_size(self._sizes[i])
        out_boxes = [
            (*stage.changed(b[0], b[1], n_rows, 0), *stage.changed(b[2], b[3], n_cols, 1))
            for b in boxes
        ]
        if self.threshold is not None:
            out_boxes = [truncated(box, (n_rows, n_cols), self.threshold) for box in out_boxes]
        live = [b for b, box in enumerate(out_boxes) if box[1] > box[0] and box[3] > box[2]]
        out_boxes = [box if j in live else (0, 0, 0, 0) for j, box in enumerate(out_boxes)]
        if not live:
            return out_boxes
        target, (qr, qc) = self._target(i)
        cache = self._caches[i]
        wr = max(out_boxes[b][1] - out_boxes[b][0] for b in live)
        wc = max(out_boxes[b][3] - out_boxes[b][2] for b in live)
        in_full = wr * wc >= self.full_fraction * n_rows * n_cols
        area = n_rows * n_cols if in_full else wr * wc
        self.conv_macs_done += _macs_per_output(stage) * len(live) * area
        if in_full:
            y = stage.apply(cache[live] if len(live) < cache.shape[0] else cache)
            target[live, :, qr : qr + n_rows, qc : qc + n_cols] = y
            return out_boxes
        # One gather and one scatter for all chains (advanced indexing on the channels-last
        # view): many small copies are slow when the cores are shared.
        span_r, span_c = stage.in_span(wr, 0), stage.in_span(wc, 1)
        r0 = np.array([min(out_boxes[b][0], n_rows - wr) for b in live])
        c0 = np.array([min(out_boxes[b][2], n_cols - wc) for b in live])
        chains = torch.from_numpy(np.array(live)[:, None, None])
        rows_in = torch.from_numpy(
            (r0 * stage.stride[0])[:, None, None] + np.arange(span_r)[:, None]
        )
        cols_in = torch.from_numpy((c0 * stage.stride[1])[:, None, None] + np.arange(span_c))
        patch = _nhwc(cache)[chains, rows_in, cols_in].permute(0, 3, 1, 2)
        y = stage.apply(patch)
        rows_out = torch.from_numpy((r0 + qr)[:, None, None] + np.arange(wr)[:, None])
        cols_out = torch.from_numpy((c0 + qc)[:, None, None] + np.arange(wc))
        _nhwc(target)[chains, rows_out, cols_out] = y.permute(0, 2, 3, 1)
        return out_boxes

    def _target(self, i: int) -> tuple[torch.Tensor, tuple[int, int]]:
        """Where stage ``i`` writes: the next stage's padded cache (and its padding) or the
        feature map before the tail."""
        if i + 1 < len(self.stages):
            return self._caches[i + 1], self.stages[i + 1].padding
        assert self._features is not None
        return self._features, (0, 0)
