"""Build a report from a study's stage folders, inside a run or afterwards from its run folder."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gazealign.config import StudyConfig
from gazealign.errors import DataError
from gazealign.pipeline.store import read_json
from gazealign.report.html import ReportOptions, build_report
from gazealign.report.inputs import find_stage_dirs, gather_inputs


def options_from_config(config: StudyConfig) -> ReportOptions:
    """Figure formats, resolution, overlay percentile and confidence level from the study.

    Parameters
    ----------
    config
        The study.

    Returns
    -------
    ReportOptions
        The report's options.
    """
    return ReportOptions(
        formats=tuple(config.report.figure_formats),
        dpi=config.report.dpi,
        percentile=config.report.overlay_percentile,
        confidence=config.comparison.confidence,
    )


def write_report(
    stage_dirs: Mapping[str, Path],
    out_dir: Path,
    *,
    config: StudyConfig,
    study_toml: str,
    manifest: Mapping[str, Any] | None = None,
) -> tuple[Path, dict[str, str]]:
    """Gather the inputs, write the report into ``out_dir``; return the page and absent pieces.

    Parameters
    ----------
    stage_dirs
        Finished stage folders by stage name (a ``report`` entry is ignored).
    out_dir
        Folder for the page, ``summary.json`` and ``figures/``.
    config
        The study.
    study_toml
        The study file's text, shown in the report.
    manifest
        The run's ``manifest.json`` (versions, seeds, stage order).

    Returns
    -------
    (pathlib.Path, dict)
        The page, and the pieces that were absent with the reason for each.
    """
    inputs = gather_inputs(
        {n: p for n, p in stage_dirs.items() if n != "report"},
        config=config,
        study_toml=study_toml,
        manifest=manifest,
    )
    page = build_report(inputs, out_dir, options_from_config(config))
    return page, inputs.absent


def _run_config(run_dir: Path, study_toml: str) -> StudyConfig:
    """The study of a run folder; only the report's own options are taken from it."""
    if not study_toml:
        return StudyConfig()
    try:
        data = tomllib.loads(study_toml)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{run_dir / 'study.toml'}: not valid TOML: {exc}") from None
    try:
        # validated without the input-path check: a run folder may outlive its data folders
        return StudyConfig.model_validate(data)
    except ValidationError as exc:
        raise DataError(f"{run_dir / 'study.toml'}: not a valid study file:\n{exc}") from None


def report_from_run(run_dir: Path, out_dir: Path | None = None) -> tuple[Path, dict[str, str]]:
    """Rebuild a run's report from its artifacts (default output folder: ``run_dir/report``).

    Stage folders come from ``run_dir/manifest.json`` or, failing that, the finished folders under
    ``run_dir/stages/``; the configuration from ``run_dir/study.toml``.

    Parameters
    ----------
    run_dir
        The run folder.
    out_dir
        Where to write (default ``run_dir/report``).

    Returns
    -------
    (pathlib.Path, dict)
        The page, and the absent pieces with their reasons.

    Raises
    ------
    DataError
        No such folder, no finished stage folder in it, or an unreadable ``study.toml``.
    """
    if not run_dir.is_dir():
        raise DataError(f"run folder {str(run_dir)!r} does not exist")
    stage_dirs = find_stage_dirs(run_dir)
    if not stage_dirs:
        raise DataError(
            f"{run_dir}: no finished stage folders (expected stages/<name>/<key>/_stage.json); "
            "is this a gazealign run folder?"
        )
    study_path = run_dir / "study.toml"
    study_toml = study_path.read_text(encoding="utf-8") if study_path.exists() else ""
    manifest_path = run_dir / "manifest.json"
    manifest = read_json(manifest_path) if manifest_path.exists() else {}
    config = _run_config(run_dir, study_toml)
    return write_report(
        stage_dirs,
        out_dir or run_dir / "report",
        config=config,
        study_toml=study_toml,
        manifest=manifest,
    )
