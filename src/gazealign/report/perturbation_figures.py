"""Report figures of the perturbation analysis beyond its curves: the strip and the robustness sweep.

Pure functions from plain data to :class:`matplotlib.figure.Figure`, like
:mod:`gazealign.report.figures`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from gazealign.compare.strip import Strip
from gazealign.errors import DataError
from gazealign.report.figures import MAP_CMAP, _require, grey, ordering_colour

#: Side of one strip panel in inches.
PANEL_IN = 0.95


def strip_figure(strip: Strip) -> Figure:
    """The perturbation strip of one face (:func:`gazealign.compare.strip.make_strip`).

    One row per ordering; columns: the input, the ordering's map (random: none), the tile-order
    grid (each tile's step printed over the image), then the image after each shown step with
    the network's true-class probability under it.
    """
    if not strip.rows:
        raise DataError(f"the strip of {strip.stimulus_id} has no ordering")
    n_rows, n_cols = len(strip.rows), 3 + strip.steps.size
    fig = Figure(
        figsize=(PANEL_IN * n_cols + 0.9, PANEL_IN * 1.18 * n_rows + 0.5), layout="constrained"
    )
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    grid = strip.grid
    font = max(3.0, min(8.0, 40.0 / max(grid.n_tile_rows, grid.n_tile_cols)))
    method_index = 0
    for r, row in enumerate(strip.rows):
        is_method = row.name not in ("human", "random")
        colour = ordering_colour(row.name, method_index if is_method else 0)
        method_index += int(is_method)
        ax = axes[r, 0]
        ax.imshow(strip.image, interpolation="nearest")
        ax.set_ylabel(row.name.replace("_", " ").replace("lrp ", "lrp\n"), fontsize=7, color=colour)
        ax = axes[r, 1]
        if row.values is None:
            ax.imshow(grey(strip.image), cmap="gray", vmin=0, vmax=1, alpha=0.25)
            ax.text(
                0.5, 0.5, "no map", ha="center", va="center", fontsize=7, transform=ax.transAxes
            )
        else:
            v = row.values
            if (v < 0).any():  # a signed map: diverging, centred on 0
                lim = float(np.abs(v).max()) or 1.0
                ax.imshow(v, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
            else:
                ax.imshow(v, cmap=MAP_CMAP, interpolation="nearest")
        ax = axes[r, 2]
        ax.imshow(grey(strip.image), cmap="gray", vmin=0, vmax=1, alpha=0.45)
        for k in range(1, grid.n_tile_rows):
            ax.axhline(k * grid.tile_px - 0.5, color=colour, linewidth=0.5)
        for k in range(1, grid.n_tile_cols):
            ax.axvline(k * grid.tile_px - 0.5, color=colour, linewidth=0.5)
        for tile, step in zip(row.order, range(1, row.order.size + 1), strict=True):
            tr, tc = divmod(int(tile), grid.n_tile_cols)
            y = (tr * grid.tile_px + min((tr + 1) * grid.tile_px, grid.rows_px)) / 2 - 0.5
            x = (tc * grid.tile_px + min((tc + 1) * grid.tile_px, grid.cols_px)) / 2 - 0.5
            ax.text(x, y, str(step), ha="center", va="center", fontsize=font, color="black")
        for j in range(strip.steps.size):
            ax = axes[r, 3 + j]
            ax.imshow(row.images[j], interpolation="nearest")
            if row.probability is not None:
                ax.set_xlabel(f"p={row.probability[j]:.2f}", fontsize=6, labelpad=1)
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
    titles = ["input", "map", "tile order"] + [f"step {int(s)}" for s in strip.steps]
    for ax, title in zip(axes[0], titles, strict=True):
        ax.set_title(title, fontsize=7)
    order = "most relevant first" if strip.direction == "morf" else "least relevant first"
    fig.suptitle(f"{strip.stimulus_id} ({strip.label}): {order}", fontsize=9)
    return fig


#: Columns :func:`robustness_figure` reads (the perturbation_robustness stage's contrasts).
ROBUSTNESS_COLUMNS = ("tile_px", "fill", "contrast", "estimate", "ci_low", "ci_high")


def robustness_figure(
    table: pd.DataFrame, *, xlabel: str = "MoRF accuracy AUC difference"
) -> Figure:
    """One panel per contrast: its estimate and interval for each (tile_px, fill) pair.

    Rows in the table's order (top first); the study's own pair (``study_setting``) as a
    diamond; black where the interval excludes 0; the dotted line marks 0.
    """
    _require(table, ROBUSTNESS_COLUMNS, "robustness figure")
    contrasts = list(dict.fromkeys(table["contrast"].astype(str)))
    pairs = list(
        dict.fromkeys(zip(table["tile_px"].astype(int), table["fill"].astype(str), strict=True))
    )
    fig = Figure(
        figsize=(3.3 * len(contrasts) + 1.4, 0.32 * len(pairs) + 1.3), layout="constrained"
    )
    axes = fig.subplots(1, len(contrasts), squeeze=False, sharey=True)
    y_of = {p: len(pairs) - 1 - i for i, p in enumerate(pairs)}
    for ax, contrast in zip(axes[0], contrasts, strict=True):
        sub = table[table["contrast"].astype(str) == contrast]
        for _, row in sub.iterrows():
            y = y_of[(int(row["tile_px"]), str(row["fill"]))]
            est, lo, hi = float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])
            colour = "black" if lo > 0 or hi < 0 else "#999999"
            own = bool(row.get("study_setting", False))
            ax.plot([lo, hi], [y, y], color=colour, linewidth=1.5)
            ax.plot(
                [est], [y], marker="D" if own else "s", color=colour, markersize=7 if own else 5
            )
        ax.axvline(0.0, color="black", linestyle=":", linewidth=1)
        ax.set_title(contrast, fontsize=10)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.tick_params(labelsize=8)
    axes[0, 0].set_yticks(list(y_of.values()), [f"{t} px, {f}" for t, f in y_of])
    axes[0, 0].set_ylim(-0.7, len(pairs) - 0.3)
    return fig
