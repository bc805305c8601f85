"""The ``gazealign`` command line.

Each command group lives in its own module here and is registered in :func:`build_app`.
User errors (:class:`~gazealign.errors.GazeAlignError`) and failed file operations (a read-only
or full disk, a folder given as a file) print one message and exit with 2.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

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
    from gazealign.cli import registries

    registries.register(app)
    from gazealign.cli import models

    models.register(app)
    return app


def os_error_message(exc: OSError) -> str:
    """One line for a failed file operation: the file, what went wrong, and what to do."""
    where = exc.filename if exc.filename is not None else "a file"
    if exc.filename2 is not None:
        where = f"{where} -> {exc.filename2}"
    what = exc.strerror or str(exc)
    hint = {
        errno.ENOSPC: "the disk is full: free space or choose another folder",
        errno.EDQUOT: "the disk quota is exhausted: free space or choose another folder",
        errno.EROFS: "the file system is read-only: choose a writable folder",
        errno.EACCES: "permission denied: check the folder's permissions or choose another",
        errno.EPERM: "not permitted: check the folder's permissions or choose another",
        errno.EISDIR: "a folder is where a file was expected",
        errno.ENOTDIR: "a file is where a folder was expected",
        errno.ENOENT: "no such file or folder",
    }.get(exc.errno or 0)
    return f"{where}: {what}" + (f" ({hint})" if hint and hint != what.lower() else "")


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn user errors and failed file operations into one message on stderr and exit code 2.

    Bugs (any other exception) keep their traceback: they are ours to fix, not the user's.
    """
    try:
        yield
    except GazeAlignError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(os_error_message(exc))


def _fail(message: str) -> NoReturn:
    # escaped: messages name study tables such as [gaze.screen], which rich would read as markup
    err_console.print(
        f"[bold red]error:[/bold red] {escape(message)}", highlight=False, soft_wrap=True
    )
    sys.exit(2)


def main(argv: list[str] | None = None) -> None:
    """Entry point: typer handles usage errors; user errors print one line and exit 2."""
    app = build_app()
    with user_errors():
        app(args=argv, prog_name="gazealign")
