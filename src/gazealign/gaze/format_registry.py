"""The gaze-format registry: how a recording file becomes :class:`Recording` objects.

A format registers its reader with :func:`gaze_format` where it is defined (built-ins in
:mod:`gazealign.gaze.asc`, :mod:`gazealign.gaze.edf`, :mod:`gazealign.gaze.csvfmt`; a new module
in ``gazealign/gaze/`` or a plug-in module registers the same way). A reader takes one file and a
:class:`ReadContext` and returns its recordings (one file may hold several subjects).
``simulated`` is registered without a reader: the gaze stage simulates observers and writes ASC.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from gazealign.coords import Placement, ScreenGeometry
from gazealign.gaze.recording import Recording
from gazealign.registry import Registry


@dataclass(frozen=True)
class ReadContext:
    """What a reader may need besides the file: the screen, and each stimulus' placement."""

    screen: ScreenGeometry | None = None
    placements: Mapping[str, Placement] = field(default_factory=dict)


ReadFn = Callable[[Path, ReadContext], list[Recording]]
F = TypeVar("F", bound=ReadFn)


@dataclass(frozen=True)
class GazeFormat:
    """One recording format.

    ``read``: (file, context) -> recordings, or None (``simulated``). ``suffix``: the file
    extension a folder of recordings is searched for. ``samples``: the files hold gaze samples
    (so fixations can be detected from them), not only fixations.
    """

    name: str
    description: str
    read: ReadFn | None
    suffix: str
    samples: bool = True
    extra: str | None = None


#: Every gaze recording format (``gaze.source``).
GAZE_FORMATS: Registry[GazeFormat] = Registry("gaze format", ("gazealign.gaze",))


def gaze_format(
    name: str,
    *,
    description: str,
    suffix: str,
    samples: bool = True,
    extra: str | None = None,
) -> Callable[[F], F]:
    """Register the decorated ``read(path, context) -> list[Recording]`` as format ``name``.

    Named in ``gaze.source``; returns the function unchanged.

    Parameters
    ----------
    suffix
        File extension (``.asc``) searched for in a folder of recordings.
    samples
        Whether the files hold gaze samples (not only fixations).
    """

    def decorate(fn: F) -> F:
        GAZE_FORMATS.add(GazeFormat(name, description, fn, suffix.lower(), samples, extra))
        return fn

    return decorate


GAZE_FORMATS.add(
    GazeFormat(
        "simulated",
        "Built-in simulated observers (written as EyeLink ASC by the gaze stage)",
        None,
        ".asc",
    )
)


def reader(name: str) -> ReadFn:
    """The reader of format ``name`` (an error for an unknown name or ``simulated``)."""
    entry = GAZE_FORMATS.get(name)
    if entry.read is None:
        raise ValueError(f"gaze format {name!r} has no reader (the gaze stage makes it)")
    return entry.read


def format_for_file(path: Path) -> GazeFormat:
    """The first sample format (registration order) whose suffix is the file's.

    Raises
    ------
    DataError
        No registered sample format reads files of this suffix.
    """
    from gazealign.errors import DataError

    suffix = path.suffix.lower()
    found = [f for f in GAZE_FORMATS.entries() if f.read and f.samples and f.suffix == suffix]
    if not found:
        known = sorted({f.suffix for f in GAZE_FORMATS.entries() if f.read and f.samples})
        raise DataError(
            f"{path}: unknown recording type {suffix!r}; expected one of {', '.join(known)}"
        )
    return found[0]
