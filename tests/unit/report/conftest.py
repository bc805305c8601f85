"""Fixtures of the report tests: one small hand-made run, built once per session."""

from __future__ import annotations

import pytest
from report_fakes import FakeRun, run_fake


@pytest.fixture(scope="session")
def fake_run(tmp_path_factory: pytest.TempPathFactory) -> FakeRun:
    return run_fake(tmp_path_factory.mktemp("report_run") / "run")
