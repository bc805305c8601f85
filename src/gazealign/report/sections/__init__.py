"""The report-section registry: ``@report_section(...)`` next to a section's render function.

Each section of the HTML report is a function ``render(ctx) -> str`` (the section's HTML body)
registered with :func:`report_section` under an id (the ``<section id>`` of the page), a heading
and an ``order`` (sections appear by increasing order, then by id). The built-in sections are the
modules of this package; the first lookup imports every one of them, so a new section (for a new
stage's table, say) is one new module here and no edit elsewhere. A plug-in module named in the
study file's ``plugins`` (or a ``gazealign.plugins`` entry point) registers the same way.

The render function gets a :class:`~gazealign.report.html.SectionContext`: the gathered
:class:`~gazealign.report.inputs.ReportInputs`, the summary, the figure maker, and
:meth:`~gazealign.report.html.SectionContext.stage_table` to read any stage's declared table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from gazealign.registry import Registry

if TYPE_CHECKING:
    from gazealign.report.html import SectionContext

F = TypeVar("F", bound="Callable[[SectionContext], str]")


@dataclass(frozen=True)
class ReportSection:
    """One section of the report page: ``fn(ctx) -> html`` under heading ``title``."""

    name: str
    title: str
    order: float
    fn: Callable[[SectionContext], str]
    description: str
    extra: str | None = None


#: Every report section (the page shows them sorted by ``order``, see :func:`page_sections`).
REPORT_SECTIONS: Registry[ReportSection] = Registry(
    "report section", ("gazealign.report.sections",)
)


def report_section(
    name: str,
    *,
    title: str,
    order: float,
    description: str = "",
    extra: str | None = None,
) -> Callable[[F], F]:
    """Register the decorated ``render(ctx) -> str`` as report section ``name``.

    Parameters
    ----------
    name
        The section's id on the page (``<section id="name">``, the table of contents' anchor).
    title
        Its heading.
    order
        Where it goes: sections are shown by increasing ``order`` (the built-ins use 10, 20,
        ... 100), ties by ``name``.
    description
        One line for listings (default: the first line of the function's docstring, else
        ``title``).
    extra
        The gazealign extra the section needs, ``None`` for the core.

    Returns
    -------
    Callable
        A decorator that registers the function and returns it unchanged.
    """

    def decorate(fn: F) -> F:
        doc = (fn.__doc__ or "").strip().splitlines()
        line = description or (doc[0].rstrip(".") if doc else title)
        REPORT_SECTIONS.add(ReportSection(name, title, order, fn, line, extra))
        return fn

    return decorate


def page_sections() -> list[ReportSection]:
    """Every registered section (the built-in modules imported first), in page order.

    Returns
    -------
    list of ReportSection
        Sorted by ``(order, name)``.
    """
    return sorted(REPORT_SECTIONS.entries(), key=lambda s: (s.order, s.name))
