"""The ``[report]`` table: figures and HTML report."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gazealign.config.base import Section


class ReportSection(Section):
    title: str = Field("gazealign report", description="Report title.")
    figure_formats: list[Literal["png", "pdf"]] = Field(
        ["png", "pdf"], description="Formats figures are written in."
    )
