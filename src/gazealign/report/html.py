"""The self-contained HTML report: every figure inlined, no scripts, no external resources.

:func:`build_report` draws the figures from :class:`~gazealign.report.inputs.ReportInputs`, writes
them to ``out_dir/figures/`` (PNG and/or PDF), writes ``summary.json`` (the key numbers) and
``report.html``. Images are inlined as base64 ``data:`` URIs and the style sheet is inlined, so
the page opens anywhere without network access. A section whose inputs are absent says so.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from gazealign import __version__
from gazealign.errors import GazeAlignError
from gazealign.pipeline.store import to_json_text, write_bytes, write_text
from gazealign.report import explain_figures, figures
from gazealign.report.inputs import ReportInputs, stage_order
from gazealign.report.summary import Summary, summarise

SYNTHETIC_BANNER = (
    "Synthetic data. The faces are generated and the observers are simulated: this report "
    "demonstrates the method. Its numbers are not a finding about people."
)

#: Section ids and headings, in page order.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("overview", "Overview: where people look and where the network finds evidence"),
    ("perturbation", "Perturbation curves"),
    ("auc", "AUC differences per expression"),
    ("regions", "Facial regions"),
    ("metrics", "Saliency metrics against the human noise ceiling"),
    ("sanity", "Sanity checks of the network's maps"),
    ("recognition", "Recognition: network and observers"),
    ("data", "Data: what was used and what was dropped"),
    ("reproducibility", "Configuration, versions and seeds"),
)


@dataclass
class RenderedFigure:
    stem: str
    png: bytes
    caption: str
    files: dict[str, Path] = field(default_factory=dict)


@dataclass
class ReportOptions:
    formats: Sequence[str] = ("png", "pdf")
    dpi: int = 110
    percentile: float = figures.OVERLAY_PERCENTILE
    confidence: float = 0.95


# --- small HTML helpers -------------------------------------------------------------------------


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def absent(reason: str) -> str:
    return f'<p class="absent">Not available: {esc(reason.rstrip("."))}.</p>'


def table_html(table: pd.DataFrame, *, index: bool = False, max_rows: int = 200) -> str:
    """An escaped HTML table; floats with 3 decimals; long tables cut with a note."""
    note = ""
    if len(table) > max_rows:
        note = (
            f"<p>First {max_rows} of {len(table)} rows (the full table is in the run folder).</p>"
        )
        table = table.head(max_rows)
    body = table.to_html(
        index=index,
        border=0,
        classes="data",
        float_format=lambda v: f"{v:.3f}",
        na_rep="",
        escape=True,
    )
    return body + note


def figure_html(fig: RenderedFigure) -> str:
    data = base64.b64encode(fig.png).decode("ascii")
    links = ", ".join(f"{esc(p.name)}" for p in fig.files.values())
    files_note = f" Files: figures/{links}." if links else ""
    return (
        f'<figure id="fig-{esc(fig.stem)}"><img src="data:image/png;base64,{data}" '
        f'alt="{esc(fig.caption)}"><figcaption>{esc(fig.caption)}{esc(files_note)}</figcaption></figure>'
    )


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def _scalars_table(values: Mapping[str, Any], *, key: str = "name") -> pd.DataFrame:
    flat = _flatten(values)
    rows = [
        {
            key: k,
            "value": v if isinstance(v, int | float | str | bool) or v is None else json.dumps(v),
        }
        for k, v in flat.items()
    ]
    return pd.DataFrame(rows, columns=[key, "value"])


def region_table(table: pd.DataFrame) -> pd.DataFrame:
    """Region shares side by side: one row per (label, region), one column per source, and the
    difference network minus human when both are present (long table unchanged otherwise)."""
    if not {"label", "region", "source", "share"} <= set(table.columns):
        return table
    try:
        wide = table.pivot_table(
            index=["label", "region"], columns="source", values="share", aggfunc="first", sort=False
        )
    except (ValueError, TypeError):
        return table
    wide.columns = [f"{c} share" for c in wide.columns.astype(str)]
    human = [c for c in wide.columns if c.startswith("human")]
    others = [c for c in wide.columns if not c.startswith("human")]
    if len(human) == 1 and len(others) == 1:
        wide[f"{others[0].removesuffix(' share')} - human"] = wide[others[0]] - wide[human[0]]
    return wide.reset_index()


# --- figures ------------------------------------------------------------------------------------


class _FigureMaker:
    """Draws figures, writes their files, keeps the PNG bytes; a failed figure becomes a note."""

    def __init__(self, out_dir: Path, options: ReportOptions) -> None:
        self.out_dir = out_dir
        self.options = options

    def make(self, stem: str, draw: Callable[[], Figure], caption: str) -> RenderedFigure | str:
        try:
            fig = draw()
        except (GazeAlignError, KeyError, ValueError, TypeError) as exc:
            return f"the figure could not be drawn from the run's table ({exc})"
        png = figures.figure_png(fig, dpi=self.options.dpi)
        written: dict[str, Path] = {}
        folder = self.out_dir / "figures"
        for fmt in self.options.formats:
            if fmt == "png":
                write_bytes(folder / f"{stem}.png", png)
                written["png"] = folder / f"{stem}.png"
            else:
                written.update(figures.save_figure(fig, folder, stem, [fmt], dpi=self.options.dpi))
        return RenderedFigure(stem, png, caption, written)


def _figure_or_note(made: RenderedFigure | str) -> str:
    return figure_html(made) if isinstance(made, RenderedFigure) else absent(made)


# --- sections -----------------------------------------------------------------------------------


def _section_summary(summary: Summary, inputs: ReportInputs) -> str:
    items = "".join(f"<li>{esc(s)}</li>" for s in summary.sentences)
    lead = ""
    if inputs.synthetic:
        lead = f"<p><strong>{esc(SYNTHETIC_BANNER)}</strong></p>"
    answer = ""
    if summary.table is not None and not summary.table.empty:
        answer = (
            "<p>The answer first: per network method, the human - network difference of the "
            "MoRF accuracy AUC (interval and sign-flip p over identities), whether it depends on "
            "the expression, and how far each map gets from the centre bias (0 %) to the human "
            "noise ceiling (100 %).</p>" + table_html(summary.table)
        )
    return f'{lead}{answer}<ul class="findings">{items}</ul>'


def _section_overview(inputs: ReportInputs, maker: _FigureMaker) -> str:
    if inputs.overview is None:
        return absent(inputs.absent.get("overview", "no example maps"))
    ids = ", ".join(f"{e.label}: {e.stimulus_id}" for e in inputs.overview)
    curves_note = (
        " Bottom row: that expression's perturbation curves (accuracy as tiles are removed in the "
        "human, network and random order; band: spread of the random orders)."
        if inputs.curves is not None
        else ""
    )
    caption = (
        "Per expression, one test face (top), the human fixation density over it (middle) and "
        f"the network's {inputs.overview_method} map (below). "
        + figures.colour_scale_rule(maker.options.percentile)
        + curves_note
        + f" Faces shown: {ids}."
    )
    made = maker.make(
        "overview",
        lambda: figures.overview_figure(
            inputs.overview or [],
            method=inputs.overview_method,
            curves=inputs.curves,
            percentile=maker.options.percentile,
        ),
        caption,
    )
    return _figure_or_note(made)


def _section_perturbation(inputs: ReportInputs, maker: _FigureMaker) -> str:
    table = inputs.curves
    if table is None:
        return absent(inputs.absent.get("curves", "no perturbation curves"))
    caption = (
        "Accuracy of the network as image tiles are replaced, most relevant first (MoRF), in the "
        "order of the human density, of the network's map, and at random (dashed line: mean of "
        "the random orders; band: their spread or confidence interval). A curve that falls faster "
        "found the tiles the network relies on sooner. First panel: all images; then per expression."
        + tile_settings_sentence(table)
    )
    made = maker.make("perturbation_curves", lambda: figures.perturbation_figure(table), caption)
    return _figure_or_note(made)


def tile_settings_sentence(table: pd.DataFrame) -> str:
    """' Tiles: ...' from the settings the perturbation stage stamps on its tables ('' if none)."""

    def one(column: str) -> str | None:
        if column not in table.columns:
            return None
        values = sorted({str(v) for v in table[column].dropna()})
        return ", ".join(values) if values else None

    tile_px, score, sign, fill = (one(c) for c in ("tile_px", "tile_score", "tile_sign", "fill"))
    if tile_px is None and score is None and sign is None:
        return ""
    parts = []
    if tile_px is not None:
        parts.append(f"{tile_px} px tiles")
    if score is not None:
        relevance = f"{sign} relevance" if sign is not None else "relevance"
        parts.append(
            f"network maps' tiles ranked by the {score} of their {relevance} "
            "(comparison.perturbation.tile_sign)"
        )
    if fill is not None:
        parts.append(f"removed tiles filled with {fill}")
    return " Settings: " + "; ".join(parts) + "."


def _section_auc(inputs: ReportInputs, maker: _FigureMaker) -> str:
    table = inputs.auc_differences
    if table is None:
        return absent(inputs.absent.get("auc_differences", "no AUC differences"))
    conf = f"{maker.options.confidence:.0%}"
    caption = (
        f"Differences of the areas under the MoRF accuracy curves with {conf} confidence intervals, "
        "per expression and over all images (diamond). Black: interval excludes zero; grey: it does not."
    )
    made = maker.make("auc_differences", lambda: figures.forest_figure(table), caption)
    shown = [
        c
        for c in (
            "contrast",
            "label",
            "n",
            "estimate",
            "ci_low",
            "ci_high",
            "p_value",
            "cohens_dz",
            "rank_biserial",
        )
        if c in table.columns
    ]
    return _figure_or_note(made) + table_html(table[shown])


def _section_regions(inputs: ReportInputs, maker: _FigureMaker) -> str:
    table = inputs.region_shares
    if table is None:
        return absent(inputs.absent.get("region_shares", "no region shares"))
    caption = (
        "Per expression, the share of human fixations (blue) and of the network's positive "
        "relevance (orange) that falls in each facial region (error bars: confidence intervals "
        "where the table holds them)."
    )
    made = maker.make("region_shares", lambda: figures.region_shares_figure(table), caption)
    parts = [_figure_or_note(made), "<h3>Shares per expression and region</h3>"]
    parts.append(f'<div class="scroll">{table_html(region_table(table))}</div>')
    parts.append("<h3>Network minus human share, with confidence intervals</h3>")
    diffs = inputs.region_differences
    if diffs is None:
        parts.append(absent(inputs.absent.get("region_differences", "no table of differences")))
    else:
        shown = [
            c
            for c in (
                "contrast",
                "label",
                "region",
                "n",
                "estimate",
                "ci_low",
                "ci_high",
                "p_value",
                "cohens_dz",
            )
            if c in diffs.columns
        ]
        parts.append(f'<div class="scroll">{table_html(diffs[shown])}</div>')
    return "\n".join(parts)


def _section_metrics(inputs: ReportInputs, maker: _FigureMaker) -> str:
    table = inputs.metrics
    if table is None:
        return absent(inputs.absent.get("metrics", "no saliency metrics"))
    caption = (
        "Saliency metrics of each map against the human fixations (Bylinskii et al. 2018). Blue "
        "line and band: the human noise ceiling (human vs human) and its interval; grey: "
        "baselines (centre bias, uniform); orange: the network. KLD and EMD: lower is better."
    )
    made = maker.make("saliency_metrics", lambda: figures.metrics_figure(table), caption)
    shown = [
        c
        for c in ("metric", "map", "n", "value", "ci_low", "ci_high", "higher_is_better")
        if c in table.columns
    ]
    return _figure_or_note(made) + table_html(table[shown])


def _section_sanity(inputs: ReportInputs, maker: _FigureMaker) -> str:
    verdicts = inputs.sanity_verdicts
    if verdicts is None:
        return absent(inputs.absent.get("sanity_verdicts", "no sanity checks"))
    parts = [
        "<p>Sanity checks of saliency methods (Adebayo et al. 2018): a map that explains what "
        "the network learned changes when the network's weights are re-drawn at random (from "
        "the output layer down), and a map that explains a class differs between classes "
        "(modified-backprop LRP rules often fail this: Sixt et al. 2020). Thresholds are this "
        "package's conventions (study file, [sanity]); each verdict states its own.</p>",
        '<ul class="findings">'
        + "".join(f"<li>{esc(m)}: {esc(v)}</li>" for m, v in _verdict_pairs(verdicts))
        + "</ul>",
    ]
    layers = inputs.sanity_layers
    if layers is not None:
        caption = (
            "Cascading randomisation: similarity of each method's maps to the trained network's "
            "as the layers are re-drawn one at a time from the output down (x: the last layer "
            "re-drawn). Solid: median Spearman correlation of |map| over the checked images "
            "(band: quartiles); dashed: median SSIM of |map| scaled to its maximum."
        )
        made = maker.make(
            "sanity_randomisation",
            lambda: explain_figures.randomisation_figure(layers),
            caption,
        )
        parts.append(_figure_or_note(made))
    shown = [
        c
        for c in (
            "method",
            "target_output",
            "randomised_spearman",
            "randomised_ssim",
            "head_randomised_spearman",
            "passes_randomisation",
            "class_r",
            "class_r_other",
            "class_r_signed",
            "passes_class_sensitivity",
        )
        if c in verdicts.columns
    ]
    parts.append(table_html(verdicts[shown]))
    return "\n".join(parts)


def _verdict_pairs(verdicts: pd.DataFrame) -> list[tuple[str, str]]:
    return [(str(m), str(v)) for m, v in zip(verdicts["method"], verdicts["verdict"], strict=True)]


def _section_recognition(inputs: ReportInputs, maker: _FigureMaker) -> str:
    parts: list[str] = []
    if inputs.train_metrics is not None:
        parts.append("<h3>Network training and test metrics</h3>")
        parts.append(table_html(_scalars_table(inputs.train_metrics, key="metric")))
    else:
        parts.append(absent(inputs.absent.get("train_metrics", "no training metrics")))
    if inputs.confusions:
        caption = (
            "Confusion matrices: rows are the true expression, columns the network's prediction "
            "or the observer's response; colour is the share of the row, numbers are counts."
        )
        confusions = inputs.confusions
        made = maker.make("confusion", lambda: figures.confusion_figure(confusions), caption)
        parts.append(_figure_or_note(made))
    else:
        parts.append(absent(inputs.absent.get("confusions", "no confusion matrices")))
    return "\n".join(parts)


def _notes_table(inputs: ReportInputs) -> pd.DataFrame:
    rows = []
    for name in stage_order(list(inputs.stage_records), inputs.manifest):
        for key, value in _flatten(inputs.stage_records[name].get("notes") or {}).items():
            rows.append(
                {
                    "stage": name,
                    "count or fact": key,
                    "value": value if isinstance(value, int | float | str) else json.dumps(value),
                }
            )
    return pd.DataFrame(rows, columns=["stage", "count or fact", "value"])


def _section_data(inputs: ReportInputs, maker: _FigureMaker) -> str:
    parts: list[str] = ["<h3>Stimuli per expression and split</h3>"]
    if inputs.stimulus_counts is not None:
        parts.append(table_html(inputs.stimulus_counts, index=True))
    else:
        parts.append(absent(inputs.absent.get("stimulus_counts", "no stimulus table")))
    parts.append("<h3>Counts recorded by each stage</h3>")
    notes = _notes_table(inputs)
    parts.append(table_html(notes) if not notes.empty else absent("no stage recorded counts"))
    parts.append("<h3>Dropped items and why</h3>")
    if inputs.dropped:
        for name, table in inputs.dropped.items():
            parts.append(f"<p><strong>{esc(name)}</strong>: {len(table)} row(s)</p>")
            if not table.empty:
                parts.append(f'<div class="scroll">{table_html(table, max_rows=50)}</div>')
    else:
        parts.append(
            absent(inputs.absent.get("dropped", "no stage wrote a table of dropped items"))
        )
    parts.append("<h3>Trials kept per subject</h3>")
    if inputs.quality is not None:
        caption = (
            "Trials kept per subject (blue) and dropped, by reason (other colours), after the gaze "
            "stage's filters."
        )
        quality = inputs.quality
        parts.append(
            _figure_or_note(
                maker.make("data_quality", lambda: figures.quality_figure(quality), caption)
            )
        )
        parts.append(f'<div class="scroll">{table_html(inputs.quality)}</div>')
    else:
        parts.append(absent(inputs.absent.get("quality", "no per-subject trial counts")))
    return "\n".join(parts)


def _section_reproducibility(inputs: ReportInputs) -> str:
    parts: list[str] = []
    manifest = inputs.manifest
    parts.append("<h3>Versions</h3>")
    versions = manifest.get("versions") or {}
    parts.append(
        table_html(_scalars_table(versions, key="package"))
        if versions
        else absent("manifest.json lists no versions")
    )
    parts.append("<h3>Seeds</h3>")
    seed_rows: list[dict[str, Any]] = []
    if "seed" in manifest:
        seed_rows.append({"stage": "study", "name": "master seed", "seed": manifest["seed"]})
    for name in stage_order(list(inputs.stage_records), manifest):
        for seed_name, value in sorted((inputs.stage_records[name].get("seeds") or {}).items()):
            seed_rows.append({"stage": name, "name": seed_name, "seed": value})
    parts.append(
        table_html(pd.DataFrame(seed_rows)) if seed_rows else absent("no seeds were recorded")
    )
    parts.append("<h3>Stages</h3>")
    stage_rows = [
        {
            "stage": name,
            "key": rec.get("key", ""),
            "started (UTC)": rec.get("started_utc", ""),
            "duration (s)": rec.get("duration_s", ""),
            "items resumed": rec.get("items_resumed", ""),
        }
        for name in stage_order(list(inputs.stage_records), manifest)
        for rec in [inputs.stage_records[name]]
    ]
    parts.append(
        table_html(pd.DataFrame(stage_rows)) if stage_rows else absent("no finished stages")
    )
    parts.append("<h3>Study file (as run)</h3>")
    if inputs.study_toml:
        parts.append(f"<pre>{esc(inputs.study_toml)}</pre>")
    else:
        parts.append(absent("the run folder holds no study.toml"))
    return "\n".join(parts)


# --- the page -----------------------------------------------------------------------------------


def _template(name: str) -> str:
    return files("gazealign.report").joinpath("templates", name).read_text(encoding="utf-8")


def render_page(inputs: ReportInputs, sections: Mapping[str, str]) -> str:
    """The whole HTML page from rendered section bodies (keyed by :data:`SECTIONS` ids)."""
    toc = "\n".join(f'<li><a href="#{sid}">{esc(title)}</a></li>' for sid, title in SECTIONS)
    body = "\n".join(
        f'<section id="{sid}">\n<h2>{esc(title)}</h2>\n{sections.get(sid, absent("not built"))}\n</section>'
        for sid, title in SECTIONS
    )
    banner = (
        f'<p class="banner" id="synthetic-notice">{esc(SYNTHETIC_BANNER)}</p>'
        if inputs.synthetic
        else ""
    )
    return Template(_template("report.html")).substitute(
        title=esc(inputs.title),
        study_name=esc(inputs.study_name),
        version=esc(__version__),
        css=_template("report.css"),
        banner=banner,
        toc=toc,
        body=body,
    )


def build_report(inputs: ReportInputs, out_dir: Path, options: ReportOptions | None = None) -> Path:
    """Write ``report.html``, ``summary.json`` and ``figures/`` into ``out_dir``; return the page."""
    options = options or ReportOptions()
    maker = _FigureMaker(out_dir, options)
    summary = summarise(
        auc_differences=inputs.auc_differences,
        metrics=inputs.metrics,
        region_shares=inputs.region_shares,
        region_differences=inputs.region_differences,
        train_metrics=inputs.train_metrics,
        confusions=inputs.confusions,
        sanity_verdicts=inputs.sanity_verdicts,
        confidence=options.confidence,
    )
    sections = {
        "summary": _section_summary(summary, inputs),
        "overview": _section_overview(inputs, maker),
        "perturbation": _section_perturbation(inputs, maker),
        "auc": _section_auc(inputs, maker),
        "regions": _section_regions(inputs, maker),
        "metrics": _section_metrics(inputs, maker),
        "sanity": _section_sanity(inputs, maker),
        "recognition": _section_recognition(inputs, maker),
        "data": _section_data(inputs, maker),
        "reproducibility": _section_reproducibility(inputs),
    }
    numbers = {
        "study": inputs.study_name,
        "synthetic": inputs.synthetic,
        "sentences": summary.sentences,
        **summary.numbers,
        "absent": dict(sorted(inputs.absent.items())),
    }
    write_text(out_dir / "summary.json", to_json_text(numbers))
    page = out_dir / "report.html"
    write_text(page, render_page(inputs, sections))
    return page
