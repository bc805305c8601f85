"""Run stages in order with caching, resume and a manifest.

Layout of a run folder::

    run_dir/
      manifest.json                 what was produced, when, how long, with which seeds
      study.toml                    the study as run
      stages/<stage>/<key>/         finished artifacts of a stage for one key
      stages/<stage>/<key>.partial/ a stage in progress (per-item results survive a kill)

A stage's key hashes the study keys it reads, its input files, its upstream keys, package
versions, its declared version and the source of the modules it runs
(:mod:`gazealign.pipeline.codehash`), so changing one key, or one module, reruns exactly the
stages that read it and those after them. Each finished folder records what its key hashed
(``_stage.json``, ``key_parts``); :meth:`Runner.status` compares it with today's to say why a
stage is stale.
"""

from __future__ import annotations

import functools
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

from gazealign import __version__
from gazealign.config import StudyConfig, dump_study
from gazealign.errors import PipelineError
from gazealign.pipeline.artifacts import STAGE_RECORD, check_written
from gazealign.pipeline.codehash import (
    PACKAGE_ROOT,
    changed_modules,
    code_hashes,
    file_hash,
    module_file,
)
from gazealign.pipeline.executors import Executor, LocalExecutor, ProcessExecutor
from gazealign.pipeline.lock import (
    LOCK_NAME,
    clean_leftovers,
    holder_text,
    lock_is_held,
    run_folder_lock,
)
from gazealign.pipeline.stage import Stage, StageContext, key_of
from gazealign.pipeline.store import read_json, sha256_file, write_arrays, write_json, write_text

#: Packages whose versions enter every stage key: a new version may change numbers. gazealign
#: itself is keyed by the source of the modules each stage runs, not by its version number.
KEYED_PACKAGES = (
    "numpy",
    "scipy",
    "pandas",
    "torch",
    "zennit",
    "captum",
    "opencv-python-headless",
)

StageState = Literal["done", "interrupted", "stale", "missing"]


def package_versions(packages: Iterable[str] = KEYED_PACKAGES) -> dict[str, str]:
    """Versions of the keyed packages (``"absent"`` for one not installed)."""
    out = {}
    for name in packages:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out


def stale_reasons(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str]:
    """Why a stage's cached output (key parts ``old``) is not today's (``new``), one line each.

    Kinds: ``config`` (study keys), ``inputs`` (files under a path key), ``code`` (modules the
    stage runs), ``version`` (the stage's declared version), ``upstream`` (a needed stage has a
    new key), ``packages`` (a keyed package version), ``seed``.
    """
    if old is None:
        return ["made by an older gazealign that recorded no key parts"]
    reasons = []
    if old.get("version") != new["version"]:
        reasons.append(f"version: {old.get('version')} -> {new['version']}")
    if old.get("seed") != new["seed"]:
        reasons.append(f"config: study.seed {old.get('seed')} -> {new['seed']}")
    for kind in ("config", "inputs", "upstream", "versions"):
        was, now = old.get(kind) or {}, new[kind]
        label = {"versions": "packages"}.get(kind, kind)
        for name in sorted(set(was) | set(now)):
            if was.get(name) != now.get(name):
                reasons.append(f"{label}: {name}" + _change(kind, was.get(name), now.get(name)))
    reasons += [f"code: {line}" for line in changed_modules(old.get("code") or {}, new["code"])]
    return reasons or ["the key's recipe changed (same parts, new key)"]


def _change(kind: str, was: Any, now: Any) -> str:
    if kind == "upstream":
        return " has a new key" if was and now else (" added" if now else " removed")
    if kind == "inputs":
        return " (files added, removed or edited)"
    text = f" {was!r} -> {now!r}"
    return text if len(text) <= 80 else " changed"


def item_record_path(ctx: StageContext, item: str) -> Path:
    """Where a per-item stage keeps the seeds and notes of one item (beside its arrays)."""
    return ctx.item_path(item).with_suffix(".record.json")


