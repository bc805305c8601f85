"""Control orderings of the perturbation analysis: maps a human map must beat to mean anything.

A human fixation map that removes the network's evidence faster than random shows that people
looked where the network's evidence is. It does not yet show that people looked at *this*
image's evidence: a map of where people look at any face of that expression (or at any face, or
at the screen centre) might do as well. Likewise a human map that beats a network map may do so
only because it is smoother. The controls are the maps that answer these questions, each made
for one test image from the study's human maps, in the model-input frame of the human map:

* ``other_identity``: the human map of another identity showing the same expression
  (image-specific information beyond the expression's layout; cf. the shuffled-map baseline of
  Kummerer et al. 2015, PNAS 112(52));
* ``expression_mean``: the mean human map of the expression, the image itself left out;
* ``all_mean``: the mean human map of every image, the image itself left out (the face prior);
* ``centre_bias``: the study's centre-bias Gaussian (Tatler 2007, J Vis 7(14);
  :func:`gazealign.heatmaps.baselines.centre_bias_map`);
* ``<method>_blurred``: the network map of an explain method blurred with the human map's own
  Gaussian kernel, so that a human - network difference can be read at equal smoothness.

Each control registers with :func:`control` beside its definition and is a pure function of a
:class:`ControlInputs`. A study names them in ``comparison.perturbation.controls``; the
perturbation stage ranks their tiles as it ranks the human map's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from gazealign.errors import DataError
from gazealign.registry import Registry, UnknownNameError

FloatArray = npt.NDArray[np.float64]
F = TypeVar("F", bound=Callable[..., FloatArray])

#: The per-method control's name pattern (``<method>`` is an explain method of the study).
BLURRED_SUFFIX = "_blurred"
BLURRED = "<method>" + BLURRED_SUFFIX


@dataclass(frozen=True)
class ControlInputs:
    """What a control may read for one test image (every map in the model-input frame).

    Parameters
    ----------
    stimulus_id
        The test image.
    human
        The study's human maps by stimulus id (the compared images, the test image among them),
        each (rows, cols), non-negative.
    labels, identities, sessions
        Expression, identity shown and photo session of every stimulus id in ``human``.
    centre_bias
        The study's centre-bias map, (rows, cols), sums to 1.
    network
        The test image's network map per explain method, (rows, cols), after the tile sign
        policy (the map the method's own order is ranked from).
    sigma_model_px
        (rows, cols) sigma of the human map's Gaussian kernel in model-input px: the kernel
        ``sigma_px`` the human_maps stage stored, times the crop/resize scale of each axis.
    method
        The explain method of a ``<method>_blurred`` control, else ``None``.
    """

    stimulus_id: str
    human: Mapping[str, FloatArray]
    labels: Mapping[str, str]
    identities: Mapping[str, str]
    sessions: Mapping[str, str] = field(default_factory=dict)
    centre_bias: FloatArray | None = None
    network: Mapping[str, FloatArray] = field(default_factory=dict)
    sigma_model_px: tuple[float, float] | None = None
    method: str | None = None

    @property
    def label(self) -> str:
        return self.labels[self.stimulus_id]

    @property
    def identity(self) -> str:
        return self.identities[self.stimulus_id]


@dataclass(frozen=True)
class Control:
    """One control ordering: ``fn(inputs) -> (rows, cols) map`` and what it uses."""

    name: str
    description: str
    fn: Callable[[ControlInputs], FloatArray]
    #: ``<method>_blurred``: one control per explain method.
    per_method: bool = False
    #: It blurs with the human map's kernel (its sigma is recorded).
    uses_sigma: bool = False
    extra: str | None = None


#: Every control ordering.
CONTROLS: Registry[Control] = Registry("control ordering", ("gazealign.compare",))


def control(
    name: str, *, description: str, per_method: bool = False, uses_sigma: bool = False
) -> Callable[[F], F]:
    """Register the decorated ``fn(inputs: ControlInputs) -> map`` as control ``name``.

    Named in ``comparison.perturbation.controls``; returns the function unchanged.

    Parameters
    ----------
    name
        The control's name; a per-method control is named ``<method>_<suffix>`` and
        registered as ``"<method>_<suffix>"``.
    description
        One line for listings and the report.
    per_method
        One control per explain method (``inputs.method`` is set).
    uses_sigma
        The control reads ``inputs.sigma_model_px`` (recorded in ``controls.parquet``).
    """

    def decorate(fn: F) -> F:
        CONTROLS.add(Control(name, description, fn, per_method, uses_sigma))
        return fn

    return decorate


def resolve(name: str, methods: Sequence[str]) -> tuple[Control, str | None]:
    """The registered control behind a study's control name, and its method (per-method ones).

    Parameters
    ----------
    name
        ``other_identity``, ..., or ``<method>_blurred`` with ``<method>`` in ``methods``.
    methods
        The study's explain methods.

    Raises
    ------
    UnknownNameError
        No such control (the message lists the registered ones), or a per-method control of a
        method the study does not explain (the message lists the study's methods).
    """
    if name in CONTROLS:
        entry = CONTROLS.get(name)
        if not entry.per_method:
            return entry, None
    for entry in CONTROLS:
        if not entry.per_method:
            continue
        suffix = entry.name.removeprefix("<method>")
        if name.endswith(suffix) and len(name) > len(suffix):
            method = name[: -len(suffix)]
            if method not in methods:
                raise UnknownNameError(
                    f"control ordering {name!r}: {method!r} is not one of the study's explain "
                    f"methods ({', '.join(methods) or 'none'}); {entry.name} takes one of them"
                )
            return entry, method
    raise UnknownNameError(CONTROLS.unknown_message(name))


def control_map(name: str, inputs: ControlInputs, methods: Sequence[str]) -> FloatArray:
    """The map of control ``name`` for ``inputs.stimulus_id`` (shape checked, float64)."""
    entry, method = resolve(name, methods)
    if method is not None:
        inputs = ControlInputs(**{**inputs.__dict__, "method": method})
    own = np.asarray(inputs.human[inputs.stimulus_id])
    out = np.asarray(entry.fn(inputs), dtype=np.float64)
    if out.shape != own.shape:
        raise ValueError(f"control {name!r} made a {out.shape} map; the human map is {own.shape}")
    if not np.isfinite(out).all():
        raise DataError(f"control {name!r} of {inputs.stimulus_id}: the map is not finite")
    return out


# --- the controls -----------------------------------------------------------------------------


def _normalised(values: npt.ArrayLike) -> FloatArray:
    v = np.asarray(values, dtype=np.float64)
    total = v.sum()
    if not total > 0:
        raise DataError("a human map with no mass cannot enter a mean")
    return np.asarray(v / total, dtype=np.float64)


def _mean_of(inputs: ControlInputs, ids: Sequence[str], what: str) -> FloatArray:
    if not ids:
        raise DataError(
            f"control {what} of {inputs.stimulus_id}: no other image to average "
            "(the study compares too few images)"
        )
    return np.asarray(np.mean([_normalised(inputs.human[i]) for i in ids], axis=0))


@control(
    "other_identity",
    description="Human map of the next identity (sorted) showing the same expression",
)
def other_identity(inputs: ControlInputs) -> FloatArray:
    """The human map of another identity with the same expression.

    The identity is the next one after the image's own in sorted order (cyclic) among those
    with an image of this expression; of its images, the one of the same session if it has one,
    else its first by id. Deterministic: the pairing is a permutation of identities within
    each expression, so every map serves as the control of exactly one other image when each
    identity has one image per expression.
    """
    label, own = inputs.label, inputs.identity
    by_identity: dict[str, list[str]] = {}
    for sid in sorted(inputs.human):
        if inputs.labels[sid] == label and inputs.identities[sid] != own:
            by_identity.setdefault(inputs.identities[sid], []).append(sid)
    if not by_identity:
        raise DataError(
            f"control other_identity of {inputs.stimulus_id}: no other identity shows "
            f"{label!r} among the compared images"
        )
    names = sorted(by_identity)
    after = [n for n in names if n > own]
    chosen = by_identity[after[0] if after else names[0]]
    session = inputs.sessions.get(inputs.stimulus_id)
    same = [s for s in chosen if session is not None and inputs.sessions.get(s) == session]
    return _normalised(inputs.human[(same or chosen)[0]])


@control(
    "expression_mean",
    description="Mean human map of the image's expression, the image left out",
)
def expression_mean(inputs: ControlInputs) -> FloatArray:
    """Mean of the sum-normalised human maps of the other images of the same expression."""
    ids = [
        s
        for s in sorted(inputs.human)
        if s != inputs.stimulus_id and inputs.labels[s] == inputs.label
    ]
    return _mean_of(inputs, ids, "expression_mean")


@control("all_mean", description="Mean human map of every image, the image left out")
def all_mean(inputs: ControlInputs) -> FloatArray:
    """Mean of the sum-normalised human maps of every other image (the face prior)."""
    ids = [s for s in sorted(inputs.human) if s != inputs.stimulus_id]
    return _mean_of(inputs, ids, "all_mean")


@control(
    "centre_bias",
    description="The study's centre-bias Gaussian (comparison.metrics.centre_bias_sigma_fraction)",
)
def centre_bias(inputs: ControlInputs) -> FloatArray:
    """The study's centre-bias map (made once by the caller in the human map's frame)."""
    if inputs.centre_bias is None:
        raise ValueError("control centre_bias: the inputs carry no centre-bias map")
    return np.asarray(inputs.centre_bias, dtype=np.float64)


@control(
    BLURRED,
    description="Network map of <method> blurred with the human map's Gaussian kernel",
    per_method=True,
    uses_sigma=True,
)
def blurred(inputs: ControlInputs) -> FloatArray:
    """The method's network map convolved with the human map's kernel (:func:`gaussian_blur`)."""
    if inputs.method is None or inputs.method not in inputs.network:
        raise DataError(
            f"control {BLURRED} of {inputs.stimulus_id}: no network map of {inputs.method!r}"
        )
    if inputs.sigma_model_px is None:
        raise ValueError(f"control {BLURRED}: the inputs carry no kernel sigma")
    return gaussian_blur(inputs.network[inputs.method], inputs.sigma_model_px)


def gaussian_blur(values: npt.ArrayLike, sigma_px: tuple[float, float]) -> FloatArray:
    """Convolve a (rows, cols) map with a Gaussian of ``sigma_px`` = (rows, cols) sigmas.

    The same kernel as a fixation density (:mod:`gazealign.heatmaps.density`): pixel centres,
    no truncation, mass falling off the image dropped. ``B = Gy @ M @ Gx.T`` with
    ``G[i, j] = exp(-(i - j)^2 / (2 sigma^2)) / (sqrt(2 pi) sigma)``, so a delta far from the
    border keeps its mass (to the discretisation of the Gaussian). Linear: a signed map stays
    signed.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError(f"a map to blur must be 2-D, got shape {v.shape}")
    sy, sx = (float(s) for s in sigma_px)
    if not (sy > 0 and sx > 0):
        raise ValueError(f"blur sigmas must be > 0, got {sigma_px}")
    return np.asarray(_kernel(v.shape[0], sy) @ v @ _kernel(v.shape[1], sx).T, dtype=np.float64)


def _kernel(n: int, sigma: float) -> FloatArray:
    d = np.arange(n, dtype=np.float64)
    k = np.exp(-0.5 * ((d[:, None] - d[None, :]) / sigma) ** 2)
    return np.asarray(k / (np.sqrt(2 * np.pi) * sigma), dtype=np.float64)
