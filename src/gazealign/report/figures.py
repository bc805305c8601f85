"""The report's figures: pure functions from tidy tables and arrays to matplotlib figures.

Every function takes plain data (a :class:`pandas.DataFrame` in long form with the columns its
docstring names, or arrays) and returns a :class:`matplotlib.figure.Figure`; nothing is read from
disk here, so each figure can be tested with a small hand-made table. :func:`save_figure` writes a
figure in the requested formats with deterministic bytes.

Figures are built on :class:`~matplotlib.figure.Figure` directly (not ``pyplot``): no global figure
state, no GUI backend; rendering goes through the Agg canvas.

Colours are fixed across figures: human = blue, network = orange, random = grey.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gazealign.errors import DataError
from gazealign.pipeline.store import atomic_open
from gazealign.types import LABELS

HUMAN_COLOUR = "#1f77b4"
NETWORK_COLOUR = "#ff7f0e"
RANDOM_COLOUR = "#7f7f7f"
MAP_CMAP = "inferno"

#: Percentile each map is scaled to in overlays (see :func:`scale_to_percentile`).
OVERLAY_PERCENTILE = 99.0


def colour_scale_rule(percentile: float = OVERLAY_PERCENTILE) -> str:
    """The caption sentence that states the colour-scale rule of the map overlays.

    Parameters
    ----------
    percentile
        The percentile each overlay map is scaled to.

    Returns
    -------
    str
        The sentence.
    """
    return (
        f"Each map is scaled to its own {percentile:g}th percentile (values above it are shown at "
        "full strength) and drawn over the grey-scale face with opacity rising with the scaled "
        "value; colours compare locations within one map, not magnitudes between maps."
    )


def _require(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(
            f"{what}: table lacks column(s) {missing}; it has {list(table.columns)} "
            f"and needs {list(columns)}"
        )
    if table.empty:
        raise DataError(f"{what}: table has no rows")


#: Further colours for a second, third ... network method.
_EXTRA_COLOURS = ("#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")


def ordering_colour(ordering: str, index: int = 0) -> str:
    """The fixed colour of an ordering / map source: human blue (dwell time light blue), random
    and baselines grey, the ``index``-th network method orange, then other colours.

    Parameters
    ----------
    ordering
        ``human``, ``human (dwell)``, ``random``, a baseline or a network method's name.
    index
        The network method's position among the methods drawn.

    Returns
    -------
    str
        A matplotlib colour.
    """
    name = ordering.lower()
    if name.startswith("human"):
        return "#9ecae1" if "dwell" in name else HUMAN_COLOUR
    if name.startswith("random") or name in {"uniform", "centre bias", "center bias"}:
        return RANDOM_COLOUR
    return NETWORK_COLOUR if index == 0 else _EXTRA_COLOURS[(index - 1) % len(_EXTRA_COLOURS)]


def _method_index(names: Iterable[str]) -> dict[str, int]:
    """Position of each network method among ``names`` (for :func:`ordering_colour`)."""
    methods = [n for n in dict.fromkeys(names) if ordering_colour(n) == NETWORK_COLOUR]
    return {m: i for i, m in enumerate(sorted(methods))}


def label_order(labels: Iterable[object]) -> list[str]:
    """Labels in :data:`LABELS` order, then any others sorted, with ``"all"`` first.

    Parameters
    ----------
    labels
        Labels (any order, repeats allowed).

    Returns
    -------
    list of str
        Each distinct label once, in that order.
    """
    present = list(dict.fromkeys(str(x) for x in labels))
    known = [lab for lab in LABELS if lab in present]
    rest = sorted(x for x in present if x not in LABELS and x != "all")
    return (["all"] if "all" in present else []) + known + rest


# --- map overlays ---------------------------------------------------------------------------


def scale_to_percentile(
    values: npt.ArrayLike, *, percentile: float = OVERLAY_PERCENTILE
) -> npt.NDArray[np.float64]:
    """``values`` divided by their ``percentile``-th percentile and clipped to [0, 1].

    Negative values map to 0. When the percentile is 0 (a map that is zero almost everywhere)
    the maximum is used instead; an all-zero map stays all zero. Shape is unchanged.

    Parameters
    ----------
    values
        A map (any shape).
    percentile
        The percentile (0-100) scaled to 1.

    Returns
    -------
    numpy.ndarray
        The scaled map, float64 in [0, 1].
    """
    arr = np.clip(np.asarray(values, dtype=np.float64), 0.0, None)
    scale = float(np.percentile(arr, percentile)) if arr.size else 0.0
    if scale <= 0.0:
        scale = float(arr.max()) if arr.size else 0.0
    if scale <= 0.0:
        return np.zeros_like(arr)
    return np.clip(arr / scale, 0.0, 1.0)


def grey(image: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """(rows, cols) luminance in [0, 1] of an RGB uint8 or grey image (Rec. 601 weights).

    Parameters
    ----------
    image
        (rows, cols, 3) RGB uint8, or (rows, cols) grey (uint8 or float in [0, 1]).

    Returns
    -------
    numpy.ndarray
        (rows, cols) float64 luminance.
    """
    arr = np.asarray(image, dtype=np.float64)
    if arr.ndim == 3:
        arr = arr[..., :3] @ np.array([0.299, 0.587, 0.114])
    return arr / 255.0 if arr.max(initial=0.0) > 1.0 else arr


def _overlay(
    ax: Axes,
    image: npt.ArrayLike,
    saliency: npt.ArrayLike | None,
    *,
    percentile: float = OVERLAY_PERCENTILE,
) -> None:
    ax.imshow(grey(image), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    if saliency is not None:
        scaled = scale_to_percentile(saliency, percentile=percentile)
        rows, cols = np.asarray(image).shape[:2]
        if scaled.shape != (rows, cols):
            raise DataError(
                f"map of shape {scaled.shape} does not match its image of shape {(rows, cols)}"
            )
        rgba = _cmap(MAP_CMAP)(scaled)
        rgba[..., 3] = 0.7 * scaled  # the face stays visible under the strongest values
        ax.imshow(rgba, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def _cmap(name: str):  # type: ignore[no-untyped-def]
    from matplotlib import colormaps

    return colormaps[name]


@dataclass(frozen=True)
class OverviewExample:
    """One column of the overview figure: a face with both maps, all in the stimulus frame.

    ``image`` (rows, cols, 3) uint8; ``human_map`` and ``network_map`` (rows, cols) float or None
    when that map is missing for this face.
    """

    label: str
    stimulus_id: str
    image: npt.NDArray[np.uint8]
    human_map: npt.NDArray[np.float64] | None
    network_map: npt.NDArray[np.float64] | None


def overview_figure(
    examples: Sequence[OverviewExample],
    *,
    method: str = "network",
    curves: pd.DataFrame | None = None,
    percentile: float = OVERLAY_PERCENTILE,
) -> Figure:
    """Per expression (columns): the face, the human density overlay, the network map overlay.

    With ``curves`` (the table of :func:`perturbation_figure`), a fourth row shows that class's
    perturbation curves (human, network, random band), as in the seed study's overview figure.
    The colour-scale rule (:func:`colour_scale_rule`): each map scaled to its own ``percentile``.

    Parameters
    ----------
    examples
        One :class:`OverviewExample` per expression.
    method
        The network method's name, for the row title.
    curves
        Optional perturbation-curve table (adds the fourth row).
    percentile
        The overlay scaling percentile.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    if not examples:
        raise DataError("overview figure: no examples")
    ordered = sorted(examples, key=lambda e: label_order([e.label, *LABELS]).index(e.label))
    rows = 4 if curves is not None else 3
    ncols = len(ordered)
    fig = Figure(figsize=(1.9 * ncols + 0.8, 2.0 * rows + 0.3), layout="constrained")
    axes = fig.subplots(rows, ncols, squeeze=False)
    row_names = ["face", "human gaze density", f"network: {method}"]
    for j, ex in enumerate(ordered):
        _overlay(axes[0, j], ex.image, None)
        axes[0, j].set_title(ex.label, fontsize=10)
        for i, saliency in ((1, ex.human_map), (2, ex.network_map)):
            _overlay(axes[i, j], ex.image, saliency, percentile=percentile)
            if saliency is None:
                axes[i, j].text(
                    0.5, 0.5, "no map", ha="center", va="center", transform=axes[i, j].transAxes
                )
        for i, name in enumerate(row_names):
            if j == 0:
                axes[i, j].set_ylabel(name, fontsize=9)
        if curves is not None:
            ax = axes[3, j]
            sub = curves[curves["label"].astype(str) == ex.label]
            if sub.empty:
                ax.text(0.5, 0.5, "no curves", ha="center", va="center", transform=ax.transAxes)
                ax.set_xticks([])
                ax.set_yticks([])
            else:
                _draw_curves(ax, sub, legend=False)
                ax.set_ylim(-0.02, 1.02)
                if j > 0:
                    ax.set_yticklabels([])
                    ax.set_ylabel("")
    if curves is not None:
        handles, names = axes[3, 0].get_legend_handles_labels()
        if handles:
            fig.legend(handles, names, loc="outside lower center", ncols=len(handles), fontsize=8)
    return fig


