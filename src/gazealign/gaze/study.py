"""A study's recordings, read and aligned: the plain functions behind the ``gaze`` stage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from gazealign.coords import Placement
from gazealign.errors import DataError
from gazealign.gaze.align import AlignOptions, StimulusInfo, align_recording
from gazealign.gaze.asc import read_asc
from gazealign.gaze.csvfmt import read_fixations_csv, read_samples_csv
from gazealign.gaze.edf import read_edf
from gazealign.gaze.recording import Recording
from gazealign.types import validate_fixations

#: File extension of each recording source.
SOURCE_SUFFIX: dict[str, str] = {
    "asc": ".asc",
    "edf": ".edf",
    "csv_samples": ".csv",
    "csv_fixations": ".csv",
}


def find_recordings(path: Path, source: str) -> list[Path]:
    """The recording files at ``path``: the file itself, or a folder's files of the source's type."""
    if source not in SOURCE_SUFFIX:
        raise DataError(
            f"unknown recording source {source!r}; expected one of {list(SOURCE_SUFFIX)}"
        )
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"{path}: no such recording file or folder")
    suffix = SOURCE_SUFFIX[source]
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
    """Read every file of ``source`` format; a fixation CSV may yield several subjects."""
    out: list[Recording] = []
    for path in paths:
        if source == "asc":
            out.append(read_asc(path))
        elif source == "edf":
            out.append(read_edf(path))
        elif source == "csv_samples":
            out.append(read_samples_csv(path))
        elif source == "csv_fixations":
            screen = options.screen if options else None
            out.extend(read_fixations_csv(path, screen=screen, placements=dict(placements or {})))
        else:
            raise DataError(f"unknown recording source {source!r}")
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
