"""Where per-item work runs: in this process, or on a Dask cluster.

The runner always writes the results itself, one item at a time and atomically, so resume and
byte-identical artifacts hold whichever executor computed them. Dask (the ``dask`` extra) is
the scale-out path: a scheduler address, or ``"local"`` for a LocalCluster on this machine.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
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
