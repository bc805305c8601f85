"""``gazealign train STUDY.toml``: run a study up to and including the ``train`` stage."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from gazealign.pipeline.store import read_json

console = Console()


def register(app: typer.Typer) -> None:
    @app.command()
    def train(
        study_file: Path = typer.Argument(..., help="The study file (TOML)."),
        force: bool = typer.Option(False, "--force", help="Retrain even if a cached model exists."),
        no_progress: bool = typer.Option(False, "--no-progress", help="Hide progress bars."),
    ) -> None:
        """Prepare the stimuli and train (or fine-tune) the network; print its test accuracy."""
        from gazealign.cli.study import open_study

        runner = open_study(study_file, until="train", progress=not no_progress)
        runner.run(until="train", force=["train"] if force else [])
        stage_dir = runner.stage_dir("train")
        metrics = read_json(stage_dir / "metrics.json")
        table = Table("label", "test accuracy")
        for label, acc in metrics["test_per_class_accuracy"].items():
            table.add_row(label, "-" if acc is None or acc != acc else f"{acc:.3f}")
        console.print(table)
        console.print(
            f"test accuracy {metrics['test_accuracy']:.3f} on {metrics['images']['test']} images "
            f"of {metrics['identities']['test']} held-out identities (best epoch {metrics['best_epoch']})"
        )
        console.print(f"model: {stage_dir / 'model.safetensors'}")
