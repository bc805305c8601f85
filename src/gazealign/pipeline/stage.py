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

if TYPE_CHECKING:
    from rich.progress import Progress

    from gazealign.config import StudyConfig

T = TypeVar("T")


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

    def input(self, stage: str) -> Path:
        """Output folder of the upstream ``stage`` (must be declared in ``needs``)."""
        try:
            return self.inputs[stage]
        except KeyError:
            raise KeyError(
                f"stage {self.stage!r} reads {stage!r} but does not declare it in `needs`"
            ) from None

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


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    reads: tuple[str, ...]
    needs: tuple[str, ...] = ()
    run: Callable[[StageContext], None] | None = None
    items: Callable[[StageContext], Sequence[str]] | None = None
    run_item: Callable[[StageContext, str], ItemResult] | None = None

    def __post_init__(self) -> None:
        if (self.items is None) != (self.run_item is None):
            raise ValueError(f"stage {self.name}: `items` and `run_item` go together")
        if self.run is None and self.items is None:
            raise ValueError(f"stage {self.name}: needs `run` or `items` + `run_item`")

    @property
    def per_item(self) -> bool:
        return self.items is not None

    def key(
        self, config: StudyConfig, upstream_keys: Mapping[str, str], versions: Mapping[str, str]
    ) -> str:
        """Hash of (stage, study seed, the config it reads, upstream keys, package versions)."""
        payload = {
            "stage": self.name,
            # Every stage may derive seeds from the study seed (ctx.seed), so it is always keyed.
            "seed": config.study.seed,
            "config": {k: config.get(k) for k in sorted(self.reads)},
            # A path key's value is only text: the files behind it are keyed by their listing.
            "inputs": {
                k: input_fingerprint(config.resolve(Path(config.get(k))))
                for k in INPUT_PATH_KEYS
                if config.get(k) is not None and _covers(self.reads, k)
            },
            "upstream": {n: upstream_keys[n] for n in sorted(self.needs)},
            "versions": dict(sorted(versions.items())),
        }
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]
