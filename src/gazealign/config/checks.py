"""Checks of a study that no single key can make: names, cross-key rules, paths, patterns.

The types and ranges of each key are checked by the section models as the file is read. The
checks here run next, on the whole :class:`~gazealign.config.loader.StudyConfig`, before any stage
runs: names are looked up in the registries (the message lists what exists), pairs of keys are
checked against each other (tile size and input size, min <= max), patterns must compile, and the
input paths must exist. Every check names the key it is about; it runs when a stage about to
run reads that key (the stages' ``reads``), so ``gazealign run --until stimuli`` does not refuse
a study whose recordings are not there yet. Every problem found is one message naming its
keys; all are reported together.

To add a check: decorate a function ``(config) -> Iterable[Problem]`` with :func:`check`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gazealign.config.loader import StudyConfig
    from gazealign.registry import Registry


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a study: the keys involved and what is wrong."""

    keys: tuple[str, ...]
    message: str

    def text(self) -> str:
        names = ", ".join(f"'{k}'" for k in self.keys)
        return f"key{'s' if len(self.keys) > 1 else ''} {names}: {self.message}"


CheckFn = Callable[["StudyConfig"], Iterable[Problem]]


@dataclass(frozen=True)
class Check:
    """A check, and the dotted key it is about (it runs when a stage reads that key)."""

    fn: CheckFn
    key: str


CHECKS: list[Check] = []


def check(key: str) -> Callable[[CheckFn], CheckFn]:
    """Register a study check about ``key`` (dotted; a table name covers its keys)."""

    def decorate(fn: CheckFn) -> CheckFn:
        CHECKS.append(Check(fn, key))
        return fn

    return decorate


def _read(reads: Collection[str], key: str) -> bool:
    return any(key == r or key.startswith(r + ".") or r.startswith(key + ".") for r in reads)


def study_problems(config: StudyConfig, *, reads: Collection[str] | None = None) -> list[Problem]:
    """Every problem of ``config`` about the keys in ``reads`` (default: every key).

    Parameters
    ----------
    config
        A study whose keys already have valid types.
    reads
        The keys (dotted, or whole tables) that the stages about to run read; checks about
        other keys are skipped.

    Returns
    -------
    list of Problem
        In check order; empty when the study is fine.
    """
    out: list[Problem] = []
    for c in CHECKS:
        if reads is None or _read(reads, c.key):
            out.extend(c.fn(config))
    return out


def unknown_name(key: str, registry: Registry[Any], name: str) -> Iterator[Problem]:
    """A problem for ``name`` unless ``registry`` has it (the message lists what exists)."""
    if name not in registry:
        yield Problem((key,), registry.unknown_message(name))


# --- names in the registries ------------------------------------------------------------------


@check("stimuli.source")
def _layout(config: StudyConfig) -> Iterator[Problem]:
    from gazealign.stimuli.layout_registry import LAYOUTS

    s = config.stimuli
    if s.source not in LAYOUTS:
        yield from unknown_name("stimuli.source", LAYOUTS, s.source)
        return
    entry = LAYOUTS.get(s.source)
    if entry.path != "none" and s.path is None:
        kind = "dataset folder" if entry.path == "folder" else "file"
        yield Problem(
            ("stimuli.source", "stimuli.path"),
            f"layout {s.source!r} reads a {kind}: set stimuli.path",
        )
    if s.split.use_dataset_split and not entry.dataset_split:
        have = [e.name for e in LAYOUTS.entries() if e.dataset_split]
        yield Problem(
            ("stimuli.split.use_dataset_split", "stimuli.source"),
            f"layout {s.source!r} has no split of its own (layouts that do: {', '.join(have)})",
        )


@check("gaze.source")
def _gaze_format(config: StudyConfig) -> Iterator[Problem]:
    from gazealign.gaze.format_registry import GAZE_FORMATS

    g = config.gaze
    if g.source not in GAZE_FORMATS:
        yield from unknown_name("gaze.source", GAZE_FORMATS, g.source)
        return
    entry = GAZE_FORMATS.get(g.source)
    if entry.read is not None and g.path is None:
        yield Problem(
            ("gaze.source", "gaze.path"),
            f"gaze format {g.source!r} reads recording files: set gaze.path",
        )
    if not entry.samples and g.fixations != "events":
        yield Problem(
            ("gaze.fixations", "gaze.source"),
            f"{g.source!r} files hold fixations, not samples: detecting them with "
            f'{g.fixations!r} needs samples (use fixations = "events")',
        )


@check("gaze.fixations")
def _detector(config: StudyConfig) -> Iterator[Problem]:
    from gazealign.gaze.events import DETECTORS

    yield from unknown_name("gaze.fixations", DETECTORS, config.gaze.fixations)