# --- perturbation curves --------------------------------------------------------------------

#: Columns of the perturbation-curve table.
CURVE_COLUMNS = ("label", "ordering", "step", "value")


def _draw_curves(ax: Axes, table: pd.DataFrame, *, legend: bool = True) -> None:
    index = _method_index(table["ordering"].astype(str))
    for ordering, sub in sorted(table.groupby("ordering", sort=False), key=lambda t: str(t[0])):
        sub = sub.sort_values("step")
        name = str(ordering)
        colour = ordering_colour(name, index.get(name, 0))
        x = sub["step"].to_numpy(dtype=np.float64)
        y = sub["value"].to_numpy(dtype=np.float64)
        has_band = {"ci_low", "ci_high"} <= set(sub.columns) and sub["ci_low"].notna().any()
        if has_band:
            ax.fill_between(
                x,
                sub["ci_low"].to_numpy(dtype=np.float64),
                sub["ci_high"].to_numpy(dtype=np.float64),
                color=colour,
                alpha=0.25 if name.startswith("random") else 0.15,
                linewidth=0,
            )
        ax.plot(
            x,
            y,
            color=colour,
            linestyle="--" if name.startswith("random") else "-",
            marker="" if len(x) > 20 else ".",
            label=name,
        )
    ax.set_xlabel("tiles removed", fontsize=8)
    ax.set_ylabel("accuracy", fontsize=8)
    ax.tick_params(labelsize=7)
    if legend:
        ax.legend(fontsize=7, frameon=False)


