"""A pipeline stage: a name, the study keys it reads, the stages it needs, and what it runs.

Two shapes of stage:

* whole: ``run(ctx)`` writes everything into ``ctx.out_dir``;
* per item: ``items(ctx)`` lists item ids (e.g. stimulus ids), ``run_item(ctx, item)`` returns the
  item's arrays (written by the runner as ``items/<item>.npz``, atomically, and skipped on resume),
  and an optional ``run(ctx)`` afterwards aggregates them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy.typing as npt

from gazealign.pipeline.artifacts import Artifact, artifact_path, item_ids

if TYPE_CHECKING:
    from rich.progress import Progress

    from gazealign.config import StudyConfig

T = TypeVar("T")
A = TypeVar("A")
R = TypeVar("R")


@dataclass
class StageContext:
    """What a stage function gets: the study, its own output folder and its inputs' folders."""

    config: StudyConfig
    stage: str
    out_dir: Path
    inputs: Mapping[str, Path]
    progress: Progress | None = None
    seeds: dict[str, int] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    #: Runs ``fn`` over arguments in worker processes, results in order (set by the runner
    #: when the study has ``workers`` > 1); ``None``: :meth:`map` runs here.
    mapper: Callable[[Callable[[Any], Any], Sequence[Any]], Iterator[Any]] | None = None

    def map(self, fn: Callable[[A], R], args: Sequence[A]) -> Iterator[R]:
        """``fn(arg)`` for each of ``args``, yielded in their order: in this process, or in the
        study's worker processes (``study.workers``). ``fn`` must be a module-level function
        and its arguments and results picklable; it must not depend on what ran before it
        (it may run in another process), so the results are the same either way."""
        if self.mapper is None or len(args) < 2:
            return (fn(a) for a in args)
        return self.mapper(fn, args)

    def input(self, stage: str) -> Path:
        """Output folder of the upstream ``stage`` (must be declared in ``needs``)."""
        try:
            return self.inputs[stage]
        except KeyError:
            raise KeyError(
                f"stage {self.stage!r} reads {stage!r} but does not declare it in `needs`"
            ) from None

    def artifact(self, stage: str, name: str, item: str | None = None) -> Path:
        """Where upstream ``stage`` wrote its artifact ``name`` (for a per-item one: ``item``'s),
        as its contract declares."""
        return artifact_path(self.input(stage), name, item)

    def items_of(self, stage: str, name: str) -> list[str]:
        """The items upstream ``stage`` wrote for its per-item artifact ``name``."""
        return item_ids(self.input(stage), name)

    def item_path(self, item: str) -> Path:
        return self.out_dir / "items" / f"{item}.npz"

    def seed(self, name: str, offset: int = 0) -> int:
        """A seed for ``name`` derived from the study seed, recorded in the manifest."""
        digest = hashlib.sha256(f"{self.config.study.seed}:{self.stage}:{name}:{offset}".encode())
        value = int.from_bytes(digest.digest()[:4], "little")
        self.seeds[name if offset == 0 else f"{name}[{offset}]"] = value
        return value

    def note(self, key: str, value: Any) -> None:
        """Record a count or fact (e.g. images dropped and why) in the manifest."""
        self.notes[key] = value

    def warn(self, message: str) -> None:
        """A warning for the user: printed when the stage ends, kept in the notes' ``warnings``."""
        self.notes.setdefault("warnings", []).append(message)

    def track(
        self, iterable: Iterable[T], *, total: int | None = None, description: str = ""
    ) -> Iterator[T]:
        """Iterate with a progress bar (when the runner shows progress)."""
        if self.progress is None:
            yield from iterable
            return
        task = self.progress.add_task(description or self.stage, total=total)
        try:
            for x in iterable:
                yield x
                self.progress.advance(task)
        finally:
            self.progress.remove_task(task)


ItemResult = Mapping[str, npt.ArrayLike]

#: Study keys that name input files or folders (their contents enter the keys of stages reading them).
INPUT_PATH_KEYS = ("stimuli.path", "gaze.path", "model.weights")


def _covers(reads: Iterable[str], key: str) -> bool:
    """Whether a stage reading ``reads`` reads ``key`` (itself or a table containing it)."""
    return any(key == r or key.startswith(r + ".") for r in reads)


