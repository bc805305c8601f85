"""The self-contained HTML report: every figure inlined, no scripts, no external resources.

:func:`build_report` renders every registered section (:mod:`gazealign.report.sections`) from
:class:`~gazealign.report.inputs.ReportInputs`, writes the figures to ``out_dir/figures/`` (PNG
and/or PDF), ``summary.json`` (the key numbers) and ``report.html``. This module holds what the
sections share: the HTML helpers, the figure maker and :class:`SectionContext`. Images are inlined as base64 ``data:`` URIs and the style sheet is inlined, so
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
from gazealign.pipeline.artifacts import read_table_artifact
from gazealign.pipeline.store import to_json_text, write_bytes, write_text
from gazealign.report import figures
from gazealign.report.inputs import ReportInputs
from gazealign.report.sections import page_sections
from gazealign.report.summary import Summary, summarise

SYNTHETIC_BANNER = (
    "Synthetic data. The faces are generated and the observers are simulated: this report "
    "demonstrates the method. Its numbers are not a finding about people."
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
    """``text`` as HTML-escaped text (quotes too, so it is safe inside attributes).

    Parameters
    ----------
    text
        Anything; its ``str`` is escaped.

    Returns
    -------
    str
        The escaped text.
    """
    return html.escape(str(text), quote=True)


def absent(reason: str) -> str:
    """The note a section shows instead of a missing piece.

    Parameters
    ----------
    reason
        Why it is missing (a trailing full stop is dropped, one is added).

    Returns
    -------
    str
        ``<p class="absent">Not available: reason.</p>``.
    """
    return f'<p class="absent">Not available: {esc(reason.rstrip("."))}.</p>'


def table_html(table: pd.DataFrame, *, index: bool = False, max_rows: int = 200) -> str:
    """An escaped HTML table; floats with 3 decimals; long tables cut with a note.

    Parameters
    ----------
    table
        The table shown.
    index
        Show the index as the first column(s).
    max_rows
        At most this many rows; a note says how many there were.

    Returns
    -------
    str
        The ``<table class="data">`` (and the note).
    """
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


def shown_columns(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The columns of ``table`` among ``columns``, in that order (absent ones skipped).

    Parameters
    ----------
    table
        Any table.
    columns
        The columns to show, in order.

    Returns
    -------
    pandas.DataFrame
        ``table`` restricted to those of ``columns`` it has.
    """
    return table[[c for c in columns if c in table.columns]]