def perturbation_figure(curves: pd.DataFrame, *, ylabel: str = "accuracy") -> Figure:
    """Perturbation curves: value after each step per ordering, overall and per class.

    ``curves`` columns: ``label`` (expression, or ``"all"`` for every image), ``ordering``
    (``"human"``, a network method name, ``"random"``), ``step`` (tiles removed, 0..L), ``value``
    (mean over images), and optionally ``ci_low`` / ``ci_high`` (drawn as a band; for the random
    ordering this is its spread over random orders). One panel per label, ``"all"`` first.

    Parameters
    ----------
    curves
        The curve table described above.
    ylabel
        The y-axis label.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    _require(curves, CURVE_COLUMNS, "perturbation figure")
    labels = label_order(curves["label"].astype(str).unique())
    ncols = min(4, len(labels))
    nrows = math.ceil(len(labels) / ncols)
    fig = Figure(figsize=(3.0 * ncols, 2.5 * nrows + 0.4), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    for k, label in enumerate(labels):
        ax = axes.flat[k]
        _draw_curves(ax, curves[curves["label"].astype(str) == label], legend=False)
        ax.set_title("all images" if label == "all" else label, fontsize=10)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.set_ylim(-0.02, 1.02 if ylabel in {"accuracy", "probability"} else None)
    for ax in axes.flat[len(labels) :]:
        ax.set_visible(False)
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=max(1, len(handles)), fontsize=8)
    return fig


# --- forest plot ----------------------------------------------------------------------------

FOREST_COLUMNS = ("label", "contrast", "estimate", "ci_low", "ci_high")


def forest_figure(table: pd.DataFrame, *, xlabel: str = "AUC difference") -> Figure:
    """Forest plot of differences with confidence intervals, one panel per contrast.

    ``table`` columns: ``label`` (expression or ``"all"``), ``contrast`` (e.g.
    ``"human - network"``), ``estimate``, ``ci_low``, ``ci_high``. Rows are labels (``"all"`` at
    the top, drawn as a diamond); the dotted line marks zero difference.

    Parameters
    ----------
    table
        The differences described above.
    xlabel
        The x-axis label.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    _require(table, FOREST_COLUMNS, "forest figure")
    contrasts = list(dict.fromkeys(table["contrast"].astype(str)))
    labels = label_order(table["label"].astype(str).unique())
    fig = Figure(
        figsize=(3.3 * len(contrasts) + 0.8, 0.35 * len(labels) + 1.3), layout="constrained"
    )
    axes = fig.subplots(1, len(contrasts), squeeze=False, sharey=True)
    y_of = {lab: len(labels) - 1 - i for i, lab in enumerate(labels)}
    for ax, contrast in zip(axes[0], contrasts, strict=True):
        sub = table[table["contrast"].astype(str) == contrast]
        for _, row in sub.iterrows():
            y = y_of[str(row["label"])]
            est, lo, hi = float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])
            excludes_zero = lo > 0 or hi < 0
            colour = "black" if excludes_zero else "#999999"
            ax.plot([lo, hi], [y, y], color=colour, linewidth=1.5)
            ax.plot(
                [est],
                [y],
                marker="D" if row["label"] == "all" else "s",
                color=colour,
                markersize=7 if row["label"] == "all" else 5,
            )
        ax.axvline(0.0, color="black", linestyle=":", linewidth=1)
        ax.set_title(contrast, fontsize=10)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.tick_params(labelsize=8)
    axes[0, 0].set_yticks(list(y_of.values()), list(y_of.keys()))
    axes[0, 0].set_ylim(-0.7, len(labels) - 0.3)
    return fig


