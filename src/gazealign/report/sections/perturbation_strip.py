"""The report's ``perturbation_strip`` section: what each ordering removed, step by step.

The strips are built from the perturbation stage's stored orders and curves, with the fill image
remade by the registered fill and the seed that stage recorded, through
:func:`gazealign.compare.strip.make_strip` (the perturbed images come from the function that
made the images the network was shown). Faces: ``[report.strip] stimuli``, or one per
expression (the first by id the network classifies correctly), up to ``faces``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from gazealign.compare import perturbation as pt
from gazealign.compare.strip import Strip, StripOrdering, make_strip, strip_steps
from gazealign.compare.tile_ranking import ranking_map
from gazealign.config import StudyConfig
from gazealign.errors import DataError, GazeAlignError
from gazealign.pipeline.artifacts import item_ids, read_arrays_artifact
from gazealign.report.figures import label_order
from gazealign.report.html import (
    SectionAbsent,
    SectionContext,
    absent,
    esc,
    perturbation_settings,
    table_html,
)
from gazealign.report.perturbation_figures import strip_figure
from gazealign.report.sections import report_section
from gazealign.stages.common import item_seed, network_methods, recorded_seed
from gazealign.stimuli.artifacts import read_item, read_stimuli_table

#: The stages a strip is built from.
STRIP_STAGES = ("stimuli", "explain", "human_maps", "perturbation")


@dataclass
class Strips:
    """The strips of a run, and the chosen ids the perturbation stage did not compare."""

    strips: list[Strip] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    random_orders: int = 0


def chosen_faces(
    stimuli: pd.DataFrame, perturbation_dir: Path, config: StudyConfig
) -> tuple[list[str], list[str]]:
    """The stimulus ids to show and the requested ids the perturbation stage did not compare.

    ``[report.strip] stimuli`` when set; else, per expression in label order up to ``faces``,
    the first compared stimulus by id whose intact image the network classifies correctly
    (the first by id when none is).
    """
    strip = config.report.strip
    have = set(item_ids(perturbation_dir, "curves_per_item"))
    if strip.stimuli:
        return [s for s in strip.stimuli if s in have], [s for s in strip.stimuli if s not in have]
    table = stimuli[stimuli["stimulus_id"].astype(str).isin(have)].sort_values("stimulus_id")
    chosen = []
    for label in label_order(table["label"].astype(str).unique())[: strip.faces]:
        ids = table.loc[table["label"].astype(str) == label, "stimulus_id"].astype(str).tolist()
        pick = ids[0]
        for sid in ids:
            arrays = read_arrays_artifact(perturbation_dir, "curves_per_item", sid)
            if bool(np.asarray(arrays[f"human__{strip.order}__correct"])[0]):
                pick = sid
                break
        chosen.append(pick)
    return chosen, []


def load_strip(dirs: Mapping[str, Path], config: StudyConfig, stimulus_id: str) -> Strip:
    """The strip of one compared stimulus: random (the first random order), each network
    method, human, in the order ``[report.strip] order``."""
    cfg = config.comparison.perturbation
    direction = config.report.strip.order
    arrays = read_arrays_artifact(dirs["perturbation"], "curves_per_item", stimulus_id)
    image = read_item(dirs["stimuli"], stimulus_id).model_image
    grid = pt.TileGrid(image.shape[0], image.shape[1], cfg.tile_px)
    if np.asarray(arrays["random__order"]).shape[-1] != grid.n_tiles:
        raise DataError(
            f"perturbation item {stimulus_id}: its orders are not over the {grid.n_tiles} tiles "
            f"of {cfg.tile_px} px of the study (was it run with another tile_px?)"
        )
    seed = item_seed(recorded_seed(dirs["perturbation"], "fill"), stimulus_id)
    fill = pt.fill_image(image, cfg.fill, seed=seed, blur_sigma_px=cfg.blur_sigma_px)
    explain = read_arrays_artifact(dirs["explain"], "maps", stimulus_id)
    human = read_arrays_artifact(dirs["human_maps"], "maps", stimulus_id)
    rows = [StripOrdering("random", arrays["random__order"][0], None, arrays["random__prob"][0])]
    sources = [(m, ranking_map(explain, m, cfg.tile_sign)) for m in network_methods(explain)]
    for name, values in [*sources, ("human", np.asarray(human["density_model"]))]:
        key = f"{name}__{direction}"
        if f"{key}__order" not in arrays:
            raise DataError(f"perturbation item {stimulus_id} has no {direction} order of {name}")
        rows.append(StripOrdering(name, arrays[f"{key}__order"], values, arrays[f"{key}__prob"]))
    stimuli = read_stimuli_table(dirs["stimuli"])
    label = stimuli.loc[stimuli["stimulus_id"].astype(str) == stimulus_id, "label"].iloc[0]
    steps = strip_steps(grid.n_tiles, config.report.strip.max_steps)
    return make_strip(
        stimulus_id, str(label), image, fill, grid, rows, steps=steps, direction=direction
    )


def load_strips(dirs: Mapping[str, Path], config: StudyConfig) -> Strips:
    """The run's strips (:func:`chosen_faces`, :func:`load_strip`)."""
    stimuli = read_stimuli_table(dirs["stimuli"])
    ids, missing = chosen_faces(stimuli, dirs["perturbation"], config)
    strips = [load_strip(dirs, config, sid) for sid in ids]
    return Strips(strips, missing, config.comparison.perturbation.random_orders)


