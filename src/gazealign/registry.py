"""Registries for the pluggable roles: name -> entry, filled by decorators next to the code.

Each role (dataset layouts, gaze formats, fixation detectors, explainers, metrics, perturbation
fills) has one :class:`Registry`. An entry is registered where it is defined, the way zennit
registers composites and pymovements its event detectors::

    @METRICS.register("nss", description="Normalized scanpath saliency", ...)
    def nss(saliency_map, fixations): ...

Built-in entries are found automatically: the first lookup imports every module of the role's
packages (so a new file in ``gazealign/compare/`` that registers a metric needs no edit
elsewhere). A module whose optional dependency is missing (an extra) is skipped and remembered,
so an unknown name can say which extra would provide it. Plug-ins from outside the package
register the same way, from a module named in the study file's top-level ``plugins`` list
(:func:`load_plugins`) or from a ``gazealign.plugins`` entry point of an installed package.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, entry_points, requires
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from gazealign.errors import GazeAlignError

#: Entry-point group of installed plug-in packages (each entry names a module to import).
ENTRY_POINT_GROUP = "gazealign.plugins"


class Registered(Protocol):
    """What every registry entry has: a unique name, a one-line description, its extra."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def extra(self) -> str | None: ...


E = TypeVar("E", bound=Registered)
F = TypeVar("F", bound=Callable[..., Any])


class UnknownNameError(GazeAlignError, KeyError):
    """A name that no entry of a registry has; the message lists the names that exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass
class Registry(Generic[E]):
    """Entries of one role, by name.

    Parameters
    ----------
    role
        What an entry is, for messages ("dataset layout", "metric").
    packages
        Packages whose modules are imported on first lookup (built-in entries register there).
    """

    role: str
    packages: tuple[str, ...]
    _entries: dict[str, E] = field(default_factory=dict, repr=False)
    _skipped: dict[str, str] = field(default_factory=dict, repr=False)
    _discovered: bool = field(default=False, repr=False)

    def add(self, entry: E) -> E:
        """Register ``entry``; a second, different entry under the same name is an error."""
        old = self._entries.get(entry.name)
        if old is not None and old is not entry and not _same_definition(old, entry):
            raise ValueError(f"{self.role} {entry.name!r} is registered twice")
        self._entries[entry.name] = entry
        return entry

    def remove(self, name: str) -> E:
        """Take entry ``name`` out (tests, and plug-ins that replace a built-in); returns it."""
        return self._entries.pop(name)

    def get(self, name: str) -> E:
        """The entry called ``name``.

        Raises
        ------
        UnknownNameError
            No such entry; the message lists the registered names and any module that could
            not be imported for a missing extra.
        """
        self.discover()
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self.unknown_message(name)) from None

    def unknown_message(self, name: str) -> str:
        """``unknown <role> 'x'; available: a, b`` (+ the modules a missing extra kept out)."""
        self.discover()
        known = ", ".join(sorted(self._entries)) or "(none)"
        text = f"unknown {self.role} {name!r}; available: {known}"
        for module, missing in sorted(self._skipped.items()):
            text += f" (not loaded: {module}, which needs {missing})"
        return text

    def names(self) -> list[str]:
        """Registered names in registration order (built-ins: module by module, as defined)."""
        self.discover()
        return list(self._entries)

    def entries(self) -> list[E]:
        """Registered entries in registration order."""
        self.discover()
        return list(self._entries.values())

    def __contains__(self, name: object) -> bool:
        self.discover()
        return name in self._entries

    def __iter__(self) -> Iterator[E]:
        return iter(self.entries())

    def discover(self) -> None:
        """Import the built-in modules (once) and the installed plug-ins' entry points."""
        if self._discovered:
            return
        self._discovered = True
        for package in self.packages:
            for module in _package_modules(package):
                missing = _import_builtin(module)
                if missing is not None:
                    self._skipped[module] = missing
        load_entry_points()


