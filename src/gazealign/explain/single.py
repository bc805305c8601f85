"""Explain one image file with one checkpoint (what ``gazealign explain`` runs)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from gazealign.coords import CropResize
from gazealign.errors import GazeAlignError
from gazealign.explain.base import ExplainOptions, explain
from gazealign.explain.overlay import overlay_png
from gazealign.explain.reduce import SIGN_POLICIES, SignPolicy, to_stimulus_frame
from gazealign.models.bundle import ModelBundle


@dataclass(frozen=True)
class SingleResult:
    values: npt.NDArray[np.float64]  # the map in the requested frame
    png: bytes  # overlay on the image in that frame
    record: dict[str, Any]  # MapRecord fields, params and steps


def image_crop(
    image: npt.NDArray[np.uint8], size_px: int, crop: str, *, source: str = "image"
) -> CropResize:
    """``none``: the whole image resized (stretched if not square); ``centre``: central square;
    ``haar``: the largest Haar-cascade face, grown by 20 px a side (the study default)."""
    rows, cols = image.shape[:2]
    if crop == "haar":
        from gazealign.stimuli.crop import haar_face_crop

        found = haar_face_crop(image, size_px=size_px)
        if found is None:
            raise GazeAlignError(f"{source}: the Haar cascade found no face (try --crop none)")
        return found[0]
    if crop == "none":
        return CropResize.resize_only(rows, cols, size_px, size_px)
    if crop == "centre":
        side = min(rows, cols)
        return CropResize(
            (cols - side) // 2, (rows - side) // 2, side, side, size_px, size_px, cols, rows
        )
    raise GazeAlignError(f"unknown crop {crop!r}; expected none, centre or haar")


def load_model(model: str | Path) -> ModelBundle:
    """A zoo network by name (``pyemotion``), else a checkpoint file (.safetensors + .json)."""
    from gazealign.models import zoo
    from gazealign.models.io import load_bundle

    if str(model) in zoo.names() and not Path(model).exists():
        return zoo.load(str(model))
    return load_bundle(Path(model))


def explain_file(
    model_path: str | Path,
    image_path: Path,
    *,
    method: str,
    target: str = "predicted",
    sign: str = "positive",
    frame: str = "stimulus",
    crop: str = "none",
    epsilon: float = 1e-6,
    gamma: float = 0.25,
) -> SingleResult:
    from gazealign.stimuli.crop import apply_crop
    from gazealign.stimuli.dataset import load_image

    if sign not in SIGN_POLICIES:
        raise GazeAlignError(f"unknown sign policy {sign!r}; expected one of {SIGN_POLICIES}")
    if frame not in ("stimulus", "model_input"):
        raise GazeAlignError(f"unknown frame {frame!r}; expected stimulus or model_input")
    bundle = load_model(model_path)
    image = load_image(image_path)
    transform = image_crop(image, bundle.input_size_px, crop, source=str(image_path))
    model_image = apply_crop(image, transform)
    if target == "predicted":
        targets: str | list[int] = "predicted"
    elif target in bundle.labels:
        targets = [bundle.labels.index(target)]
    else:
        raise GazeAlignError(f"target {target!r} is neither 'predicted' nor one of {bundle.labels}")
    (result,) = explain(
        bundle,
        model_image[None],
        method=method,
        target=targets,
        batch_size=1,
        sign=cast(SignPolicy, sign),
        options=ExplainOptions(epsilon=epsilon, gamma=gamma),
        stimulus_ids=[image_path.stem],
    )
    saliency = to_stimulus_frame(result.map, transform) if frame == "stimulus" else result.map
    shown = image if frame == "stimulus" else model_image
    row = result.record.as_row(saliency.steps)
    record = {**row, "params": json.loads(row["params"]), "steps": json.loads(row["steps"])}
    record["predicted_label"] = bundle.labels[result.record.predicted]
    title = f"{method} | {result.record.target_label} | sign {sign}"
    png = overlay_png(shown, saliency.values, signed=sign == "signed", title=title)
    return SingleResult(values=saliency.values, png=png, record=record)
