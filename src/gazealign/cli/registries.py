"""``gazealign list [ROLE]``: what each registry holds (names a study file can use)."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from gazealign.errors import GazeAlignError

console = Console()


def registries() -> dict[str, Any]:
    """Role name (as the command takes it) -> its registry; the study key it fills."""
    from gazealign.compare.controls import CONTROLS
    from gazealign.compare.fills import FILLS
    from gazealign.compare.metric_registry import METRICS
    from gazealign.explain.base import EXPLAINERS
    from gazealign.gaze.events import DETECTORS
    from gazealign.gaze.format_registry import GAZE_FORMATS
    from gazealign.report.sections import REPORT_SECTIONS
    from gazealign.stimuli.layout_registry import LAYOUTS

    return {
        "layouts": (LAYOUTS, "stimuli.source"),
        "gaze-formats": (GAZE_FORMATS, "gaze.source"),
        "detectors": (DETECTORS, "gaze.fixations"),
        "explainers": (EXPLAINERS, "explain.methods"),
        "metrics": (METRICS, "comparison.metrics.names"),
        "fills": (FILLS, "comparison.perturbation.fill"),
        "controls": (CONTROLS, "comparison.perturbation.controls"),
        "report-sections": (REPORT_SECTIONS, "the report page, by order"),
    }


def register(app: typer.Typer) -> None:
    @app.command(name="list")
    def list_registries(
        role: str | None = typer.Argument(
            None,
            help=(
                "layouts, gaze-formats, detectors, explainers, metrics, fills, controls or "
                "report-sections "
                "(default: all)."
            ),
        ),
    ) -> None:
        """List the registered layouts, gaze formats, detectors, explainers, metrics, fills, sections."""
        known = registries()
        if role is not None and role not in known:
            raise GazeAlignError(f"unknown role {role!r}; expected one of {', '.join(known)}")
        for name, (registry, key) in known.items():
            if role is not None and name != role:
                continue
            table = Table("name", "description", "extra", title=f"{name} ({key})")
            for entry in sorted(registry.entries(), key=lambda e: e.name):
                table.add_row(entry.name, entry.description, entry.extra or "")
            console.print(table)
