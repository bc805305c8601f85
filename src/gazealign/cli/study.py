"""``gazealign run | status | demo``: running studies."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from gazealign.config import check_study, load_study
from gazealign.pipeline import Runner

console = Console()


def open_study(
    study_file: Path,
    *,
    until: str | None = None,
    progress: bool = True,
    scheduler: str | None = None,
) -> Runner:
    """The study's runner, after checking what the stages up to ``until`` (default: all) need.

    Parameters
    ----------
    study_file
        The study file.
    until
        The last stage to run; keys read only by later stages are not checked (so
        ``run --until stimuli`` works before the recordings exist).
    progress, scheduler
        Progress bars; a Dask scheduler address (or ``local``) for per-item work.

    Raises
    ------
    StudyFileError
        Every problem of the study, one line each.
    """
    from gazealign.pipeline.executors import DaskExecutor
    from gazealign.stages import study_stages

    config = load_study(study_file, check=False)
    executor = DaskExecutor(scheduler) if scheduler else None
    runner = Runner(config, study_stages(), show_progress=progress, executor=executor)
    # the keys the stages that run read (`until` and what it needs); others are not checked
    reads = None
    if until is not None:
        reads = {key for name in runner.plan(until) for key in runner.by_name[name].reads}
    check_study(config, reads=reads)
    return runner


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
        runner = open_study(study_file, until=until, progress=not no_progress, scheduler=scheduler)
        folders = runner.run(until=until, force=force)
        console.print(f"run folder: {runner.run_dir}", soft_wrap=True)
        if "report" in folders:
            console.print(f"report: {folders['report'] / 'report.html'}", soft_wrap=True)

    @app.command()
    def status(study_file: Path = typer.Argument(..., help="The study file (TOML).")) -> None:
        """Show each stage of a study as done, interrupted, stale (cached for other settings) or missing.

        An interrupted stage is one a run stopped inside (or is running now): the next run
        resumes it.
        A stale stage says why: which study keys, input files, modules of its code, its
        declared version, upstream stages or package versions differ from its newest cache.
        """
        runner = open_study(study_file)
        table = Table("stage", "state", "key", "why", "folder")
        colour = {"done": "green", "interrupted": "magenta", "stale": "yellow", "missing": "red"}
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
        aligned: bool = typer.Option(
            False,
            "--aligned",
            help="The aligned-training demo instead: a harmonization lambda sweep, each network "
            "scored on held-out identities (a trade-off table and figure).",
        ),
    ) -> None:
        """Run the complete built-in study on synthetic faces and simulated observers."""
        from gazealign.demo import run_demo

        run_demo(out, progress=not no_progress, console=console, aligned=aligned)