def input_fingerprint(path: Path) -> str:
    """Hash of every file under ``path`` (relative name, size, modification time in ns).

    Cheap (no file is read) and changes when a file is added, removed, replaced or edited, so
    new data under the same path reruns the stages that read it.
    """
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        stat = file.stat()
        name = file.name if file == path else str(file.relative_to(path))
        digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _keyed_config(
    config: StudyConfig, reads: Iterable[str], unkeyed: Iterable[str]
) -> dict[str, Any]:
    """The values of ``reads`` without the ``unkeyed`` keys nested inside them."""
    out = {k: config.get(k) for k in sorted(reads)}
    for key in unkeyed:
        for read, node in out.items():
            if not key.startswith(read + "."):
                continue
            *parents, leaf = key[len(read) + 1 :].split(".")
            for part in parents:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict):
                node.pop(leaf, None)
    return out


#: ``needs = (ALL_STAGES,)``: the stage needs every other stage of the study (the report).
ALL_STAGES = "*"


@dataclass(frozen=True)
class Stage:
    """A named step of a study.

    ``module`` is the module holding the stage's functions (by default that of ``run`` or
    ``run_item``): its source and the gazealign modules it imports enter the stage's key
    (:mod:`gazealign.pipeline.codehash`). ``version`` enters it too: raise it when the output
    changes for a reason the code cannot show (e.g. a new release of data the stage reads).
    ``writes`` is the stage's artifact contract (:mod:`gazealign.pipeline.artifacts`).
    """

    name: str
    description: str
    reads: tuple[str, ...]
    needs: tuple[str, ...] = ()
    run: Callable[[StageContext], None] | None = None
    items: Callable[[StageContext], Sequence[str]] | None = None
    run_item: Callable[[StageContext, str], ItemResult] | None = None
    version: str = "1"
    module: str = ""
    writes: tuple[Artifact, ...] = ()
    #: Keys under ``reads`` that choose how, not what, is computed (a code path whose results
    #: are equal either way): they do not enter the key, so changing them reuses the cache.
    unkeyed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.items is None) != (self.run_item is None):
            raise ValueError(f"stage {self.name}: `items` and `run_item` go together")
        if self.run is None and self.items is None:
            raise ValueError(f"stage {self.name}: needs `run` or `items` + `run_item`")
        if not self.module:
            fn = self.run if self.run is not None else self.run_item
            object.__setattr__(self, "module", getattr(fn, "__module__", "") or "")

    @property
    def per_item(self) -> bool:
        return self.items is not None

    def key_parts(
        self,
        config: StudyConfig,
        upstream_keys: Mapping[str, str],
        versions: Mapping[str, str],
        code: Mapping[str, str],
    ) -> dict[str, Any]:
        """What the key hashes, by kind (recorded with the stage's output, compared by status).

        ``code`` maps each module the stage runs to the hash of its source file.
        """
        return {
            "stage": self.name,
            "version": self.version,
            # Every stage may derive seeds from the study seed (ctx.seed), so it is always keyed.
            "seed": config.study.seed,
            "config": _keyed_config(config, self.reads, self.unkeyed),
            # A path key's value is only text: the files behind it are keyed by their listing.
            "inputs": {
                k: input_fingerprint(config.resolve(Path(config.get(k))))
                for k in INPUT_PATH_KEYS
                if config.get(k) is not None and _covers(self.reads, k)
            },
            "upstream": {n: upstream_keys[n] for n in sorted(self.needs)},
            "versions": dict(sorted(versions.items())),
            "code": dict(sorted(code.items())),
        }

    def key(
        self,
        config: StudyConfig,
        upstream_keys: Mapping[str, str],
        versions: Mapping[str, str],
        code: Mapping[str, str] | None = None,
    ) -> str:
        """Hash of (stage, version, study seed, the config it reads, its input files, upstream
        keys, package versions, the source of the modules it runs)."""
        return key_of(self.key_parts(config, upstream_keys, versions, code or {}))


def key_of(parts: Mapping[str, Any]) -> str:
    """The 16-hex-digit key of a stage's :meth:`Stage.key_parts`."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