# --- region shares --------------------------------------------------------------------------

REGION_COLUMNS = ("label", "region", "source", "share")


def region_shares_figure(table: pd.DataFrame) -> Figure:
    """Share of human fixations and of network relevance per facial region, per expression.

    ``table`` columns: ``label``, ``region`` (eyes, brows, nose, mouth, ...), ``source``
    (``"human"`` or ``"network"``, or a method name), ``share`` in [0, 1], optionally ``ci_low`` /
    ``ci_high`` (error bars). One panel per label, grouped bars per region.

    Parameters
    ----------
    table
        The shares described above.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    _require(table, REGION_COLUMNS, "region shares figure")
    labels = label_order(table["label"].astype(str).unique())
    regions = list(dict.fromkeys(table["region"].astype(str)))
    sources = sorted(dict.fromkeys(table["source"].astype(str)), key=lambda s: (s != "human", s))
    ncols = min(4, len(labels))
    nrows = math.ceil(len(labels) / ncols)
    fig = Figure(figsize=(3.0 * ncols, 2.4 * nrows + 0.4), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    index = _method_index(sources)
    width = 0.8 / max(1, len(sources))
    x = np.arange(len(regions), dtype=np.float64)
    for k, label in enumerate(labels):
        ax = axes.flat[k]
        sub = table[table["label"].astype(str) == label]
        for s, source in enumerate(sources):
            rows = sub[sub["source"].astype(str) == source].set_index(
                sub[sub["source"].astype(str) == source]["region"].astype(str)
            )
            share = rows["share"].reindex(regions).to_numpy(dtype=np.float64)
            yerr = None
            if {"ci_low", "ci_high"} <= set(rows.columns):
                lo = rows["ci_low"].reindex(regions).to_numpy(dtype=np.float64)
                hi = rows["ci_high"].reindex(regions).to_numpy(dtype=np.float64)
                yerr = np.nan_to_num(np.vstack([share - lo, hi - share]), nan=0.0).clip(0.0)
            ax.bar(
                x + (s - (len(sources) - 1) / 2) * width,
                share,
                width,
                yerr=yerr,
                color=ordering_colour(source, index.get(source, 0)),
                label=source,
                capsize=2,
            )
        ax.set_xticks(x, regions, fontsize=7, rotation=30)
        ax.set_title("all images" if label == "all" else label, fontsize=10)
        ax.set_ylabel("share", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.flat[len(labels) :]:
        ax.set_visible(False)
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=max(1, len(handles)), fontsize=8)
    return fig


# --- saliency metrics -----------------------------------------------------------------------

METRIC_COLUMNS = ("metric", "map", "value")


def _is_ceiling(name: str) -> bool:
    return "ceiling" in name.lower() or name.lower().startswith("human")


def metrics_figure(table: pd.DataFrame) -> Figure:
    """Saliency metrics of each map against the human data, with the human noise ceiling.

    ``table`` columns: ``metric`` (NSS, CC, ...), ``map`` (what was scored: a network method,
    ``"noise ceiling"``, ``"centre bias"``, ``"uniform"``, ...), ``value``, optionally ``ci_low``
    / ``ci_high``. One panel per metric. A map whose name contains ``ceiling`` (or starts with
    ``human``) is the noise ceiling: drawn as a blue line with its interval as a band, so the other
    maps read against it. An optional boolean ``higher_is_better`` column is shown in the titles.

    Parameters
    ----------
    table
        The scores described above.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    _require(table, METRIC_COLUMNS, "metrics figure")
    metrics = list(dict.fromkeys(table["metric"].astype(str)))
    ncols = min(5, len(metrics))
    nrows = math.ceil(len(metrics) / ncols)
    fig = Figure(figsize=(2.6 * ncols, 2.6 * nrows + 0.3), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    has_ci = {"ci_low", "ci_high"} <= set(table.columns)
    for k, metric in enumerate(metrics):
        ax = axes.flat[k]
        sub = table[table["metric"].astype(str) == metric]
        points = sub[~sub["map"].astype(str).map(_is_ceiling)]
        ceilings = sub[sub["map"].astype(str).map(_is_ceiling)]
        for _, row in ceilings.iterrows():
            ax.axhline(float(row["value"]), color=HUMAN_COLOUR, linewidth=1.5)
            if has_ci and pd.notna(row["ci_low"]):
                ax.axhspan(
                    float(row["ci_low"]), float(row["ci_high"]), color=HUMAN_COLOUR, alpha=0.15
                )
        names = [str(m) for m in points["map"]]
        index = _method_index(names)
        xs = np.arange(len(names), dtype=np.float64)
        values = points["value"].to_numpy(dtype=np.float64)
        for x, name, value, (_, row) in zip(xs, names, values, points.iterrows(), strict=True):
            err = None
            if has_ci and pd.notna(row["ci_low"]):
                # a CI need not contain the point estimate (e.g. a percentile bootstrap of a
                # skewed statistic): clip so matplotlib draws the part that is on each side
                err = [
                    [max(0.0, value - float(row["ci_low"]))],
                    [max(0.0, float(row["ci_high"]) - value)],
                ]
            ax.errorbar(
                [x],
                [value],
                yerr=err,
                fmt="o",
                color=ordering_colour(name, index.get(name, 0)),
                capsize=3,
            )
        ax.set_xticks(xs, names, rotation=35, ha="right", fontsize=7)
        ax.set_xlim(-0.6, max(len(names), 1) - 0.4)
        direction = ""
        if "higher_is_better" in sub.columns and sub["higher_is_better"].notna().any():
            direction = (
                " (higher: better)" if bool(sub["higher_is_better"].iloc[0]) else " (lower: better)"
            )
        ax.set_title(metric + direction, fontsize=10)
        ax.tick_params(labelsize=7)
    for ax in axes.flat[len(metrics) :]:
        ax.set_visible(False)
    return fig


# --- confusion matrices ---------------------------------------------------------------------


def confusion_figure(matrices: Mapping[str, pd.DataFrame]) -> Figure:
    """Row-normalised confusion matrices side by side (e.g. network and human responses).

    Each value is a square-ish count table: index = true label, columns = predicted / responded
    label. Cells show the row share as colour and the count as text; rows with no trials are grey.

    Parameters
    ----------
    matrices
        Panel title -> count table.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    if not matrices:
        raise DataError("confusion figure: no matrices")
    fig = Figure(figsize=(4.3 * len(matrices), 4.2), layout="constrained")
    axes = fig.subplots(1, len(matrices), squeeze=False)
    for ax, (title, counts) in zip(axes[0], matrices.items(), strict=True):
        values = counts.to_numpy(dtype=np.float64)
        totals = values.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = np.where(totals > 0, values / totals, np.nan)
        image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
        for (r, c), n in np.ndenumerate(values):
            share = shares[r, c]
            ax.text(
                c,
                r,
                f"{int(n)}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if np.isfinite(share) and share > 0.6 else "black",
            )
        ax.set_xticks(
            range(values.shape[1]), [str(c) for c in counts.columns], rotation=45, fontsize=7
        )
        ax.set_yticks(range(values.shape[0]), [str(i) for i in counts.index], fontsize=7)
        ax.set_xlabel("predicted / responded", fontsize=8)
        ax.set_ylabel("true expression", fontsize=8)
        n_total = int(values.sum())
        accuracy = _diagonal_accuracy(counts)
        acc = f", accuracy {accuracy:.2f}" if accuracy is not None else ""
        ax.set_title(f"{title} (n = {n_total}{acc})", fontsize=10)
        fig.colorbar(image, ax=ax, shrink=0.7, label="share of row")
    return fig


def _diagonal_accuracy(counts: pd.DataFrame) -> float | None:
    total = float(counts.to_numpy(dtype=np.float64).sum())
    if total <= 0:
        return None
    hits = sum(float(counts.loc[lab, lab]) for lab in counts.index if lab in counts.columns)
    return hits / total


def confusion_counts(
    true: Sequence[str] | pd.Series, predicted: Sequence[str] | pd.Series
) -> pd.DataFrame:
    """Count table (index true label, columns predicted) over the labels present, LABELS order.

    Parameters
    ----------
    true, predicted
        The true and the predicted (or responded) label of each item.

    Returns
    -------
    pandas.DataFrame
        Counts, rows and columns in :func:`label_order`.
    """
    t = pd.Series(list(true), dtype="string", name="true")
    p = pd.Series(list(predicted), dtype="string", name="predicted").fillna("(none)")
    labels = label_order([*t.dropna().unique(), *p.unique()])
    table = pd.crosstab(t, p).reindex(index=[x for x in labels if x in set(t)], columns=labels)
    return table.fillna(0).astype(np.int64)


# --- data quality ---------------------------------------------------------------------------


def quality_figure(table: pd.DataFrame) -> Figure:
    """Trials kept (and dropped, by reason) per subject, as stacked horizontal bars.

    ``table`` columns: ``subject``, ``trials_kept``, and any number of ``dropped_<reason>``
    columns (counts of trials dropped for that reason; reasons with no trial are not drawn).

    Parameters
    ----------
    table
        The per-subject counts described above.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    _require(table, ("subject", "trials_kept"), "quality figure")
    table = table.sort_values("subject")
    subjects = table["subject"].astype(str).tolist()
    y = np.arange(len(subjects), dtype=np.float64)
    fig = Figure(figsize=(6.5, 0.28 * len(subjects) + 1.4), layout="constrained")
    ax = fig.subplots()
    left = table["trials_kept"].to_numpy(dtype=np.float64)
    ax.barh(y, left, color=HUMAN_COLOUR, label="kept")
    reds = ["#d62728", "#e377c2", "#8c564b", "#bcbd22", "#17becf", "#9467bd"]
    # reasons no trial was dropped for stay in the table, not in the legend
    dropped = [
        c
        for c in table.columns
        if c.startswith("dropped_") and table[c].fillna(0).to_numpy(dtype=np.float64).sum() > 0
    ]
    for k, column in enumerate(dropped):
        values = table[column].fillna(0).to_numpy(dtype=np.float64)
        ax.barh(
            y,
            values,
            left=left,
            color=reds[k % len(reds)],
            label=column.removeprefix("dropped_").replace("_", " "),
        )
        left = left + values
    ax.set_yticks(y, subjects, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("trials", fontsize=8)
    fig.legend(
        loc="outside lower center", ncols=min(4, 1 + len(dropped)), fontsize=7, frameon=False
    )
    return fig


# --- writing ----------------------------------------------------------------------------------


def save_figure(
    fig: Figure, directory: Path, stem: str, formats: Sequence[str], *, dpi: int = 110
) -> dict[str, Path]:
    """Write ``fig`` as ``directory/stem.<fmt>`` for each format, atomically, deterministic bytes.

    Creation dates and software tags are left out so equal figures give equal files.

    Parameters
    ----------
    fig
        The figure.
    directory
        Folder to write into (created if needed).
    stem
        File name without suffix.
    formats
        File formats, e.g. ``["png", "pdf"]``.
    dpi
        Resolution of raster formats.

    Returns
    -------
    dict
        Format -> written path.
    """
    out: dict[str, Path] = {}
    for fmt in formats:
        path = directory / f"{stem}.{fmt}"
        metadata: dict[str, str | None] = (
            {"CreationDate": None, "Producer": None, "Creator": None}
            if fmt == "pdf"
            else {"Software": None}
        )
        with atomic_open(path, "wb") as fh:
            fig.savefig(fh, format=fmt, dpi=dpi, metadata=metadata)
        out[fmt] = path
    return out


def figure_png(fig: Figure, *, dpi: int = 110) -> bytes:
    """``fig`` as PNG bytes (for inlining in the HTML report).

    Parameters
    ----------
    fig
        The figure.
    dpi
        Its resolution.

    Returns
    -------
    bytes
        The PNG file's bytes (no software tag, so equal figures give equal bytes).
    """
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()
