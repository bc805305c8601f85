"""The dataset-layout registry: how a dataset on disk becomes a :class:`Scan` of images.

A layout registers its scan function with :func:`layout` where it is defined (built-ins in
:mod:`gazealign.stimuli.kdef` and :mod:`gazealign.stimuli.layouts`; a new module in
``gazealign/stimuli/`` or a plug-in module registers the same way). The scan function takes the
dataset path (``stimuli.path``, resolved) and the ``[stimuli]`` table, and reads names only; the
stimuli stage decodes, crops and splits the records it returns. ``synthetic`` is registered
without a scan function: the stage renders those faces itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from gazealign.registry import Registry
from gazealign.stimuli.dataset import Scan

if TYPE_CHECKING:
    from gazealign.config.stimuli import StimuliSection

ScanFn = Callable[[Path, "StimuliSection"], Scan]
PathKind = Literal["folder", "file", "none"]
F = TypeVar("F", bound=ScanFn)


@dataclass(frozen=True)
class Layout:
    """One dataset layout.

    ``scan``: (path, [stimuli] table) -> Scan, or None for faces the stage renders.
    ``path``: what ``stimuli.path`` must name (a folder, a file, or nothing).
    ``dataset_split``: the records carry the dataset's own split (metadata ``usage``), which
    ``stimuli.split.use_dataset_split`` can use instead of drawing identities.
    """

    name: str
    description: str
    scan: ScanFn | None
    path: PathKind = "folder"
    dataset_split: bool = False
    extra: str | None = None


#: Every dataset layout (``stimuli.source``).
LAYOUTS: Registry[Layout] = Registry("dataset layout", ("gazealign.stimuli",))


def layout(
    name: str,
    *,
    description: str,
    path: PathKind = "folder",
    dataset_split: bool = False,
    extra: str | None = None,
) -> Callable[[F], F]:
    """Register the decorated ``scan(path, cfg) -> Scan`` as dataset layout ``name``.

    Named in ``stimuli.source``; returns the function unchanged.

    Parameters
    ----------
    path
        What ``stimuli.path`` names: ``folder``, ``file`` (checked at load).
    dataset_split
        Whether its records carry the dataset's own train/val/test split (``usage``).
    """

    def decorate(fn: F) -> F:
        LAYOUTS.add(Layout(name, description, fn, path, dataset_split, extra))
        return fn

    return decorate


LAYOUTS.add(
    Layout(
        "synthetic",
        "Built-in synthetic faces with exact facial regions, rendered by the stimuli stage",
        None,
        path="none",
    )
)


def scan_layout(cfg: StimuliSection, resolve: Callable[[Path], Path]) -> Scan:
    """Scan the dataset the ``[stimuli]`` table names with its registered layout.

    Raises
    ------
    ValueError
        The layout has no scan function (``synthetic``: the stage renders it).
    DataError
        ``stimuli.path`` is missing.
    """
    from gazealign.errors import DataError

    entry = LAYOUTS.get(cfg.source)
    if entry.scan is None:
        raise ValueError(f"{cfg.source} faces are rendered by the stage, not scanned")
    if cfg.path is None:
        raise DataError(f"[stimuli] source = {cfg.source!r} needs `path` (dataset folder or CSV)")
    return entry.scan(resolve(cfg.path), cfg)
