"""Worker processes (``study.workers``): calls come back in order, the same as in-process."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import pytest

from gazealign.config import study_from_dict
from gazealign.pipeline.executors import ProcessExecutor, worker_threads
from gazealign.pipeline.stage import StageContext


def test_map_calls_yield_in_argument_order_whatever_finishes_first() -> None:
    executor = ProcessExecutor(2, window=3)
    try:
        args = [float(i) for i in range(12)]
        assert list(executor.map_calls(math.sqrt, args)) == [math.sqrt(a) for a in args]
        # the pool is kept for the next call
        assert list(executor.map_calls(math.factorial, [5, 3])) == [120, 6]
    finally:
        executor.close()


def test_stage_context_map_runs_in_process_or_in_the_workers(tmp_path: Path) -> None:
    config = study_from_dict({"study": {"workers": 2}}, base_dir=tmp_path)
    here = StageContext(config=config, stage="toy", out_dir=tmp_path, inputs={})
    executor = ProcessExecutor(2)
    try:
        mapper = functools.partial(executor.map_calls, plugins=(), base_dir=tmp_path)
        there = StageContext(config=config, stage="toy", out_dir=tmp_path, inputs={}, mapper=mapper)
        args = list(range(7))
        assert list(there.map(math.factorial, args)) == list(here.map(math.factorial, args))
    finally:
        executor.close()


def test_a_worker_error_reaches_the_caller() -> None:
    executor = ProcessExecutor(2)
    try:
        with pytest.raises(ValueError, match="math domain error"):
            list(executor.map_calls(math.sqrt, [1.0, -1.0, 4.0]))
    finally:
        executor.close()


def test_workers_share_the_cpu_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert worker_threads(2) == 2
    assert worker_threads(8) == 1
    with pytest.raises(ValueError, match="workers must be >= 1"):
        ProcessExecutor(0)
