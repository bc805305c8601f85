"""``gazealign run | status | demo``: running studies."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from gazealign.config import load_study
from gazealign.pipeline import Runner

console = Console()


def _runner(study_file: Path, *, progress: bool = True, scheduler: str | None = None) -> Runner:
    from gazealign.pipeline.executors import DaskExecutor
    from gazealign.stages import study_stages

    executor = DaskExecutor(scheduler) if scheduler else None
    return Runner(load_study(study_file), study_stages(), show_progress=progress, executor=executor)


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        study_file: Path = typer.Argument(..., help="The study file (TOML)."),
        until: str | None = typer.Option(None, "--until", help="Stop after this stage."),
        force: list[str] = typer.Option(
            [], "--force", help="Rerun this stage (and those after it) even if cached. Repeatable."
        ),
        no_progress: bool = typer.Option(False, "--no-progress", help="Hide progress bars."),
        scheduler: str | None = typer.Option(
            None,
            "--scheduler",
            help="Run per-image stages on Dask: a scheduler address, or 'local' for a LocalCluster.",
        ),
    ) -> None:
        """Run a study: every stage in order, reusing cached results."""
        runner = _runner(study_file, progress=not no_progress, scheduler=scheduler)
        folders = runner.run(until=until, force=force)
        console.print(f"run folder: {runner.run_dir}", soft_wrap=True)
        if "report" in folders:
            console.print(f"report: {folders['report'] / 'report.html'}", soft_wrap=True)

    @app.command()
    def status(study_file: Path = typer.Argument(..., help="The study file (TOML).")) -> None:
        """Show each stage of a study as done, stale (cached for other settings) or missing.

        A stale stage says why: which study keys, input files, modules of its code, its
        declared version, upstream stages or package versions differ from its newest cache.
        """
        runner = _runner(study_file)
        table = Table("stage", "state", "key", "why", "folder")
        colour = {"done": "green", "stale": "yellow", "missing": "red"}
        for s in runner.status():
            why = (
                "\n".join(s.reasons) if s.reasons else ("never run" if s.state == "missing" else "")
            )
            table.add_row(s.name, f"[{colour[s.state]}]{s.state}[/]", s.key, why, str(s.path))
        console.print(table)

    @app.command()
    def keys() -> None:
        """Print the study-file reference (every table and key) as Markdown."""
        from gazealign.config.reference import study_file_reference

        typer.echo(study_file_reference(), nl=False)

    @app.command()
    def demo(
        out: Path = typer.Option(
            Path("runs/demo"), "--out", help="Folder for the demo study and its run."
        ),
        no_progress: bool = typer.Option(False, "--no-progress", help="Hide progress bars."),
    ) -> None:
        """Run the complete built-in study on synthetic faces and simulated observers."""
        from gazealign.demo import run_demo

        run_demo(out, progress=not no_progress, console=console)
