"""Run stages in order with caching, resume and a manifest.

Layout of a run folder::

    run_dir/
      manifest.json                 what was produced, when, how long, with which seeds
      study.toml                    the study as run
      stages/<stage>/<key>/         finished artifacts of a stage for one key
      stages/<stage>/<key>.partial/ a stage in progress (per-item results survive a kill)

A stage's key hashes the study keys it reads, its upstream keys and package versions, so
changing one key reruns exactly the stages that read it and those after them.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from gazealign.config import StudyConfig, dump_study
from gazealign.errors import PipelineError
from gazealign.pipeline.executors import Executor, LocalExecutor
from gazealign.pipeline.lock import clean_leftovers, run_folder_lock
from gazealign.pipeline.stage import Stage, StageContext
from gazealign.pipeline.store import read_json, sha256_file, write_arrays, write_json, write_text

#: Packages whose versions enter every stage key: a new version may change numbers.
KEYED_PACKAGES = (
    "gazealign",
    "numpy",
    "scipy",
    "pandas",
    "torch",
    "zennit",
    "captum",
    "opencv-python-headless",
)

StageState = Literal["done", "stale", "missing"]


def package_versions(packages: Iterable[str] = KEYED_PACKAGES) -> dict[str, str]:
    """Versions of the keyed packages, plus a hash of gazealign's own source files.

    The source hash makes a development install (whose version number does not move) rerun
    stages after its code changes, instead of reusing results made by older code.
    """
    out = {}
    for name in packages:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    out["gazealign-source"] = source_hash()
    return out


def source_hash() -> str:
    """SHA-256 (first 16 hex digits) over gazealign's Python files, in sorted path order."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _merge_notes(into: dict[str, Any], notes: Mapping[str, Any]) -> None:
    """Fold one item's notes into the stage's: numbers (counts) add up, others are kept."""
    for key, value in notes.items():
        old = into.get(key)
        numbers = isinstance(value, int | float) and isinstance(old, int | float)
        into[key] = old + value if numbers and not isinstance(value, bool) else value


@dataclass(frozen=True)
class StageStatus:
    name: str
    key: str
    state: StageState
    path: Path


