"""User-facing errors: the CLI prints these as one clear message, without a traceback."""

from __future__ import annotations


class GazeAlignError(Exception):
    """Base class of errors caused by user input (files, study keys, data), not by a bug."""


class StudyFileError(GazeAlignError):
    """A study file is missing, unreadable, or has an unknown, mistyped or invalid key."""


class DataError(GazeAlignError):
    """An input data file (images, recordings, weights) is malformed; names file and place."""


class PipelineError(GazeAlignError):
    """A stage could not run (e.g. an unknown stage name or a missing upstream artifact)."""
