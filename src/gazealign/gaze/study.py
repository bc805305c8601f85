"""A study's recordings, read and aligned: the plain functions behind the ``gaze`` stage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from gazealign.coords import Placement
from gazealign.errors import DataError
from gazealign.gaze.align import AlignOptions, StimulusInfo, align_recording
from gazealign.gaze.format_registry import GAZE_FORMATS, ReadContext, reader
from gazealign.gaze.recording import Recording
from gazealign.types import validate_fixations


def find_recordings(path: Path, source: str) -> list[Path]:
    """The recording files at ``path``: the file itself, or a folder's files of the format's suffix.

    Parameters
    ----------
    path
        A recording file, or a folder of them.
    source
        A registered gaze format (its ``suffix`` selects a folder's files).

    Returns
    -------
    list of Path
        Sorted by name.

    Raises
    ------
    DataError
        No such file or folder, or a folder without files of the format.
    """
    suffix = GAZE_FORMATS.get(source).suffix
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"{path}: no such recording file or folder")
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == suffix)
    if not files:
        raise DataError(f"{path}: no {suffix} files for gaze source {source!r}")
    return files


def read_recordings(
    paths: Iterable[Path],
    source: str,
    *,
    placements: Mapping[str, Placement] | None = None,
    options: AlignOptions | None = None,
) -> list[Recording]:
    """Read every file with the reader of format ``source``; a file may yield several subjects.

    Parameters
    ----------
    paths
        Recording files.
    source
        A registered gaze format with a reader.
    placements
        Where each stimulus was on screen (formats that store the stimulus frame).
    options
        Alignment options; their ``screen`` goes to the reader.

    Returns
    -------
    list of Recording
        In file order.

    Raises
    ------
    DataError
        A file the reader refuses, or one subject in two files.
    """
    read = reader(source)
    context = ReadContext(
        screen=options.screen if options else None, placements=dict(placements or {})
    )
    out: list[Recording] = []
    for path in paths:
        out.extend(read(path, context))
    subjects = [r.subject for r in out]
    dupes = sorted({s for s in subjects if subjects.count(s) > 1})
    if dupes:
        raise DataError(f"subjects {dupes} appear in more than one recording file")
    return out


def align_all(
    recordings: Iterable[Recording],
    stimuli: Mapping[str, StimulusInfo],
    options: AlignOptions,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(fixations, trials, quality) over all recordings; fixations in the stimulus frame."""
    fix, trials, quality = [], [], []
    for rec in recordings:
        aligned = align_recording(rec, stimuli, options)
        fix.append(aligned.fixations)
        trials.append(aligned.trials)
        quality.append(aligned.quality)
    if not fix:
        raise DataError("no recordings to analyse")
    fixations = validate_fixations(pd.concat(fix, ignore_index=True), source="fixations")
    return fixations, pd.concat(trials, ignore_index=True), pd.DataFrame(quality)
