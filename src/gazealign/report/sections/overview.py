"""The report's ``overview`` section: per expression a face, the human density and the network map."""

from __future__ import annotations

from gazealign.report import figures
from gazealign.report.html import SectionContext, perturbation_settings
from gazealign.report.sections import report_section


@report_section(
    "overview", title="Overview: where people look and where the network finds evidence", order=20
)
def overview_section(ctx: SectionContext) -> str:
    """One face per expression with the human density, the network map and its curves."""
    inputs = ctx.inputs
    examples = ctx.need("overview", "no example maps")
    ids = ", ".join(f"{e.label}: {e.stimulus_id}" for e in examples)
    curves_note = (
        " Bottom row: that expression's perturbation curves (accuracy as tiles are removed in the "
        "human, network and random order; band: spread of the random orders)."
        + perturbation_settings(inputs.curves)
        if inputs.curves is not None
        else ""
    )
    caption = (
        "Per expression, one test face (top), the human fixation density over it (middle) and "
        f"the network's {inputs.overview_method} map (below). "
        + figures.colour_scale_rule(ctx.options.percentile)
        + curves_note
        + f" Faces shown: {ids}."
    )
    figure = ctx.figure(
        "overview",
        lambda: figures.overview_figure(
            examples,
            method=inputs.overview_method,
            curves=inputs.curves,
            percentile=ctx.options.percentile,
        ),
        caption,
    )
    return figure
