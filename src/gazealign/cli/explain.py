"""``gazealign explain``: the saliency map of one image."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import typer
from rich.console import Console

from gazealign.errors import DataError
from gazealign.pipeline.store import to_json_text, write_files_together

console = Console()


def register(app: typer.Typer) -> None:
    @app.command()
    def explain(
        model: str = typer.Option(
            ...,
            "--model",
            help="Checkpoint (.safetensors with its .json), or a zoo network's name (gazealign models list).",
        ),
        image: Path = typer.Option(..., "--image", help="Image file (any format Pillow reads)."),
        method: str = typer.Option(
            "lrp_epsilon_plus_flat",
            "--method",
            help="Explanation method (an unknown name lists the available ones).",
        ),
        out: Path | None = typer.Option(
            None, "--out", help="Map as .npy (float64); PNG and JSON beside it (default: none)."
        ),
        target: str = typer.Option(
            "predicted", "--target", help="'predicted', or a label name of the model."
        ),
        sign: str = typer.Option("positive", "--sign", help="positive, absolute or signed."),
        frame: str = typer.Option(
            "stimulus",
            "--frame",
            help="Frame of the saved map: stimulus (the image) or model_input.",
        ),
        crop: str = typer.Option(
            "none",
            "--crop",
            help="none (whole image resized), centre (central square) or haar (largest face, the study's detector).",
        ),
        epsilon: float = typer.Option(1e-6, "--epsilon", help="LRP epsilon."),
        gamma: float = typer.Option(0.25, "--gamma", help="LRP gamma."),
    ) -> None:
        """Explain one image; prints the predicted label. With --out writes OUT (.npy), OUT.png
        (overlay) and OUT.json (record, steps)."""
        from gazealign.explain.single import explain_file  # imports torch: only when used

        outputs: list[Path] = (
            [out, out.with_suffix(".png"), out.with_suffix(".json")] if out else []
        )
        for path in outputs:
            if path.is_dir():
                raise DataError(f"--out: {path} is a folder; give a file name such as map.npy")
        result = explain_file(
            model,
            image,
            method=method,
            target=target,
            sign=sign,
            frame=frame,
            crop=crop,
            epsilon=epsilon,
            gamma=gamma,
        )
        rec = result.record
        flag = " (conservation violated)" if rec["conservation_violated"] else ""
        console.print(
            f"predicted: {rec['predicted_label']}\n{method}: target {rec['target_label']} "
            f"(logit {rec['logit']:.4g}), relevance sum {rec['relevance_sum']:.4g}{flag}",
            highlight=False,
        )
        if out is not None:
            buf = io.BytesIO()
            np.save(buf, result.values, allow_pickle=False)
            # the three as a set: a full disk leaves none of them, not a map without its record
            write_files_together(
                {
                    outputs[0]: buf.getvalue(),
                    outputs[1]: result.png,
                    outputs[2]: to_json_text(result.record, strict=True).encode("utf-8"),
                }
            )
            console.print(
                f"wrote {out}, {out.with_suffix('.png')}, {out.with_suffix('.json')}",
                highlight=False,
            )
