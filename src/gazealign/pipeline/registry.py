"""The stage registry: ``@stage(...)`` next to a stage's run function registers it by name.

Every module of :mod:`gazealign.stages` is imported by :func:`study_stages`, so a new stage is
one new file there. A stage defined elsewhere (a user's plug-in module) calls
:func:`register_stage` (or uses ``@stage``) when its module is imported. The run order is derived
from the stages' ``needs`` (:func:`run_order`), never listed by hand.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from gazealign.errors import PipelineError
from gazealign.pipeline.artifacts import Artifact
from gazealign.pipeline.stage import ALL_STAGES, ItemResult, Stage, StageContext

_STAGES: dict[str, Stage] = {}

#: The package whose modules hold the built-in stages.
STAGES_PACKAGE = "gazealign.stages"

RunFn = Callable[[StageContext], None]


def register_stage(stage: Stage) -> Stage:
    """Add ``stage`` to the registry (again from the same module: replaced); returns it."""
    old = _STAGES.get(stage.name)
    if old is not None and old.module != stage.module:
        raise PipelineError(
            f"stage {stage.name!r} is defined twice: in {old.module} and in {stage.module}"
        )
    _STAGES[stage.name] = stage
    return stage


def stage(
    name: str,
    *,
    description: str,
    reads: Sequence[str] = (),
    needs: Sequence[str] = (),
    version: str = "1",
    writes: Sequence[Artifact] = (),
    unkeyed: Sequence[str] = (),
    items: Callable[[StageContext], Sequence[str]] | None = None,
    run_item: Callable[[StageContext, str], ItemResult] | None = None,
) -> Callable[[RunFn], RunFn]:
    """Decorator registering the decorated ``run(ctx)`` as stage ``name``.

    Parameters
    ----------
    name
        The stage's name (its folder under ``run_dir/stages/``).
    description
        One line shown while it runs.
    reads
        Study keys it reads (dotted, or a whole table): they enter its cache key.
    needs
        Stages whose outputs it reads (``ctx.input(name)``); ``(ALL_STAGES,)`` for every other
        stage (the report).
    version
        Raise it when the stage's output changes for a reason its code hash cannot see.
    writes
        The artifacts it writes (:mod:`gazealign.pipeline.artifacts`): checked after it runs,
        recorded with its output, and the only way later stages and the report find them.
    unkeyed
        Keys inside ``reads`` that choose a code path with equal results: not in the key.
    items, run_item
        For a per-item stage: the item ids, and the arrays of one item (written by the runner).
    """

    def register(run: RunFn) -> RunFn:
        register_stage(
            Stage(
                name=name,
                description=description,
                reads=tuple(reads),
                needs=tuple(needs),
                run=run,
                items=items,
                run_item=run_item,
                version=version,
                writes=tuple(writes),
                unkeyed=tuple(unkeyed),
            )
        )
        return run

    return register


def registered_stages() -> dict[str, Stage]:
    """The stages registered so far, by name (without importing anything)."""
    return dict(_STAGES)


def load_builtin_stages() -> None:
    """Import every module of :mod:`gazealign.stages`, so their decorators run.

    Done with :mod:`pkgutil` directly (not :func:`gazealign.discovery.import_submodules`): a
    stage does not depend on the code of the other stages, so this import must not enter the
    stages' code keys.
    """
    package = importlib.import_module(STAGES_PACKAGE)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        importlib.import_module(f"{STAGES_PACKAGE}.{info.name}")


def run_order(stages: Iterable[Stage]) -> list[Stage]:
    """``stages`` ordered so that every stage comes after the stages it needs.

    ``needs = (ALL_STAGES,)`` is resolved to every stage that does not itself need all stages.
    Among the stages whose needs are met, the one first by name runs first, so the order is the
    same on every machine.
    """
    by_name = {s.name: s for s in stages}
    every = sorted(n for n, s in by_name.items() if ALL_STAGES not in s.needs)
    resolved = {
        n: replace(s, needs=tuple(n2 for n2 in every if n2 != n)) if ALL_STAGES in s.needs else s
        for n, s in by_name.items()
    }
    for s in resolved.values():
        unknown = [n for n in s.needs if n not in resolved]
        if unknown:
            raise PipelineError(
                f"stage {s.name!r} needs {', '.join(map(repr, unknown))}, which no stage "
                f"provides; stages are: {', '.join(sorted(resolved))}"
            )
    order: list[Stage] = []
    done: set[str] = set()
    while len(order) < len(resolved):
        ready = sorted(n for n, s in resolved.items() if n not in done and done.issuperset(s.needs))
        if not ready:
            cycle = sorted(set(resolved) - done)
            raise PipelineError(f"stages {', '.join(cycle)} need each other (a cycle)")
        order.append(resolved[ready[0]])
        done.add(ready[0])
    return order


def study_stages() -> list[Stage]:
    """Every registered stage (the built-in ones imported first), in run order."""
    load_builtin_stages()
    return run_order(_STAGES.values())


def get_stage(name: str) -> Stage:
    """The registered stage ``name`` (built-in stages imported first); the error lists them."""
    load_builtin_stages()
    try:
        return _STAGES[name]
    except KeyError:
        raise PipelineError(
            f"unknown stage {name!r}; stages are: {', '.join(sorted(_STAGES))}"
        ) from None
