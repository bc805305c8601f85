"""Reduction of per-channel relevance to one map, sign policy, and the way back to the stimulus.

Each function returns a new :class:`~gazealign.types.SaliencyMap` with one more recorded
:class:`~gazealign.types.Step`; nothing rescales or normalises a map on the side.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from gazealign.coords import CropResize
from gazealign.errors import GazeAlignError
from gazealign.types import SaliencyMap

#: How the sign of relevance is treated. ``positive``: evidence for the class only (negative
#: values set to 0); ``absolute``: magnitude of evidence for or against; ``signed``: unchanged.
SignPolicy = Literal["positive", "absolute", "signed"]
SIGN_POLICIES: tuple[str, ...] = get_args(SignPolicy)


def sum_channels(
    relevance: npt.NDArray[np.floating], *, stimulus_id: str, base: SaliencyMap | None = None
) -> SaliencyMap:
    """(C, H, W) per-channel relevance -> (H, W) map, summing over colour channels.

    Summing (not averaging, not taking a norm) keeps the map's total equal to the total
    relevance, so conservation can still be read off the map. ``base`` carries earlier steps
    (e.g. the explanation itself); without it the map starts with no steps.
    """
    rel = np.asarray(relevance, dtype=np.float64)
    if rel.ndim != 3:
        raise ValueError(f"relevance must be (channels, rows, cols), got shape {rel.shape}")
    values = rel.sum(axis=0)
    if base is None:
        base = SaliencyMap(np.zeros_like(values), "model_input", stimulus_id)
    return base.with_step("sum_channels", values, channels=int(rel.shape[0]))


def apply_sign(saliency: SaliencyMap, policy: SignPolicy) -> SaliencyMap:
    """Apply a sign policy (see :data:`SignPolicy`) as a recorded step."""
    if policy == "positive":
        values = np.maximum(saliency.values, 0.0)
    elif policy == "absolute":
        values = np.abs(saliency.values)
    elif policy == "signed":
        values = saliency.values.copy()
    else:
        raise GazeAlignError(f"unknown sign policy {policy!r}; expected one of {SIGN_POLICIES}")
    return saliency.with_step("sign", values, policy=policy)


def to_stimulus_frame(saliency: SaliencyMap, crop: CropResize, *, order: int = 1) -> SaliencyMap:
    """A model-input-frame map resampled into the stimulus frame (inverse crop/resize).

    Each stimulus pixel takes the (bilinear for ``order=1``) value of the model-input map at its
    centre; pixels outside the crop box get 0, as the network never saw them. Values are per
    pixel of the frame they are in, so the total changes with the resize: it is not renormalised.
    """
    if saliency.frame != "model_input":
        raise ValueError(f"expected a model_input map, got frame {saliency.frame!r}")
    values = crop.map_to_stimulus(saliency.values, order=order, fill=0.0)
    return saliency.with_step(
        "map_to_stimulus", values, frame="stimulus", crop=crop.as_dict(), order=order, fill=0.0
    )