def figure_html(fig: RenderedFigure) -> str:
    """A ``<figure>`` with the PNG inlined as a data URI and the caption naming its files.

    Parameters
    ----------
    fig
        The drawn figure.

    Returns
    -------
    str
        The figure's HTML.
    """
    data = base64.b64encode(fig.png).decode("ascii")
    links = ", ".join(f"{esc(p.name)}" for p in fig.files.values())
    files_note = f" Files: figures/{links}." if links else ""
    return (
        f'<figure id="fig-{esc(fig.stem)}"><img src="data:image/png;base64,{data}" '
        f'alt="{esc(fig.caption)}"><figcaption>{esc(fig.caption)}{esc(files_note)}</figcaption></figure>'
    )


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level of dotted keys (``{"a": {"b": 1}}`` -> ``{"a.b": 1}``).

    Parameters
    ----------
    value
        A mapping (walked) or a leaf value.
    prefix
        The dotted key of ``value`` itself.

    Returns
    -------
    dict
        Dotted key -> leaf value.
    """
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def scalars_table(values: Mapping[str, Any], *, key: str = "name") -> pd.DataFrame:
    """A two-column table of (flattened) scalars; other values as JSON text.

    Parameters
    ----------
    values
        Possibly nested mapping of values.
    key
        Name of the first column.

    Returns
    -------
    pandas.DataFrame
        Columns ``key`` and ``value``, one row per leaf.
    """
    flat = flatten(values)
    rows = [
        {
            key: k,
            "value": v if isinstance(v, int | float | str | bool) or v is None else json.dumps(v),
        }
        for k, v in flat.items()
    ]
    return pd.DataFrame(rows, columns=[key, "value"])


# --- figures ------------------------------------------------------------------------------------


class FigureMaker:
    """Draws figures, writes their files, keeps the PNG bytes; a failed figure becomes a note."""

    def __init__(self, out_dir: Path, options: ReportOptions) -> None:
        self.out_dir = out_dir
        self.options = options

    def make(self, stem: str, draw: Callable[[], Figure], caption: str) -> RenderedFigure | str:
        """Draw a figure and write it as ``figures/<stem>.<format>`` for each format.

        Parameters
        ----------
        stem
            File stem (and the figure's HTML id).
        draw
            Makes the matplotlib figure.
        caption
            The caption shown under it.

        Returns
        -------
        RenderedFigure or str
            The figure, or why it could not be drawn from the run's table.
        """
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


def figure_or_note(made: RenderedFigure | str) -> str:
    """The HTML of a figure from :meth:`FigureMaker.make`, or the note saying why it is absent.

    Parameters
    ----------
    made
        What :meth:`FigureMaker.make` returned.

    Returns
    -------
    str
        :func:`figure_html` or :func:`absent`.
    """
    return figure_html(made) if isinstance(made, RenderedFigure) else absent(made)


class SectionAbsent(Exception):
    """Raised while a section renders: the section shows "Not available: <reason>" instead."""


@dataclass(frozen=True)
class SectionContext:
    """What a report section's render function gets (:mod:`gazealign.report.sections`).

    Attributes
    ----------
    inputs
        Everything gathered from the run (``None`` pieces: absent, reason in ``inputs.absent``).
    summary
        The plain-language findings and key numbers.
    figures
        Draws a figure, writes its files and returns it for :func:`figure_or_note`.
    """

    inputs: ReportInputs
    summary: Summary
    figures: FigureMaker

    @property
    def options(self) -> ReportOptions:
        """The report's options (formats, resolution, overlay percentile, confidence)."""
        return self.figures.options

    def need(self, piece: str, default: str) -> Any:
        """The input ``piece`` (an attribute of :class:`ReportInputs`); absent, the section is.

        Parameters
        ----------
        piece
            The attribute's name (``"curves"``, ``"metrics"``, ...).
        default
            The reason shown when none was recorded.

        Returns
        -------
        Any
            The piece.

        Raises
        ------
        SectionAbsent
            The piece is ``None``; the reason is the one recorded for it, else ``default``.
        """
        value = getattr(self.inputs, piece)
        if value is None:
            raise SectionAbsent(self.inputs.absent.get(piece, default))
        return value

    def missing(self, piece: str, default: str) -> str:
        """The "Not available" note of an absent input ``piece``, inside a section that goes on.

        Parameters
        ----------
        piece
            The attribute's name of :class:`ReportInputs`.
        default
            The reason shown when none was recorded.

        Returns
        -------
        str
            :func:`absent` of the recorded reason (or ``default``).
        """
        return absent(self.inputs.absent.get(piece, default))

    def figure(self, stem: str, draw: Callable[[], Figure], caption: str) -> str:
        """Draw, file and inline a figure, or say why it is absent.

        Parameters
        ----------
        stem, draw, caption
            As for :meth:`FigureMaker.make`.

        Returns
        -------
        str
            The figure's HTML (:func:`figure_or_note`).
        """
        return figure_or_note(self.figures.make(stem, draw, caption))

    def stage_table(self, stage: str, artifact: str) -> pd.DataFrame:
        """The table ``artifact`` that stage ``stage`` declares (its columns checked).

        Parameters
        ----------
        stage
            The stage's name.
        artifact
            The table's name in the stage's ``writes``.

        Returns
        -------
        pandas.DataFrame
            The table as the stage wrote it.

        Raises
        ------
        SectionAbsent
            The run has no finished ``stage``, or the table is missing or unreadable.
        """
        folder = self.inputs.stage_dirs.get(stage)
        if folder is None:
            raise SectionAbsent(f"the run has no finished {stage} stage")
        try:
            return read_table_artifact(folder, artifact)
        except (GazeAlignError, OSError, KeyError, ValueError) as exc:
            raise SectionAbsent(f"{stage}: {exc}") from None


# --- shared by sections -----------------------------------------------------------------------


def perturbation_settings(table: pd.DataFrame | None) -> str:
    """The sentence every perturbation caption carries: tile size, grid, fill, ranking, sign.

    Read from the settings the perturbation stage stamped on its rows (what it ran with).

    Parameters
    ----------
    table
        A perturbation table (curves or AUC differences) with the stamped settings columns.

    Returns
    -------
    str
        The sentence (with a leading space), or ``""`` without the settings.
    """
    if table is None or table.empty or "tile_px" not in table:
        return ""
    row = table.iloc[0]
    return (
        f" Tiles of {row['tile_px']} px ({row['grid_rows']} × {row['grid_cols']} grid over the "
        f"{row['input_px']} px network input), a removed tile filled with '{row['fill']}'; "
        f"tiles ranked by the {row['tile_score']} of each map ({row['tile_sign']} relevance for "
        f"the network's maps, made with the '{row['sign']}' sign policy); "
        f"{row['random_orders']} random orders per image."
    )


# --- the page -----------------------------------------------------------------------------------


def _template(name: str) -> str:
    return files("gazealign.report").joinpath("templates", name).read_text(encoding="utf-8")


def render_page(inputs: ReportInputs, sections: Mapping[str, str]) -> str:
    """The whole HTML page from rendered section bodies.

    Parameters
    ----------
    inputs
        The run's gathered inputs (title, study name, whether it is synthetic).
    sections
        Section id -> HTML body; a registered section missing here says "not built".

    Returns
    -------
    str
        The page, sections in :func:`~gazealign.report.sections.page_sections` order.
    """
    order = [(s.name, s.title) for s in page_sections()]
    toc = "\n".join(f'<li><a href="#{sid}">{esc(title)}</a></li>' for sid, title in order)
    body = "\n".join(
        f'<section id="{sid}">\n<h2>{esc(title)}</h2>\n{sections.get(sid, absent("not built"))}\n</section>'
        for sid, title in order
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


def _render(fn: Callable[[SectionContext], str], context: SectionContext) -> str:
    try:
        return fn(context)
    except SectionAbsent as exc:
        return absent(str(exc))


def build_report(inputs: ReportInputs, out_dir: Path, options: ReportOptions | None = None) -> Path:
    """Write ``report.html``, ``summary.json`` and ``figures/`` into ``out_dir``.

    Every registered report section (:mod:`gazealign.report.sections`) renders its body from
    the same :class:`SectionContext`.

    Parameters
    ----------
    inputs
        The run's gathered inputs.
    out_dir
        Folder for the page, ``summary.json`` and ``figures/``.
    options
        Figure formats, resolution, overlay percentile, confidence (defaults if omitted).

    Returns
    -------
    pathlib.Path
        The written ``report.html``.
    """
    options = options or ReportOptions()
    maker = FigureMaker(out_dir, options)
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
    context = SectionContext(inputs, summary, maker)
    sections = {s.name: _render(s.fn, context) for s in page_sections()}
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