def _same_definition(a: object, b: object) -> bool:
    # a module imported twice (e.g. a plug-in file loaded by path, then by name) re-registers
    # an equal entry made from the same source: not a conflict
    code_a = getattr(getattr(a, "fn", getattr(a, "compute", None)), "__code__", None)
    code_b = getattr(getattr(b, "fn", getattr(b, "compute", None)), "__code__", None)
    return code_a is not None and code_b is not None and code_a.co_filename == code_b.co_filename


def _package_modules(package: str) -> list[str]:
    pkg = importlib.import_module(package)
    paths = getattr(pkg, "__path__", None)
    if paths is None:
        return []
    return sorted(
        info.name
        for info in pkgutil.walk_packages(paths, prefix=f"{package}.")
        if not info.name.rsplit(".", 1)[-1].startswith("_")
    )


def _import_builtin(module: str) -> str | None:
    """Import a built-in module; the description of a missing optional dependency, or None."""
    try:
        importlib.import_module(module)
    except ImportError as exc:
        top = (exc.name or "").split(".")[0]
        if not top or top == "gazealign":  # a broken built-in module is a bug, not a user error
            raise
        extra = extra_providing(top)
        return f"the '{top}' package" + (f" (pip install 'gazealign[{extra}]')" if extra else "")
    return None


def extra_providing(package: str) -> str | None:
    """The gazealign extra whose requirements include ``package`` (None if none, or unknown)."""
    try:
        reqs = requires("gazealign") or []
    except PackageNotFoundError:
        return None
    norm = package.replace("_", "-").lower()
    for req in reqs:
        m = re.match(r"\s*([A-Za-z0-9_.-]+).*extra\s*==\s*['\"]([^'\"]+)['\"]", req)
        if m and m.group(1).replace("_", "-").lower() == norm and m.group(2) != "dev":
            return m.group(2)
    return None


_ENTRY_POINTS_LOADED = False


def load_entry_points() -> None:
    """Import the module of every ``gazealign.plugins`` entry point (once per process)."""
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as exc:
            raise GazeAlignError(
                f"plug-in entry point {ep.name!r} ({ep.value}) of group {ENTRY_POINT_GROUP!r} "
                f"failed to load: {type(exc).__name__}: {exc}"
            ) from None


def load_plugins(names: Sequence[str], *, base_dir: Path) -> None:
    """Import user plug-in modules: a module name (``mylab.layouts``) or a ``.py`` file path.

    Parameters
    ----------
    names
        Module names importable from ``sys.path`` or from ``base_dir``, or paths of Python
        files (relative paths are read from ``base_dir``).
    base_dir
        The study file's folder.

    Raises
    ------
    GazeAlignError
        A module that cannot be found or fails while importing (the message names it).
    """
    for name in names:
        try:
            if name.endswith(".py") or "/" in name or "\\" in name:
                _load_file(Path(name) if Path(name).is_absolute() else base_dir / name)
            else:
                _load_module(name, base_dir)
        except GazeAlignError:
            raise
        except Exception as exc:
            raise GazeAlignError(
                f"plug-in {name!r} failed to import: {type(exc).__name__}: {exc}"
            ) from None


def _load_module(name: str, base_dir: Path) -> None:
    if name in sys.modules:
        return
    if importlib.util.find_spec(name.split(".")[0]) is None:
        local = base_dir / (name.replace(".", "/") + ".py")
        if local.is_file():
            _load_file(local, module_name=name)
            return
        raise GazeAlignError(
            f"plug-in module {name!r} not found (not importable, and no {local} either)"
        )
    importlib.import_module(name)


def _load_file(path: Path, *, module_name: str | None = None) -> None:
    path = path.resolve()
    if not path.is_file():
        raise GazeAlignError(f"plug-in file {str(path)!r} does not exist")
    name = module_name or f"gazealign_plugin_{path.stem}"
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__file__", None) == str(path):
        return
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise GazeAlignError(f"plug-in file {str(path)!r} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before exec: dataclasses and pickling look the module up
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