@check("explain.methods")
def _explainers(config: StudyConfig) -> Iterator[Problem]:
    from gazealign.explain.base import EXPLAINERS

    for method in config.explain.methods:
        yield from unknown_name("explain.methods", EXPLAINERS, method)


@check("comparison.metrics.names")
def _metrics(config: StudyConfig) -> Iterator[Problem]:
    from gazealign.compare.metric_registry import METRICS

    names = config.comparison.metrics.names
    for name in names:
        yield from unknown_name("comparison.metrics.names", METRICS, name)
    if len(set(names)) != len(names):
        yield Problem(("comparison.metrics.names",), f"a metric is listed twice: {names}")


@check("comparison.metrics.ceiling_metrics")
def _ceiling_metrics(config: StudyConfig) -> Iterator[Problem]:
    from gazealign.compare.metric_registry import METRICS

    for name in config.comparison.metrics.ceiling_metrics:
        yield from unknown_name("comparison.metrics.ceiling_metrics", METRICS, name)


@check("comparison.perturbation.fill")
def _fill(config: StudyConfig) -> Iterator[Problem]:
    from gazealign.compare.fills import FILLS

    yield from unknown_name(
        "comparison.perturbation.fill", FILLS, config.comparison.perturbation.fill
    )


@check("comparison.perturbation.controls")
def _controls(config: StudyConfig) -> Iterator[Problem]:
    from gazealign.compare.controls import resolve
    from gazealign.registry import UnknownNameError

    names = config.comparison.perturbation.controls
    for name in names:
        try:
            resolve(name, config.explain.methods)
        except UnknownNameError as exc:
            yield Problem(("comparison.perturbation.controls",), str(exc))
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        yield Problem(
            ("comparison.perturbation.controls",), f"listed more than once: {', '.join(twice)}"
        )


@check("report.overview_method")
def _overview_method(config: StudyConfig) -> Iterator[Problem]:
    method = config.report.overview_method
    if method is not None and method not in config.explain.methods:
        yield Problem(
            ("report.overview_method", "explain.methods"),
            f"{method!r} is not one of the study's explain methods {config.explain.methods}",
        )


# --- keys that must agree ---------------------------------------------------------------------


def _ordered(keys: tuple[str, ...], low: float, high: float, what: str) -> Iterator[Problem]:
    if low > high:
        yield Problem(keys, f"the lowest {what} ({low}) is above the highest ({high})")


@check("stimuli.synthetic")
def _intensity(config: StudyConfig) -> Iterator[Problem]:
    s = config.stimuli.synthetic
    keys = ("stimuli.synthetic.intensity_min", "stimuli.synthetic.intensity_max")
    yield from _ordered(keys, s.intensity_min, s.intensity_max, "expression intensity")


@check("model.train.augmentation")
def _brightness(config: StudyConfig) -> Iterator[Problem]:
    a = config.model.train.augmentation
    keys = ("model.train.augmentation.brightness_min", "model.train.augmentation.brightness_max")
    yield from _ordered(keys, a.brightness_min, a.brightness_max, "brightness factor")


@check("gaze.simulation.viewing_ms")
def _viewing(config: StudyConfig) -> Iterator[Problem]:
    low, high = config.gaze.simulation.viewing_ms
    yield from _ordered(("gaze.simulation.viewing_ms",), low, high, "viewing time in ms")


@check("comparison.perturbation.tile_px")
def _tile_size(config: StudyConfig) -> Iterator[Problem]:
    tile = config.comparison.perturbation.tile_px
    side = config.stimuli.input_size_px
    if tile > side:
        yield Problem(
            ("comparison.perturbation.tile_px", "stimuli.input_size_px"),
            f"a tile of {tile} px is larger than the {side} px model input (at most {side})",
        )


@check("explain.occlusion_window_px")
def _occlusion_window(config: StudyConfig) -> Iterator[Problem]:
    e = config.explain
    if "occlusion" not in e.methods:
        return
    side = config.stimuli.input_size_px
    if e.occlusion_window_px > side:
        yield Problem(
            ("explain.occlusion_window_px", "stimuli.input_size_px"),
            f"an occlusion window of {e.occlusion_window_px} px is larger than the {side} px "
            "model input",
        )


@check("comparison.split")
def _compared_split_is_explained(config: StudyConfig) -> Iterator[Problem]:
    split = config.comparison.split
    explained = config.explain.splits
    if split != "all" and split not in explained:
        yield Problem(
            ("comparison.split", "explain.splits"),
            f"the {split!r} split is compared but not explained (explain.splits = {explained}); "
            "no image would have a network map",
        )


