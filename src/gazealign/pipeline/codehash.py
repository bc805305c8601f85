"""Which source files a stage runs: its module and the gazealign modules it imports, transitively.

A stage's cache key hashes these files (not the whole package), so a new metric reruns the
stages that import the metrics and a typo fixed in the report reruns only the report.

The imports are found by reading the source (:mod:`ast`), not by importing it: every ``import``
and ``from ... import`` anywhere in a module (inside functions too, where heavy imports are
deferred) counts, except those under ``if TYPE_CHECKING:``, which never run. Importing
``gazealign.a.b`` also runs the package files ``gazealign/__init__.py`` and
``gazealign/a/__init__.py``, so they count too. Modules outside gazealign (a user's plug-in
module) count with their own file, followed into the gazealign modules they import.

The study-file schema (:mod:`gazealign.config`) is not followed: what it gives a stage is the
values of the keys the stage reads, which the key holds already, and its load-time checks (which
import every registry) change no output.

Registries fill themselves by importing the modules of a package, which no import statement
shows, so two calls count as imports:

* ``Registry(role, ("gazealign.pkg", ...))`` (:class:`gazealign.registry.Registry`) in module
  ``M``: the modules of those packages that import ``M`` (the entries register through ``M``:
  a new metric module imports the metric registry), so a new metric reruns the stages that use
  the metrics, not those that use another registry over the same package;
* ``import_submodules("gazealign.pkg")`` (:func:`gazealign.discovery.import_submodules`): every
  module of the package.

:mod:`modulefinder` walks bytecode into every standard-library and third-party module, cannot
tell ``TYPE_CHECKING`` imports from real ones and does not know the registries' discovery call;
the walk here stays inside gazealign and reads only its source.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE = "gazealign"

#: Packages whose code enters no stage key (see the module docstring).
NOT_FOLLOWED = ("gazealign.config",)

#: The package's source folder (``.../gazealign``).
PACKAGE_ROOT = Path(__file__).resolve().parents[1]

_DISCOVERY_CALL = "import_submodules"
_REGISTRY_CALL = "Registry"


def module_file(name: str, root: Path = PACKAGE_ROOT) -> Path | None:
    """The source file of module ``name``: a gazealign module under ``root``, else the importer's."""
    if name == PACKAGE or name.startswith(PACKAGE + "."):
        parts = name.split(".")[1:]
        base = root.joinpath(*parts)
        candidates = (
            [base.with_suffix(".py"), base / "__init__.py"] if parts else [base / "__init__.py"]
        )
        return next((c for c in candidates if c.is_file()), None)
    module = sys.modules.get(name)
    file = getattr(module, "__file__", None)
    if file is None:
        spec = importlib.util.find_spec(name)
        file = spec.origin if spec is not None else None
    return Path(file) if file and str(file).endswith(".py") else None


def _is_package(name: str, root: Path) -> bool:
    file = module_file(name, root)
    return file is not None and file.name == "__init__.py"


def _resolve(module: str, level: int, name: str | None, root: Path) -> str:
    """Absolute name of ``from <level dots><name> import ...`` inside ``module``."""
    if level == 0:
        return name or ""
    package = module if _is_package(module, root) else module.rpartition(".")[0]
    for _ in range(level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{name}" if name else package


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:``."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def _submodules(package: str, root: Path) -> list[str]:
    """Every module under the gazealign package ``package`` (files on disk, not imported)."""
    file = module_file(package, root)
    if file is None or file.name != "__init__.py":
        return []
    folder = file.parent
    out = []
    for path in sorted(folder.rglob("*.py")):
        rel = path.relative_to(folder).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        if parts:
            out.append(".".join((package, *parts)))
    return out


@dataclass(frozen=True)
class _Analysis:
    imports: frozenset[str]  # gazealign modules imported by statements (and import_submodules)
    registries: frozenset[str]  # packages whose modules importing this one are its entries


def _string_tuple(node: ast.expr | None) -> list[str]:
    if isinstance(node, ast.Tuple | ast.List):
        return [
            e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
        ]
    return []


def _analyse(name: str, root: Path) -> _Analysis:
    file = module_file(name, root)
    if file is None:
        return _Analysis(frozenset(), frozenset())
    tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    found: set[str] = set()
    registries: set[str] = set()
    for node in _nodes(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, node.level, node.module, root)
            found.add(base)
            # `from gazealign.a import b` imports the module gazealign.a.b when there is one.
            found.update(f"{base}.{a.name}" for a in node.names if a.name != "*")
        elif isinstance(node, ast.Call) and _calls(node, _DISCOVERY_CALL):
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.update(_submodules(arg.value, root))
            elif isinstance(arg, ast.Name) and arg.id == "__name__":
                found.update(_submodules(name, root))
        elif isinstance(node, ast.Call) and _calls(node, _REGISTRY_CALL):
            packages = node.args[1] if len(node.args) > 1 else None
            for kw in node.keywords:
                if kw.arg == "packages":
                    packages = kw.value
            registries.update(_string_tuple(packages))
    imports = {
        m
        for m in found
        if m.split(".")[0] == PACKAGE
        and not any(m == p or m.startswith(p + ".") for p in NOT_FOLLOWED)
        and module_file(m, root) is not None
    }
    return _Analysis(frozenset(imports), frozenset(registries))


def direct_imports(name: str, root: Path = PACKAGE_ROOT) -> set[str]:
    """The gazealign modules module ``name`` imports by statement (package files not added)."""
    return set(_analyse(name, root).imports)


def _calls(node: ast.Call, function: str) -> bool:
    func = node.func
    return (isinstance(func, ast.Name) and func.id == function) or (
        isinstance(func, ast.Attribute) and func.attr == function
    )


def _with_packages(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def module_closure(
    modules: Iterable[str], root: Path = PACKAGE_ROOT, *, memo: dict[str, Any] | None = None
) -> set[str]:
    """``modules`` plus every gazealign module they import, transitively, with their packages.

    ``memo`` may be shared between calls over one unchanged tree (it caches each module's
    analysis).
    """
    memo = {} if memo is None else memo

    def analysis(name: str) -> _Analysis:
        if name not in memo:
            memo[name] = _analyse(name, root)
        result: _Analysis = memo[name]
        return result

    seen: set[str] = set()
    todo = [p for m in modules for p in _with_packages(m)]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found = analysis(name)
        imported = set(found.imports)
        for package in found.registries:
            imported.update(m for m in _submodules(package, root) if name in analysis(m).imports)
        for module in imported:
            todo.extend(p for p in _with_packages(module) if p not in seen)
    return {m for m in seen if module_file(m, root) is not None}


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def code_hashes(
    modules: Iterable[str], root: Path = PACKAGE_ROOT, *, memo: dict[str, Any] | None = None
) -> dict[str, str]:
    """SHA-256 (16 hex digits) of each file in the closure of ``modules``, by module name."""
    out = {}
    for name in sorted(module_closure(modules, root, memo=memo)):
        file = module_file(name, root)
        assert file is not None
        out[name] = file_hash(file)
    return out


def changed_modules(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """Lines saying which modules were added, removed or edited between two code hash maps."""
    lines = [f"{m} (new)" for m in sorted(set(new) - set(old))]
    lines += [f"{m} (no longer imported)" for m in sorted(set(old) - set(new))]
    lines += [f"{m} (edited)" for m in sorted(set(old) & set(new)) if old[m] != new[m]]
    return lines
