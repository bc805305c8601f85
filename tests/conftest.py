"""Shared test fixtures."""

from __future__ import annotations

import os

# Keep test runs reproducible and light on a shared 2-core machine.
os.environ.setdefault("OMP_NUM_THREADS", "2")