@check("model.architecture")
def _zoo_network(config: StudyConfig) -> Iterator[Problem]:
    from gazealign.models import zoo

    m = config.model
    if m.architecture not in zoo.names():
        return
    net = zoo.get(m.architecture)
    if config.stimuli.input_size_px != net.input_size_px:
        yield Problem(
            ("model.architecture", "stimuli.input_size_px"),
            f"the zoo network {net.name} takes {net.input_size_px} px inputs, the stimuli are "
            f"{config.stimuli.input_size_px} px (set input_size_px = {net.input_size_px})",
        )
    if m.train.epochs > 0:
        yield Problem(
            ("model.architecture", "model.train.epochs"),
            f"the zoo network {net.name} is used as given (fine-tuning it is not supported): "
            "set epochs = 0",
        )
    if m.weights is not None:
        yield Problem(
            ("model.architecture", "model.weights"),
            f"the zoo network {net.name} brings its own weights; remove model.weights",
        )


@check("model.train.epochs")
def _explain_only(config: StudyConfig) -> Iterator[Problem]:
    from gazealign.models import zoo

    m = config.model
    if m.train.epochs > 0 or m.architecture in zoo.names():
        return
    if m.weights is None:
        yield Problem(
            ("model.train.epochs", "model.weights"),
            "epochs = 0 uses the network as given, but no weights are set and the architecture "
            "is not a zoo network (the network would be untrained)",
        )
    elif m.weights_layers != "all":
        yield Problem(
            ("model.train.epochs", "model.weights_layers"),
            "epochs = 0 uses the network as given: every layer must come from the file "
            '(weights_layers = "all"; "backbone" leaves fc8 untrained)',
        )


@check("stimuli.aoi_method")
def _landmarks_installed(config: StudyConfig) -> Iterator[Problem]:
    from gazealign.stimuli import landmarks

    if config.stimuli.aoi_method == "landmarks" and not landmarks.available():
        yield Problem(
            ("stimuli.aoi_method",),
            f"landmark regions need the 'landmarks' extra; install it with: {landmarks.INSTALL}",
        )


# --- patterns ---------------------------------------------------------------------------------


def _pattern(key: str, pattern: str | None, groups: Collection[str] = ()) -> Iterator[Problem]:
    if not pattern:
        return
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        yield Problem((key,), f"not a valid regular expression ({exc}): {pattern!r}")
        return
    missing = [g for g in groups if g not in compiled.groupindex]
    if missing:
        yield Problem(
            (key,), f"the pattern {pattern!r} has no group {missing} (write (?P<name>...))"
        )


@check("gaze.trials")
def _trial_patterns(config: StudyConfig) -> Iterator[Problem]:
    t = config.gaze.trials
    yield from _pattern("gaze.trials.start", t.start)
    yield from _pattern("gaze.trials.onset", t.onset)
    yield from _pattern("gaze.trials.offset", t.offset)
    yield from _pattern("gaze.trials.response_message", t.response_message, ("response",))


@check("stimuli.subject_pattern")
def _subject_pattern(config: StudyConfig) -> Iterator[Problem]:
    pattern = config.stimuli.subject_pattern
    problems = list(_pattern("stimuli.subject_pattern", pattern))
    yield from problems
    if pattern and not problems and re.compile(pattern).groups == 0:
        yield Problem(
            ("stimuli.subject_pattern",),
            f"the pattern {pattern!r} has no group (its first group is the identity)",
        )


# --- paths ------------------------------------------------------------------------------------


def _path_exists(config: StudyConfig, key: str, kind: str = "") -> Iterator[Problem]:
    section, name = key.split(".")
    value = getattr(getattr(config, section), name)
    if value is None:
        return
    path = config.resolve(value)
    if not path.exists():
        yield Problem((key,), f"file or folder {str(value)!r} does not exist (looked in {path})")
    elif kind == "folder" and not path.is_dir():
        yield Problem((key,), f"{str(value)!r} is a file; this source reads a folder")
    elif kind == "file" and not path.is_file():
        yield Problem((key,), f"{str(value)!r} is a folder; this source reads a file")


@check("stimuli.path")
def _stimuli_path(config: StudyConfig) -> Iterator[Problem]:
    from gazealign.stimuli.layout_registry import LAYOUTS

    source = config.stimuli.source
    kind = LAYOUTS.get(source).path if source in LAYOUTS else ""
    yield from _path_exists(config, "stimuli.path", kind)


@check("model.weights")
def _weights_path(config: StudyConfig) -> Iterator[Problem]:
    yield from _path_exists(config, "model.weights")


@check("gaze.path")
def _gaze_path(config: StudyConfig) -> Iterator[Problem]:
    yield from _path_exists(config, "gaze.path")