def _merge_notes(into: dict[str, Any], notes: Mapping[str, Any]) -> None:
    """Fold one item's notes into the stage's: numbers (counts) add up, others are kept."""
    for key, value in notes.items():
        old = into.get(key)
        numbers = isinstance(value, int | float) and isinstance(old, int | float)
        into[key] = old + value if numbers and not isinstance(value, bool) else value


@dataclass(frozen=True)
class StageStatus:
    """A stage's state; for a stale one, why its newest cached output is not current."""

    name: str
    key: str
    state: StageState
    path: Path
    reasons: tuple[str, ...] = ()


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
        source_root: Path = PACKAGE_ROOT,
    ) -> None:
        """``source_root`` is the gazealign source folder whose modules key the stages."""
        self.config = config
        self.stages = list(stages)
        self.by_name = {s.name: s for s in self.stages}
        self.show_progress = show_progress
        self.console = console or Console(stderr=True)
        self.versions = dict(versions) if versions is not None else package_versions()
        workers = config.study.workers
        #: An executor the runner made (``study.workers``) is closed after each run.
        self._own_executor = executor is None and workers > 1
        self.executor: Executor = executor or (
            ProcessExecutor(workers) if workers > 1 else LocalExecutor()
        )
        self._check_graph()
        memo: dict[str, Any] = {}
        plugins = self._plugin_code()
        self.code = {
            s.name: (code_hashes([s.module], source_root, memo=memo) if s.module else {}) | plugins
            for s in self.stages
        }
        self.key_parts: dict[str, dict[str, Any]] = {}
        self.keys = self._compute_keys()

    # --- structure ---------------------------------------------------------------------------

    def _plugin_code(self) -> dict[str, str]:
        """The source of the study's plug-in modules (``plugins``), by ``plugin:<name>``.

        A plug-in may register an entry any stage uses, so its file enters every stage's key.
        """
        out = {}
        for name in self.config.plugins:
            if name.endswith(".py") or "/" in name or "\\" in name:
                file: Path | None = self.config.resolve(Path(name))
            else:
                file = module_file(name)
            out[f"plugin:{name}"] = file_hash(file) if file and file.is_file() else "absent"
        return out

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
            parts = stage.key_parts(self.config, keys, self.versions, self.code[stage.name])
            self.key_parts[stage.name] = parts
            keys[stage.name] = key_of(parts)
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

    def plan(self, until: str) -> set[str]:
        """The stages a run ``until`` this stage runs: it and every stage it needs."""
        self._check_names([until])
        return self.ancestors(until) | {until}

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
        return (self.stage_dir(name) / STAGE_RECORD).exists()

    def cached_records(self, name: str) -> list[Path]:
        """The records of every finished folder of stage ``name``, newest first."""
        folder = self.run_dir / "stages" / name
        found = folder.glob(f"*/{STAGE_RECORD}") if folder.exists() else iter(())
        return sorted(found, key=lambda p: p.stat().st_mtime_ns, reverse=True)

    def status(self) -> list[StageStatus]:
        """Each stage: done (cached for today's key), interrupted (a run stopped inside it, for
        today's key: the next run resumes it), stale (cached for another key) or missing.

        A stale stage says why, against its newest cached folder (:func:`stale_reasons`).
        """
        out = []
        for stage in self.stages:
            records = self.cached_records(stage.name)
            reasons: tuple[str, ...] = ()
            if self.is_done(stage.name):
                state: StageState = "done"
            elif self.partial_dir(stage.name).is_dir():
                state = "interrupted"
                reasons = (self._interrupted_reason(stage),)
            elif records:
                state = "stale"
                old = read_json(records[0]).get("key_parts")
                reasons = tuple(stale_reasons(old, self.key_parts[stage.name]))
            else:
                state = "missing"
            key = self.keys[stage.name]
            out.append(StageStatus(stage.name, key, state, self.stage_dir(stage.name), reasons))
        return out

    def _interrupted_reason(self, stage: Stage) -> str:
        items = self.partial_dir(stage.name) / "items"
        done = sum(1 for _ in items.glob("*.npz")) if items.is_dir() else 0
        held = self.run_dir / LOCK_NAME
        busy = lock_is_held(held)
        what = f"running now: {holder_text(held)}" if busy else "a run stopped inside this stage"
        kept = f"; {done} finished item(s) kept" if done else ""
        return f"{what}{kept}; the next run resumes it"

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

        try:
            with run_folder_lock(self.run_dir):
                # a partial folder of today's key for any stage is resumable work: keep it
                clean_leftovers(self.run_dir, {self._rel_partial(n) for n in self.by_name})
                return self._run_locked(selected, forced)
        finally:
            if self._own_executor and isinstance(self.executor, ProcessExecutor):
                self.executor.close()

    def _rel_partial(self, name: str) -> str:
        return self.partial_dir(name).relative_to(self.run_dir).as_posix()

    def _run_locked(self, selected: list[str], forced: set[str]) -> dict[str, Path]:
        # Absolute paths: relative ones would be read against the run folder on reload.
        write_text(self.run_dir / "study.toml", dump_study(self.config.with_absolute_paths()))
        manifest_path = self.run_dir / "manifest.json"
        manifest: dict[str, Any] = read_json(manifest_path) if manifest_path.exists() else {}
        manifest.setdefault("stages", {})
        manifest["study"] = self.config.source
        manifest["versions"] = {"gazealign": __version__, **self.versions}
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

    def _item_record(self, ctx: StageContext, item: str) -> dict[str, Any]:
        path = item_record_path(ctx, item)
        if not path.exists():  # an item made before items had records: nothing to add
            return {"seeds": {}, "notes": {}}
        record = read_json(path)
        return {"seeds": dict(record.get("seeds", {})), "notes": dict(record.get("notes", {}))}

    def _run_stage(self, stage: Stage) -> dict[str, Any]:
        partial = self.partial_dir(stage.name)
        partial.mkdir(parents=True, exist_ok=True)
        inputs = {n: self.stage_dir(n) for n in stage.needs}
        for n, p in inputs.items():
            if not (p / STAGE_RECORD).exists():
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
                mapper=(
                    functools.partial(
                        self.executor.map_calls,
                        plugins=self.config.plugins,
                        base_dir=self.config.base_dir,
                    )
                    if isinstance(self.executor, ProcessExecutor)
                    else None
                ),
            )
            resumed = 0
            if stage.items is not None and stage.run_item is not None:
                items = list(stage.items(ctx))
                if len(set(items)) != len(items):
                    raise PipelineError(f"stage {stage.name!r} lists an item twice")
                todo = [i for i in items if not ctx.item_path(i).exists()]
                resumed = len(items) - len(todo)
                ctx.note("items", len(items))
                # each item's seeds and notes, from its record (cached) or its run (new)
                provenance = {i: self._item_record(ctx, i) for i in items if i not in set(todo)}
                outcomes = self.executor.map_items(stage, ctx, todo)
                description = f"{stage.name} ({resumed} cached)"
                for item, arrays, seeds, notes in ctx.track(
                    outcomes, total=len(todo), description=description
                ):
                    # the record first: an item file on disk always has its record beside it
                    write_json(item_record_path(ctx, item), {"seeds": seeds, "notes": notes})
                    write_arrays(ctx.item_path(item), arrays)
                    provenance[item] = {"seeds": seeds, "notes": notes}
                # merged in item order, so a resumed run records what an uninterrupted one does
                for item in items:
                    ctx.seeds.update(provenance[item]["seeds"])
                    _merge_notes(ctx.notes, provenance[item]["notes"])
            if stage.run is not None:
                stage.run(ctx)
        check_written(stage.name, stage.writes, partial)
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
        contract = [a.as_record() for a in stage.writes]
        full = {**record, "writes": contract, "key_parts": self.key_parts[stage.name]}
        write_json(partial / STAGE_RECORD, full)
        partial.rename(self.stage_dir(stage.name))
        for message in ctx.notes.get("warnings", []):
            self.console.print(f"[yellow]![/yellow] {stage.name}: {message}", highlight=False)
        self.console.print(f"[green]✓[/green] {stage.name}: done in {duration_s:.1f} s")
        return record
