"""The ``gazealign`` command line.

Each command group lives in its own module here and is registered in :func:`build_app`.
User errors (:class:`~gazealign.errors.GazeAlignError`) print one message and exit with 2.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from gazealign import __version__
from gazealign.errors import GazeAlignError

err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gazealign {__version__}")
        raise typer.Exit()


def build_app() -> typer.Typer:
    from gazealign.cli import faces, study

    app = typer.Typer(
        help="Compare where a neural network and people look on a face when they recognise its expression.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )

    @app.callback()
    def _root(
        version: bool = typer.Option(
            False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ) -> None:
        """gazealign: human gaze vs network saliency on faces."""

    study.register(app)
    from gazealign.cli import train

    train.register(app)
    from gazealign.cli import report

    report.register(app)
    faces.register(app)
    from gazealign.cli import explain

    explain.register(app)
    from gazealign.cli import gaze

    gaze.register(app)
    from gazealign.cli import models

    models.register(app)
    return app


def main(argv: list[str] | None = None) -> None:
    """Entry point: typer handles usage errors; user errors print one line and exit 2."""
    app = build_app()
    try:
        app(args=argv, prog_name="gazealign")
    except GazeAlignError as exc:
        err_console.print(f"[bold red]error:[/bold red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
