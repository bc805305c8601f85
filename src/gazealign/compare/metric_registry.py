"""The metric registry: each saliency metric with its direction, its inputs and its sign needs.

A metric registers itself with :func:`metric` where it is defined (built-ins in
:mod:`gazealign.compare.metrics`; a new module in ``gazealign/compare/`` or a plug-in module
registers the same way). :func:`gazealign.compare.scoring.score_map` calls every entry the same
way from what it declares:

* ``inputs``: the human data the metric reads after the map, in order: ``fixations`` (fixation
  counts per pixel), ``density`` (the human density map), ``baseline`` (a baseline map, e.g.
  centre bias, for information gain), ``other_fixations`` (fixation counts on other images,
  shuffled AUC; the score is NaN when there are none);
* ``options``: keyword options it takes from the scoring call: ``n_splits``, ``seed``,
  ``max_side_px``;
* ``positive_part``: the metric compares distributions, so a signed map enters as max(map, 0),
  and a map without a positive part scores NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from gazealign.registry import Registry

MetricInput = Literal["fixations", "density", "baseline", "other_fixations"]
MetricOption = Literal["n_splits", "seed", "max_side_px"]

F = TypeVar("F", bound=Callable[..., float])


@dataclass(frozen=True)
class Metric:
    """One saliency metric: ``fn(map, *inputs, **options) -> float``."""

    name: str
    description: str
    fn: Callable[..., float]
    higher_is_better: bool
    inputs: tuple[MetricInput, ...]
    options: tuple[MetricOption, ...] = ()
    positive_part: bool = False
    extra: str | None = None

    @property
    def kind(self) -> str:
        """``location`` (scored at fixated pixels) or ``distribution`` (map against map)."""
        return "location" if {"fixations", "other_fixations"} & set(self.inputs) else "distribution"


#: Every saliency metric, in registration (= report) order.
METRICS: Registry[Metric] = Registry("metric", ("gazealign.compare",))


def metric(
    name: str,
    *,
    description: str,
    higher_is_better: bool,
    inputs: tuple[MetricInput, ...],
    options: tuple[MetricOption, ...] = (),
    positive_part: bool = False,
    extra: str | None = None,
) -> Callable[[F], F]:
    """Register the decorated function as metric ``name`` (see the module docstring).

    Named in ``comparison.metrics.names``; returns the function unchanged.

    Parameters
    ----------
    higher_is_better
        The score's direction.
    inputs, options, positive_part
        How :func:`~gazealign.compare.scoring.score_map` calls it.
    """

    def decorate(fn: F) -> F:
        METRICS.add(
            Metric(name, description, fn, higher_is_better, inputs, options, positive_part, extra)
        )
        return fn

    return decorate


def higher_is_better(name: str) -> bool:
    """The direction of metric ``name`` (an error listing the metrics for an unknown name)."""
    return METRICS.get(name).higher_is_better


def describe(entry: Metric) -> dict[str, Any]:
    """A JSON-ready description of a metric (for listings)."""
    return {
        "name": entry.name,
        "description": entry.description,
        "higher_is_better": entry.higher_is_better,
        "kind": entry.kind,
        "inputs": list(entry.inputs),
        "positive_part": entry.positive_part,
        "extra": entry.extra,
    }
