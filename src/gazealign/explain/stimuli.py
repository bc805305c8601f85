"""Explain stimulus items: maps in both frames per method, and their records as a table.

This is what the ``explain`` stage runs, as plain functions: a batch of
:class:`~gazealign.stimuli.artifacts.StimulusItem` in, one dict of arrays per item out::

    <method>            (S, S) float64, model-input frame (after channel sum and sign policy)
    <method>__stimulus  (rows, cols) float64, stimulus frame (inverse crop/resize, 0 outside)
    <method>__signed    (S, S) float64, model-input frame, before the sign policy
    <method>__record    0-d str: the map's record and steps as JSON (for maps.parquet)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gazealign.errors import DataError
from gazealign.explain.base import ExplainOptions, explain
from gazealign.explain.reduce import SignPolicy, to_stimulus_frame
from gazealign.explain.targets import TargetOutput
from gazealign.models.bundle import ModelBundle
from gazealign.stimuli.artifacts import StimulusItem

RECORD_SUFFIX = "__record"
STIMULUS_SUFFIX = "__stimulus"
SIGNED_SUFFIX = "__signed"  # the same as gazealign.compare.tile_ranking.SIGNED_SUFFIX

#: Columns of ``maps.parquet``.
MAP_COLUMNS: tuple[str, ...] = (
    "stimulus_id",
    "method",
    "target",
    "target_label",
    "target_output",
    "predicted",
    "logit",
    "relevance_sum",
    "conservation",
    "conservation_reference",
    "conservation_ratio",
    "conservation_tolerance",
    "conservation_violated",
    "params",
    "steps",
)


def targets_for(
    bundle: ModelBundle, labels: Sequence[str], target: str
) -> npt.NDArray[np.int64] | str:
    """Class indices of the true ``labels`` (``target="true"``), or ``"predicted"``."""
    if target == "predicted":
        return "predicted"
    missing = sorted(set(labels) - set(bundle.labels))
    if missing:
        raise DataError(f"labels {missing} are not outputs of the model (it has {bundle.labels})")
    return np.array([bundle.labels.index(label) for label in labels], dtype=np.int64)


def explain_items(
    bundle: ModelBundle,
    items: Sequence[StimulusItem],
    target: npt.NDArray[np.int64] | str,
    *,
    methods: Sequence[str],
    sign: SignPolicy,
    options: ExplainOptions,
    batch_size: int,
    target_output: TargetOutput = "logit",
) -> dict[str, dict[str, npt.NDArray[Any]]]:
    """stimulus_id -> arrays (see the module docstring) for every item and method."""
    if not items:
        return {}
    size = bundle.input_size_px
    for item in items:
        if item.model_image.shape[:2] != (size, size):
            raise DataError(
                f"stimulus {item.stimulus_id!r}: model image is {item.model_image.shape[:2]}, "
                f"the model takes {size}x{size} (the stimuli stage's size setting must match)"
            )
    images = np.stack([item.model_image for item in items])
    ids = [item.stimulus_id for item in items]
    out: dict[str, dict[str, npt.NDArray[Any]]] = {i: {} for i in ids}
    for method in methods:
        results = explain(
            bundle,
            images,
            method=method,
            target=target,
            batch_size=batch_size,
            sign=sign,
            options=options,
            stimulus_ids=ids,
            target_output=target_output,
        )
        for item, result in zip(items, results, strict=True):
            stimulus_map = to_stimulus_frame(result.map, item.crop)
            arrays = out[item.stimulus_id]
            arrays[method] = result.map.values
            arrays[method + STIMULUS_SUFFIX] = stimulus_map.values
            # The map before the sign policy: tile rankings choose their own sign policy.
            arrays[method + SIGNED_SUFFIX] = result.channels.sum(axis=0)
            row = result.record.as_row(stimulus_map.steps)
            arrays[method + RECORD_SUFFIX] = np.array(json.dumps(row, sort_keys=True))
    return out


def records_table(items: Mapping[str, Mapping[str, npt.NDArray[Any]]]) -> pd.DataFrame:
    """``maps.parquet``: one row per (stimulus, method) from the items' record arrays."""
    rows = []
    for stimulus_id in sorted(items):
        arrays = items[stimulus_id]
        for key in sorted(arrays):
            if key.endswith(RECORD_SUFFIX):
                rows.append(json.loads(str(arrays[key])))
    table = pd.DataFrame(rows, columns=list(MAP_COLUMNS))
    return table.astype(
        {
            "stimulus_id": "string",
            "method": "string",
            "target": "int64",
            "target_label": "string",
            "target_output": "string",
            "predicted": "int64",
            "logit": "float64",
            "relevance_sum": "float64",
            "conservation": "string",
            "conservation_reference": "float64",
            "conservation_ratio": "float64",
            "conservation_tolerance": "float64",
            "conservation_violated": "bool",
            "params": "string",
            "steps": "string",
        }
    )
