"""``gazealign faces synth | sheet | scan``: synthetic faces and dataset checks."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import track
from rich.table import Table

from gazealign.config.stimuli import SyntheticFacesSection
from gazealign.errors import DataError

console = Console()

#: Defaults of `faces synth`: those of the study file's [stimuli.synthetic].
_FACES = SyntheticFacesSection()


def register(app: typer.Typer) -> None:
    faces = typer.Typer(
        help="Face stimuli: synthetic faces, contact sheets, dataset checks.", no_args_is_help=True
    )
    app.add_typer(faces, name="faces")

    @faces.command()
    def synth(
        out: Path = typer.Option(..., "--out", help="Folder for the KDEF-conformant tree."),
        identities: int = typer.Option(
            _FACES.identities, "--identities", help="Identities (1-70; F01, M01, F02, ...)."
        ),
        seed: int = typer.Option(0, "--seed", help="Seed: the same seed gives the same faces."),
        rows: int = typer.Option(_FACES.image_rows, "--rows", help="Image height in px."),
        cols: int = typer.Option(_FACES.image_cols, "--cols", help="Image width in px."),
        sessions: int = typer.Option(
            _FACES.sessions, "--sessions", help="1 (session A) or 2 (A and B)."
        ),
        intensity_min: float = typer.Option(
            _FACES.intensity_min, "--intensity-min", help="Lowest expression intensity."
        ),
        intensity_max: float = typer.Option(
            _FACES.intensity_max, "--intensity-max", help="Highest expression intensity."
        ),
    ) -> None:
        """Render synthetic faces: DIR/AF01/AF01HAS.JPG ..., DIR/regions/ masks, DIR/manifest.csv."""
        from gazealign.stimuli.synthetic_tree import write_synthetic_tree

        manifest = write_synthetic_tree(
            out,
            identities=identities,
            seed=seed,
            rows=rows,
            cols=cols,
            sessions=sessions,
            intensity_range=(intensity_min, intensity_max),
        )
        console.print(
            f"wrote {len(manifest)} faces ({identities} identities x {sessions} session(s) x 7 expressions) to {out}"
        )

    @faces.command()
    def sheet(
        out: Path = typer.Option(Path("faces_sheet.png"), "--out", help="PNG file to write."),
        identities: int = typer.Option(6, "--identities", help="Rows: identities to show."),
        seed: int = typer.Option(0, "--seed", help="Seed of the synthetic faces."),
        rows: int = typer.Option(160, "--rows", help="Face height in px."),
        cols: int = typer.Option(128, "--cols", help="Face width in px."),
        masks: bool = typer.Option(
            False, "--masks", help="Add rows with planted regions (red) and AOI outlines."
        ),
    ) -> None:
        """Contact sheet PNG: 7 expressions (columns, in label order) x identities (rows)."""
        from gazealign.pipeline.store import write_bytes
        from gazealign.stimuli.synthetic_tree import contact_sheet, encode_png
        from gazealign.types import LABELS

        image = contact_sheet(identities=identities, seed=seed, rows=rows, cols=cols, masks=masks)
        write_bytes(out, encode_png(image))
        console.print(
            f"wrote {out} ({image.shape[1]}x{image.shape[0]} px); columns: {', '.join(LABELS)}"
        )

    @faces.command()
    def scan(
        path: Path = typer.Argument(
            ..., help="Dataset folder (kdef, folder) or CSV file (fer2013, manifest)."
        ),
        source: str = typer.Option(
            "kdef",
            "--source",
            help="Dataset layout: kdef, folder, fer2013, manifest (or a plug-in's).",
        ),
        angle: list[str] = typer.Option(["S"], "--angle", help="KDEF angles to keep (repeatable)."),
        crop: str = typer.Option(
            "haar",
            "--crop",
            help="haar: run the face detector on every image, as the stimuli stage does; none: "
            "decode only.",
        ),
    ) -> None:
        """Check a dataset as the stimuli stage will: decode every image, find its face.

        Prints images per label and session, and every file the stage would drop, with why.
        """
        from gazealign.config.stimuli import StimuliSection
        from gazealign.stimuli.dataset import Dropped, dropped_table
        from gazealign.stimuli.layout_registry import LAYOUTS, scan_layout
        from gazealign.stimuli.prepare import check_record

        if LAYOUTS.get(source).scan is None:
            raise DataError(f"layout {source!r} is rendered by the stimuli stage, not scanned")
        if crop not in ("haar", "none"):
            raise DataError(f"--crop: unknown crop {crop!r}; expected haar or none")
        cfg = StimuliSection.model_validate(
            {"source": source, "path": str(path), "angles": angle, "crop": crop}
        )
        result = scan_layout(cfg, lambda p: p)
        dropped = list(result.dropped)
        kept = []
        for record in track(result.records, description="decoding", console=console):
            checked = check_record(record, cfg)
            if isinstance(checked, Dropped):
                dropped.append(checked)
            else:
                kept.append(record)
        counts = Table("label", "session", "images")
        tally = Counter((r.label, r.session) for r in kept)
        for (label, session), n in sorted(tally.items()):
            counts.add_row(label, session, str(n))
        console.print(counts)
        console.print(
            f"{len(kept)} images to use, {len(dropped)} dropped, {len(result.ignored)} other files"
        )
        table = dropped_table(dropped)
        for reason_key, group in table.groupby("reason"):
            reason = str(reason_key)
            if reason == "filtered":
                console.print(f"[yellow]{reason}[/yellow]: {len(group)} files")
                continue
            console.print(f"[red]{reason}[/red]: {len(group)} files")
            for _, row in group.iterrows():
                line = f"  {row['source_path']}: {row['detail']}"
                console.print(escape(line), highlight=False)
