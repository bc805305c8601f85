"""``gazealign report RUN_DIR``: rebuild a run's HTML report from its artifacts."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console()


def register(app: typer.Typer) -> None:
    @app.command()
    def report(
        run_dir: Path = typer.Argument(..., help="A run folder (holds manifest.json and stages/)."),
        out: Path | None = typer.Option(
            None, "--out", help="Folder for report.html and figures/ (default: RUN_DIR/report)."
        ),
    ) -> None:
        """Rebuild the self-contained HTML report (and its figures) from a run's artifacts."""
        from gazealign.report.build import report_from_run

        page, absent = report_from_run(run_dir, out)
        for piece, reason in sorted(absent.items()):
            console.print(f"[yellow]absent[/yellow] {piece}: {reason}", highlight=False)
        console.print(f"report: {page}")
