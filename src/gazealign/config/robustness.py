"""The ``[comparison.robustness]`` table: the headline contrast over tile sizes and fills."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import Field, PositiveInt

from gazealign.config.base import Section
from gazealign.config.checks import Problem, check, unknown_name

if TYPE_CHECKING:
    from gazealign.config.loader import StudyConfig


class RobustnessSection(Section):
    tile_px: list[PositiveInt] = Field(
        [],
        description=(
            "Tile sides (model-input px) of the robustness sweep. The sweep runs every "
            "(tile_px, fill) pair; an empty list means the study's `perturbation.tile_px`. "
            "Off (the stage records that) when both lists are empty."
        ),
    )
    fills: list[str] = Field(
        [],
        description=(
            "Registered fills of the robustness sweep (see `gazealign list fills`); empty: the "
            "study's `perturbation.fill`."
        ),
    )

    @property
    def enabled(self) -> bool:
        """Whether the sweep runs (either list is set)."""
        return bool(self.tile_px or self.fills)


def sweep_combinations(config: StudyConfig) -> list[tuple[int, str]]:
    """The (tile_px, fill) pairs of the sweep, tile sizes outer, in the study's order; empty
    when the sweep is off."""
    r = config.comparison.robustness
    if not r.enabled:
        return []
    p = config.comparison.perturbation
    tiles = list(dict.fromkeys(r.tile_px or [p.tile_px]))
    fills = list(dict.fromkeys(r.fills or [p.fill]))
    return [(t, f) for t in tiles for f in fills]


@check("comparison.robustness")
def _robustness(config: StudyConfig) -> Iterator[Problem]:
    from gazealign.compare.fills import FILLS

    r = config.comparison.robustness
    side = config.stimuli.input_size_px
    for tile in r.tile_px:
        if tile > side:
            yield Problem(
                ("comparison.robustness.tile_px", "stimuli.input_size_px"),
                f"a tile of {tile} px is larger than the {side} px model input (at most {side})",
            )
    for fill in r.fills:
        yield from unknown_name("comparison.robustness.fills", FILLS, fill)
    for key, values in (("tile_px", [str(t) for t in r.tile_px]), ("fills", r.fills)):
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            yield Problem(
                (f"comparison.robustness.{key}",), f"listed more than once: {', '.join(twice)}"
            )
    if r.enabled and "morf" not in config.comparison.perturbation.orders:
        yield Problem(
            ("comparison.robustness", "comparison.perturbation.orders"),
            "the sweep compares MoRF areas with the perturbation stage's headline, which runs "
            f"only {config.comparison.perturbation.orders}: add 'morf' to the orders",
        )
