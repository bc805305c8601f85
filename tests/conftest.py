"""Shared test settings."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

# Keep test runs reproducible and light on a shared 2-core machine.
os.environ.setdefault("OMP_NUM_THREADS", "2")

# No per-example time limit: CI machines are shared and slow, and timing is never what a
# property test checks. Examples are derandomised so a CI failure reproduces locally.
settings.register_profile("gazealign", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("gazealign")


@pytest.fixture(autouse=True)
def _restore_torch_global_state() -> Iterator[None]:
    """Undo a test's changes to torch's process-wide settings (thread count, default dtype,
    deterministic mode, global RNG), so no test's outcome depends on the tests run before it.

    Training is only bit-reproducible for a fixed thread count: a test that calls
    ``torch.set_num_threads(1)`` and leaves it set changes the floating-point reduction order
    of every later test's training run.
    """
    import torch

    threads = torch.get_num_threads()
    dtype = torch.get_default_dtype()
    deterministic = torch.are_deterministic_algorithms_enabled()
    rng = torch.get_rng_state()
    yield
    torch.set_num_threads(threads)
    torch.set_default_dtype(dtype)
    torch.use_deterministic_algorithms(deterministic)
    torch.set_rng_state(rng)


@pytest.fixture
def fake_cuda(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A machine that says it has a CUDA GPU: gazealign's ``cuda_available()`` is true and
    moving a module to a CUDA device records the module's class name (in the returned list) and
    leaves it on the CPU, so a stage's device plumbing can be checked on a CPU-only machine.
    (torch's own ``torch.cuda.is_available`` stays as it is: optimisers ask it too.)"""
    import torch

    from gazealign.models import device

    moved: list[str] = []
    real_to = torch.nn.Module.to

    def to(self: torch.nn.Module, *args: object, **kwargs: object) -> torch.nn.Module:
        target = args[0] if args else kwargs.get("device")
        if isinstance(target, str | torch.device) and torch.device(target).type == "cuda":
            moved.append(type(self).__name__)
            return self
        return real_to(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(device, "cuda_available", lambda: True)
    monkeypatch.setattr(torch.nn.Module, "to", to)
    return moved
