"""Report figures about the network's explanations: the sanity checks' randomisation curves.

Pure functions from tidy tables to :class:`matplotlib.figure.Figure`, like
:mod:`gazealign.report.figures`.
"""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.figure import Figure

from gazealign.errors import DataError

#: Columns :func:`randomisation_figure` reads (the sanity_checks stage's randomisation_layers table).
RANDOMISATION_COLUMNS = (
    "method",
    "step",
    "layer",
    "spearman_abs_median",
    "spearman_abs_q25",
    "spearman_abs_q75",
    "ssim_abs_median",
)


def randomisation_figure(layers: pd.DataFrame, *, threshold: float | None = None) -> Figure:
    """One panel per method: similarity to the trained network's maps as layers are re-drawn.

    x: the cascade's steps (trained, then each layer from the top down, named); y: median over
    images of the Spearman correlation of |map| (band: quartiles) and of SSIM (dashed).
    ``threshold``: drawn as a dotted line (the randomisation verdict's bound).

    Parameters
    ----------
    layers
        The sanity_checks stage's ``randomisation_layers`` table.
    threshold
        Optional bound drawn as a dotted line.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    missing = [c for c in RANDOMISATION_COLUMNS if c not in layers.columns]
    if missing or layers.empty:
        raise DataError(f"randomisation curves: need columns {list(RANDOMISATION_COLUMNS)}")
    methods = sorted(layers["method"].astype(str).unique())
    ncols = min(3, len(methods))
    nrows = math.ceil(len(methods) / ncols)
    fig = Figure(figsize=(4.2 * ncols, 3.2 * nrows + 0.3), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, method in zip(axes, methods, strict=False):
        t = layers[layers["method"].astype(str) == method].sort_values("step")
        x = t["step"].to_numpy()
        ax.fill_between(x, t["spearman_abs_q25"], t["spearman_abs_q75"], alpha=0.25, color="C0")
        ax.plot(x, t["spearman_abs_median"], "o-", color="C0", label="Spearman |map|")
        ax.plot(x, t["ssim_abs_median"], "s--", color="C1", label="SSIM |map|")
        if threshold is not None:
            ax.axhline(threshold, color="0.4", linestyle=":", linewidth=1)
        ax.axhline(0.0, color="0.8", linewidth=0.8)
        ax.set_xticks(x, [str(v) for v in t["layer"]], rotation=60, ha="right", fontsize=7)
        ax.set_ylim(-0.3, 1.05)
        ax.set_title(method, fontsize=9)
        ax.set_ylabel("similarity to trained")
    for ax in axes[len(methods) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7, loc="lower left")
    return fig
