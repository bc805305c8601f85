"""Where per-item work runs: in this process, in worker processes, or on a Dask cluster.

The runner always writes the results itself, one item at a time and atomically, so resume and
byte-identical artifacts hold whichever executor computed them (every item derives its seeds
from the study seed and its own id, never from the order items run in). ``study.workers`` > 1
runs the items in that many worker processes on this machine (:class:`ProcessExecutor`). Dask
(the ``dask`` extra) is the scale-out path: a scheduler address, or ``"local"`` for a
LocalCluster on this machine.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import pickle
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from gazealign.errors import PipelineError
from gazealign.pipeline.stage import ItemResult, Stage, StageContext

#: (item, its arrays, seeds it derived, notes it made).
ItemOutcome = tuple[str, ItemResult, dict[str, int], dict[str, Any]]


class Executor(Protocol):
    """Runs ``stage.run_item`` over items and yields their outcomes as they finish."""

    def map_items(
        self, stage: Stage, ctx: StageContext, items: Sequence[str]
    ) -> Iterator[ItemOutcome]: ...


class LocalExecutor:
    """One item after another in this process (with the stage's progress bar)."""

    def map_items(
        self, stage: Stage, ctx: StageContext, items: Sequence[str]
    ) -> Iterator[ItemOutcome]:
        for item in items:
            yield _run_item(stage, ctx, item)


def _run_item(stage: Stage, ctx: StageContext, item: str) -> ItemOutcome:
    """One item with its own seed and note records (merged by the runner, so counts add up)."""
    assert stage.run_item is not None
    local = replace(ctx, seeds={}, notes={})
    result = dict(stage.run_item(local, item).items())
    return item, result, local.seeds, local.notes


def _run_item_remote(stage: Stage, ctx: StageContext, item: str) -> ItemOutcome:
    """Worker side: as :func:`_run_item`, without a progress bar.

    A worker is another process: the study's plug-ins are imported there too, so that the
    names they register (fills, metrics, ...) resolve as they do in the client.
    """
    from gazealign.registry import load_plugins

    load_plugins(ctx.config.plugins, base_dir=ctx.config.base_dir)
    return _run_item(stage, replace(ctx, progress=None), item)


class DaskExecutor:
    """Per-item work on Dask distributed; at most ``window`` items in flight (memory bound)."""

    def __init__(self, scheduler: str = "local", *, window: int | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise PipelineError(
                "running on Dask needs the dask extra: pip install 'gazealign[dask]'"
            ) from None
        if scheduler == "local":
            self._cluster: Any = LocalCluster(processes=False, dashboard_address=None)
            self.client: Any = Client(self._cluster)
        else:
            self._cluster = None
            self.client = Client(scheduler)
        workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        self.window = window or 2 * workers

    def map_items(
        self, stage: Stage, ctx: StageContext, items: Sequence[str]
    ) -> Iterator[ItemOutcome]:
        from distributed import as_completed

        remote_ctx = replace(ctx, progress=None)
        todo = list(items)
        first = [
            self.client.submit(_run_item_remote, stage, remote_ctx, i, pure=False)
            for i in todo[: self.window]
        ]
        pending = todo[self.window :]
        done = as_completed(first)
        for future in done:
            outcome: ItemOutcome = future.result()
            if pending:
                done.add(
                    self.client.submit(
                        _run_item_remote, stage, remote_ctx, pending.pop(0), pure=False
                    )
                )
            yield outcome

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


#: Environment variables that cap a worker's math-library threads (read when the library loads).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def worker_threads(workers: int) -> int:
    """Math-library threads per worker process: this process's share of the CPU threads it
    may use (``OMP_NUM_THREADS`` when set, else every CPU) split over ``workers``, at least 1."""
    try:
        total = int(os.environ.get("OMP_NUM_THREADS") or 0)
    except ValueError:
        total = 0
    total = total or os.cpu_count() or 1
    return max(1, total // max(1, workers))


class _CappedProcess(multiprocessing.context.SpawnProcess):
    """A ``spawn`` process started with :data:`THREAD_VARIABLES` set to ``threads``: a math
    library reads them once, when it loads, and a worker loads numpy's BLAS before any code of
    ours runs in it (measured on the demo's saliency metrics: uncapped, each worker's BLAS
    threads spun on both cores and two workers were slower than one process; capped, 2.2x
    faster). The starting process's own variables are restored at once."""

    threads = 1

    def start(self) -> None:
        saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
        os.environ.update(dict.fromkeys(THREAD_VARIABLES, str(self.threads)))
        try:
            super().start()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


class _CappedContext(multiprocessing.context.SpawnContext):
    """The ``spawn`` context of :class:`ProcessExecutor`: its processes are capped at
    ``threads`` math-library threads each."""

    def __init__(self, threads: int) -> None:
        super().__init__()
        self.threads = threads

    def Process(self, *args: Any, **kwargs: Any) -> _CappedProcess:  # type: ignore[override]
        process = _CappedProcess(*args, **kwargs)
        process.threads = self.threads
        return process


def _init_worker(threads: int) -> None:
    """A worker process's start: cap torch's threads too, should it be loaded already (so that
    the workers together use the CPUs the parent would, not each all of them)."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def _run_item_in_worker(
    plugins: tuple[str, ...], base_dir: Path, payload: bytes, item: str
) -> ItemOutcome:
    """Worker side of :class:`ProcessExecutor`: the study's plug-ins first (a stage or an entry
    they define must resolve when the stage and its context are unpickled), then the item."""
    from gazealign.registry import load_plugins

    load_plugins(list(plugins), base_dir=base_dir)
    stage, ctx = pickle.loads(payload)
    return _run_item(stage, ctx, item)


def _call_in_worker(
    plugins: tuple[str, ...], base_dir: Path, fn: Callable[[Any], Any], arg: Any
) -> Any:
    """Worker side of :meth:`ProcessExecutor.map_calls`: the study's plug-ins, then the call."""
    from gazealign.registry import load_plugins

    load_plugins(list(plugins), base_dir=base_dir)
    return fn(arg)


class ProcessExecutor:
    """Per-item work in ``workers`` worker processes on this machine.

    The processes are started (``spawn``: no state copied from the parent) on the first stage
    with more than one item to do and kept for the next stages until :meth:`close`. Each caps
    its math-library threads at :func:`worker_threads`. At most ``window`` items are in flight;
    outcomes are yielded as they finish (the runner writes each item, and merges seeds and
    notes in item order, so the artifacts are those of :class:`LocalExecutor`).
    """

    def __init__(self, workers: int, *, window: int | None = None) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self.window = window or 2 * workers
        self._pool: ProcessPoolExecutor | None = None

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            threads = worker_threads(self.workers)
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=_CappedContext(threads),
                initializer=_init_worker,
                initargs=(threads,),
            )
        return self._pool

    def map_items(
        self, stage: Stage, ctx: StageContext, items: Sequence[str]
    ) -> Iterator[ItemOutcome]:
        if self.workers == 1 or len(items) < 2:
            yield from LocalExecutor().map_items(stage, ctx, items)
            return
        config = ctx.config
        bare = replace(ctx, progress=None, seeds={}, notes={}, mapper=None)
        head = (tuple(config.plugins), config.base_dir, pickle.dumps((stage, bare)))
        calls = [(*head, item) for item in items]
        for _, outcome in self._as_finished(_run_item_in_worker, calls):
            yield outcome

    def map_calls(
        self,
        fn: Callable[[Any], Any],
        args: Sequence[Any],
        *,
        plugins: Sequence[str] = (),
        base_dir: Path = Path(),
    ) -> Iterator[Any]:
        """``fn(arg)`` for each of ``args`` in the worker processes, yielded in their order
        (at most ``window`` in flight; a stage's :meth:`StageContext.map`). The study's
        ``plugins`` are imported in a worker before the call."""
        head = (tuple(plugins), base_dir)
        finished: dict[int, Any] = {}
        following = 0
        for i, result in self._as_finished(_call_in_worker, [(*head, fn, a) for a in args]):
            finished[i] = result
            while following in finished:
                yield finished.pop(following)
                following += 1

    def _as_finished(
        self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[int, Any]]:
        """``(i, fn(*calls[i]))`` in the worker processes, submitted in order with at most
        ``window`` in flight, yielded as they finish; what is still queued is cancelled when
        the caller stops early."""
        pool = self._start()
        todo = list(enumerate(calls))[::-1]
        running: dict[Future[Any], int] = {}
        try:
            while todo or running:
                while todo and len(running) < self.window:
                    i, call = todo.pop()
                    running[pool.submit(fn, *call)] = i
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    yield running.pop(future), future.result()
        finally:
            for future in running:
                future.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
