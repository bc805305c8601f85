"""Importing every module of a package, so that what they register (decorators) is there.

A registry that fills itself from the modules of a package calls :func:`import_submodules` with
the package's name as a literal (or ``__name__``). The pipeline's code keys read that call: a
module that calls it depends on every module of that package, so a new module dropped into the
package reruns exactly the stages that import the registry
(:mod:`gazealign.pipeline.codehash`).
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def import_submodules(package: str) -> list[ModuleType]:
    """Import every module and subpackage under ``package`` (sorted by name); return them."""
    root = importlib.import_module(package)
    path = getattr(root, "__path__", None)
    if path is None:
        raise ValueError(f"{package!r} is a module, not a package")
    modules = []
    for info in sorted(pkgutil.walk_packages(path, prefix=f"{package}."), key=lambda i: i.name):
        modules.append(importlib.import_module(info.name))
    return modules