def steps_note(strip: Strip) -> str:
    """Which steps the perturbed columns show."""
    if strip.all_steps:
        return f" Every step of the {strip.grid.n_tiles} is shown."
    shown = ", ".join(str(int(s)) for s in strip.steps)
    return (
        f" {strip.steps.size} of the {strip.grid.n_tiles} steps are shown, evenly spaced from the "
        f"first to the last (report.strip.max_steps): steps {shown}."
    )


def strip_areas(strip: Strip, arrays: Mapping[str, np.ndarray]) -> list[dict[str, object]]:
    """Per row: the area under its probability curve over every step (the stage's numbers)."""
    out: list[dict[str, object]] = []
    for row in strip.rows:
        key = "random" if row.name == "random" else f"{row.name}__{strip.direction}"
        curve = np.asarray(arrays[f"{key}__prob"], dtype=np.float64)
        curve = curve[0] if row.name == "random" else curve
        out.append(
            {
                "stimulus": strip.stimulus_id,
                "ordering": row.name,
                "probability AUC": float(pt.curve_auc(curve)),
                "probability at the last shown step": float(curve[int(strip.steps[-1])]),
            }
        )
    return out


@report_section(
    "perturbation_strip", title="Perturbation strips: what each order removes", order=35
)
def strip_section(ctx: SectionContext) -> str:
    """Example faces: the images each ordering showed the network, step by step."""
    inputs = ctx.inputs
    missing = [s for s in STRIP_STAGES if s not in inputs.stage_dirs]
    if missing or inputs.config is None:
        raise SectionAbsent(f"the run has no finished {', '.join(missing) or 'study'} stage")
    try:
        got = load_strips(inputs.stage_dirs, inputs.config)
    except (GazeAlignError, OSError, KeyError, ValueError) as exc:
        raise SectionAbsent(f"the strips could not be built from the run ({exc})") from None
    parts = []
    if got.missing:
        parts.append(
            "<p>Not compared by the perturbation stage (not shown): "
            + esc(", ".join(got.missing))
            + ".</p>"
        )
    if not got.strips:
        return "\n".join(parts) + absent("no face to show")
    cfg = inputs.config.comparison.perturbation
    blur = f" (sigma {cfg.blur_sigma_px} px)" if cfg.fill == "blur" else ""
    rows = []
    for strip in got.strips:
        order = (
            "most relevant first (MoRF)"
            if strip.direction == "morf"
            else "least relevant first (LeRF)"
        )
        caption = (
            f"Perturbation strip of {strip.stimulus_id} ({strip.label}), tiles removed {order}. "
            "One row per ordering: random (the first of the image's "
            f"{got.random_orders} random orders), each network method, human. Columns: the "
            "network input; the map the order was ranked from (random: none); the tile-order "
            "grid (the step at which each tile is removed); then the image the network was shown "
            "after each step, with its true-class probability p below. "
            f"Fill: '{cfg.fill}'{blur}; tiles of {strip.grid.tile_px} px, a "
            f"{strip.grid.n_tile_rows} × {strip.grid.n_tile_cols} grid; '{cfg.tile_sign}' "
            "relevance of the network maps ranks the tiles."
            + steps_note(strip)
            + perturbation_settings(inputs.curves)
        )
        stem = f"perturbation_strip_{strip.stimulus_id}"
        parts.append(ctx.figure(stem, partial(strip_figure, strip), caption))
        arrays = read_arrays_artifact(
            inputs.stage_dirs["perturbation"], "curves_per_item", strip.stimulus_id
        )
        rows += strip_areas(strip, arrays)
    parts.append(
        "<p>The same faces' true-class probability curves, summarised (areas over every step; "
        "lower under MoRF: the order found the tiles the network relies on sooner).</p>"
        + table_html(pd.DataFrame(rows))
    )
    return "\n".join(parts)
