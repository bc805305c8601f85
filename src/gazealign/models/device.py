"""Where a network runs: the ``study.device`` setting resolved to a torch device.

One rule for every stage that runs the network (train, explain, sanity checks, perturbation,
alignment sweep): ``cpu``, ``cuda`` (refused when torch sees no CUDA GPU; a study file naming
it is refused at load) or ``auto`` (CUDA when available, else CPU).
"""

from __future__ import annotations

import torch
from torch import nn

from gazealign.errors import GazeAlignError

DEVICES = ("auto", "cpu", "cuda")

#: Why 'cuda' is refused on a machine without a CUDA GPU.
NO_CUDA = (
    "'cuda' but this machine has no usable CUDA GPU (torch.cuda.is_available() is false); "
    "set 'auto' or 'cpu'"
)


def cuda_available() -> bool:
    """Whether torch sees a usable CUDA GPU (the one place gazealign asks)."""
    return torch.cuda.is_available()


def resolve_device(setting: str) -> torch.device:
    """The torch device of a ``study.device`` value."""
    if setting not in DEVICES:
        raise GazeAlignError(f"unknown device {setting!r}; expected one of {DEVICES}")
    cuda = cuda_available()
    if setting == "cuda" and not cuda:
        raise GazeAlignError(f"device {NO_CUDA}")
    if setting == "auto":
        return torch.device("cuda" if cuda else "cpu")
    return torch.device(setting)


def model_device(model: nn.Module) -> torch.device:
    """The device of ``model``'s first parameter (CPU for a network without parameters)."""
    p = next(model.parameters(), None)
    return torch.device("cpu") if p is None else p.device


def bf16_is_fast(device: torch.device) -> bool:
    """Whether ``device`` does bfloat16 matrix work natively: a CUDA GPU with bf16, or a CPU
    whose oneDNN build reports bf16 support (AVX-512 bf16 or AMX instructions)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device.type != "cpu" or not torch.backends.mkldnn.is_available():
        return False
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