class Runner:
    """Runs a study's stages. ``stages`` must be ordered so that needs come first."""

    def __init__(
        self,
        config: StudyConfig,
        stages: Sequence[Stage],
        *,
        show_progress: bool = True,
        console: Console | None = None,
        versions: Mapping[str, str] | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.config = config
        self.stages = list(stages)
        self.by_name = {s.name: s for s in self.stages}
        self.show_progress = show_progress
        self.console = console or Console(stderr=True)
        self.versions = dict(versions) if versions is not None else package_versions()
        self.executor: Executor = executor or LocalExecutor()
        self._check_graph()
        self.keys = self._compute_keys()

    # --- structure ---------------------------------------------------------------------------

    def _check_graph(self) -> None:
        seen: set[str] = set()
        for stage in self.stages:
            if stage.name in seen:
                raise PipelineError(f"stage {stage.name!r} is defined twice")
            for need in stage.needs:
                if need not in seen:
                    raise PipelineError(
                        f"stage {stage.name!r} needs {need!r}, which is not an earlier stage"
                    )
            for key in stage.reads:
                try:
                    self.config.get(key)
                except KeyError:
                    raise PipelineError(
                        f"stage {stage.name!r} reads unknown study key {key!r}"
                    ) from None
            seen.add(stage.name)

    def _compute_keys(self) -> dict[str, str]:
        keys: dict[str, str] = {}
        for stage in self.stages:
            keys[stage.name] = stage.key(self.config, keys, self.versions)
        return keys

    def _check_names(self, names: Iterable[str]) -> None:
        for name in names:
            if name not in self.by_name:
                raise PipelineError(
                    f"unknown stage {name!r}; stages are: {', '.join(self.by_name)}"
                )

    def ancestors(self, name: str) -> set[str]:
        out: set[str] = set()
        todo = [name]
        while todo:
            for need in self.by_name[todo.pop()].needs:
                if need not in out:
                    out.add(need)
                    todo.append(need)
        return out

    def descendants(self, name: str) -> set[str]:
        out: set[str] = set()
        for stage in self.stages:  # ordered, so one pass suffices
            if name in stage.needs or out.intersection(stage.needs):
                out.add(stage.name)
        return out

    # --- locations ---------------------------------------------------------------------------

    @property
    def run_dir(self) -> Path:
        return self.config.run_dir

    def stage_dir(self, name: str) -> Path:
        return self.run_dir / "stages" / name / self.keys[name]

    def partial_dir(self, name: str) -> Path:
        return self.run_dir / "stages" / name / f"{self.keys[name]}.partial"

    def is_done(self, name: str) -> bool:
        return (self.stage_dir(name) / "_stage.json").exists()

    def status(self) -> list[StageStatus]:
        out = []
        for stage in self.stages:
            folder = self.run_dir / "stages" / stage.name
            if self.is_done(stage.name):
                state: StageState = "done"
            elif folder.exists() and any(folder.iterdir()):
                state = "stale"
            else:
                state = "missing"
            out.append(
                StageStatus(stage.name, self.keys[stage.name], state, self.stage_dir(stage.name))
            )
        return out

    # --- running -----------------------------------------------------------------------------

    def run(self, *, until: str | None = None, force: Sequence[str] = ()) -> dict[str, Path]:
        """Run (or reuse) every stage up to ``until``; ``force`` reruns stages and those after."""
        self._check_names([until] if until else [])
        self._check_names(force)
        if until is None:
            selected = [s.name for s in self.stages]
        else:
            wanted = self.ancestors(until) | {until}
            selected = [s.name for s in self.stages if s.name in wanted]
        forced: set[str] = set()
        for name in force:
            forced |= {name} | self.descendants(name)

        with run_folder_lock(self.run_dir):
            # a partial folder of today's key for any stage is resumable work: keep it
            clean_leftovers(self.run_dir, {self._rel_partial(n) for n in self.by_name})
            return self._run_locked(selected, forced)

    def _rel_partial(self, name: str) -> str:
        return self.partial_dir(name).relative_to(self.run_dir).as_posix()

    def _run_locked(self, selected: list[str], forced: set[str]) -> dict[str, Path]:
        # Absolute paths: relative ones would be read against the run folder on reload.
        write_text(self.run_dir / "study.toml", dump_study(self.config.with_absolute_paths()))
        manifest_path = self.run_dir / "manifest.json"
        manifest: dict[str, Any] = read_json(manifest_path) if manifest_path.exists() else {}
        manifest.setdefault("stages", {})
        manifest["study"] = self.config.source
        manifest["versions"] = self.versions
        manifest["seed"] = self.config.study.seed

        for name in selected:
            if name in forced and self.is_done(name):
                self._discard(self.stage_dir(name))
            if self.is_done(name):
                self.console.print(f"[green]✓[/green] {name}: cached ({self.keys[name]})")
                continue
            record = self._run_stage(self.by_name[name])
            manifest["stages"][name] = record
            write_json(manifest_path, manifest)
        return {name: self.stage_dir(name) for name in selected}

    def _discard(self, folder: Path) -> None:
        trash = folder.with_name(folder.name + ".discard")
        shutil.rmtree(trash, ignore_errors=True)
        folder.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)

    def _progress(self) -> Progress:
        return Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            disable=not self.show_progress,
            transient=True,
        )

    def _run_stage(self, stage: Stage) -> dict[str, Any]:
        partial = self.partial_dir(stage.name)
        partial.mkdir(parents=True, exist_ok=True)
        inputs = {n: self.stage_dir(n) for n in stage.needs}
        for n, p in inputs.items():
            if not (p / "_stage.json").exists():
                raise PipelineError(f"stage {stage.name!r} needs {n!r}, which has not run")
        started = datetime.now(UTC)
        t0 = time.perf_counter()
        self.console.print(f"[cyan]▶[/cyan] {stage.name}: {stage.description}")
        with self._progress() as progress:
            ctx = StageContext(
                config=self.config,
                stage=stage.name,
                out_dir=partial,
                inputs=inputs,
                progress=progress if self.show_progress else None,
            )
            resumed = 0
            if stage.items is not None and stage.run_item is not None:
                items = list(stage.items(ctx))
                if len(set(items)) != len(items):
                    raise PipelineError(f"stage {stage.name!r} lists an item twice")
                todo = [i for i in items if not ctx.item_path(i).exists()]
                resumed = len(items) - len(todo)
                ctx.note("items", len(items))
                outcomes = self.executor.map_items(stage, ctx, todo)
                description = f"{stage.name} ({resumed} cached)"
                for item, arrays, seeds, notes in ctx.track(
                    outcomes, total=len(todo), description=description
                ):
                    write_arrays(ctx.item_path(item), arrays)
                    ctx.seeds.update(seeds)
                    _merge_notes(ctx.notes, notes)
            if stage.run is not None:
                stage.run(ctx)
        duration_s = time.perf_counter() - t0
        files = sorted(p for p in partial.rglob("*") if p.is_file() and not p.name.startswith("."))
        record: dict[str, Any] = {
            "key": self.keys[stage.name],
            "reads": list(stage.reads),
            "needs": list(stage.needs),
            "started_utc": started.isoformat(),
            "duration_s": round(duration_s, 3),
            "seeds": ctx.seeds,
            "notes": ctx.notes,
            "items_resumed": resumed,
            "files": {
                str(p.relative_to(partial)): {"bytes": p.stat().st_size, "sha256": sha256_file(p)}
                for p in files
                if not p.parts[-2] == "items" or len(files) < 200
            },
        }
        write_json(partial / "_stage.json", record)
        partial.rename(self.stage_dir(stage.name))
        self.console.print(f"[green]✓[/green] {stage.name}: done in {duration_s:.1f} s")
        return record
