"""Sanity checks of saliency methods (Adebayo et al. 2018, NeurIPS, "Sanity checks for saliency maps").

Two checks, as plain functions over a :class:`~gazealign.models.bundle.ModelBundle` and images:

* **Cascading parameter randomisation**: the parameters of the network's layers are re-drawn
  from their initialisation distribution one layer at a time, from the output layer down, and
  after each layer the map of the (partly) random network is compared with the trained network's
  map: Spearman rank correlation of ``|map|`` and SSIM of ``|map|`` scaled to [0, 1] by its
  maximum. A method whose maps stay similar once the top layers are random does not explain
  what the network learned. Layers are the modules with their own parameters that compute
  (convolutions and dense layers, :func:`randomisable_layers`); BatchNorm statistics are kept.
* **Class sensitivity** (the failure of modified-backprop rules described by Sixt, Granz &
  Landgraf 2020, ICML, "When explanations lie"): the map for the true class against the map for
  the runner-up class (the highest other logit) and for a random other class, by Pearson
  correlation over pixels. The verdict reads the maps the study compares, i.e. after its sign
  policy: with ``positive`` (or ``absolute``) maps, ``r`` near +1 means both classes' evidence
  sits in the same places (fail), while a negative ``r`` means it sits in different places;
  with ``signed`` maps ``r`` near -1 is as bad as near +1 (the same pattern, scaled by the sign
  of the logit), so ``|r|`` decides. The signed maps' ``r`` is always reported too. (A
  contrastive target gives sign-flipped maps for two classes that compete only with each other:
  their positive parts are disjoint, which is the class-discriminative answer.)

Verdicts compare a median over images with a threshold (the study's ``[sanity]`` table: 0.5 for
both by default, i.e. less than half the rank order or linear pattern shared). The thresholds are
conventions of this package, not values from the papers (Adebayo et al. show curves and give
none); they are stated in every verdict.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd
import torch
from scipy import stats
from skimage.metrics import structural_similarity
from torch import nn

from gazealign.errors import GazeAlignError
from gazealign.explain.base import ExplainOptions, explain
from gazealign.explain.reduce import SignPolicy
from gazealign.explain.targets import TargetOutput
from gazealign.models.bundle import ModelBundle

#: Name of the trained network's row in the randomisation curve.
TRAINED = "trained"

FloatArray = npt.NDArray[np.float64]


def spearman_abs(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Spearman rank correlation of ``|a|`` and ``|b|`` over pixels (NaN for a constant map)."""
    x = np.abs(np.asarray(a, dtype=np.float64)).ravel()
    y = np.abs(np.asarray(b, dtype=np.float64)).ravel()
    if x.shape != y.shape:
        raise ValueError(f"maps differ in size: {np.shape(a)} vs {np.shape(b)}")
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(stats.spearmanr(x, y).statistic)


def ssim_abs(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """SSIM (scikit-image, 7x7 window) of ``|a|`` and ``|b|``, each divided by its maximum.

    The scaling to [0, 1] is the one Adebayo et al. used (maps are compared by shape, not
    scale); NaN when a map is all zero.
    """
    x = np.abs(np.asarray(a, dtype=np.float64))
    y = np.abs(np.asarray(b, dtype=np.float64))
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f"maps must be 2-D and of one size: {x.shape} vs {y.shape}")
    if x.max() == 0 or y.max() == 0:
        return float("nan")
    return float(structural_similarity(x / x.max(), y / y.max(), data_range=1.0))


def pearson(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Pearson correlation of two signed maps over pixels (NaN for a constant map)."""
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def randomisable_layers(model: nn.Module) -> list[str]:
    """Names of the conv and dense layers, output layer first (the cascade's order)."""
    names = [
        name
        for name, m in model.named_modules()
        if isinstance(m, nn.Conv2d | nn.Linear) and any(True for _ in m.parameters(recurse=False))
    ]
    if not names:
        raise GazeAlignError("the network has no conv or dense layer to randomise")
    return names[::-1]


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    # reset_parameters() draws from torch's global generator: fork it so the caller's stream
    # is untouched and the draws depend on the seed only.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def cascade(bundle: ModelBundle, *, seed: int) -> Iterator[tuple[str, ModelBundle]]:
    """(layer name, bundle with that layer and every layer above it re-initialised).

    Works on a deep copy: the caller's network is never changed. Layer ``k`` (counted from the
    top) is re-drawn with its own ``reset_parameters`` under the seed ``seed + k``, so a layer's
    random weights do not depend on how far the cascade has gone.
    """
    model = copy.deepcopy(bundle.model)
    modules = dict(model.named_modules())
    for k, name in enumerate(randomisable_layers(model)):
        layer = modules[name]
        reset = getattr(layer, "reset_parameters", None)
        if reset is None:
            raise GazeAlignError(f"layer {name!r} has no reset_parameters to randomise it with")
        # drawn on the CPU, so the random weights are the same whichever device the network is on
        device = next(layer.parameters()).device
        layer.to("cpu")
        with _seeded(seed + k), torch.no_grad():
            reset()
        layer.to(device)
        yield name, replace(bundle, model=model)


@dataclass(frozen=True)
class SanityInputs:
    """What both checks explain: model-input images (N, S, S, 3) uint8 and true classes (N,)."""

    images: npt.NDArray[np.uint8]
    targets: npt.NDArray[np.int64]
    stimulus_ids: Sequence[str]


def _maps(
    bundle: ModelBundle,
    inputs: SanityInputs,
    targets: npt.NDArray[np.int64],
    method: str,
    options: ExplainOptions,
    target_output: TargetOutput,
    batch_size: int,
) -> list[FloatArray]:
    results = explain(
        bundle,
        inputs.images,
        method=method,
        target=targets,
        batch_size=batch_size,
        sign="signed",
        options=options,
        stimulus_ids=inputs.stimulus_ids,
        target_output=target_output,
    )
    return [r.map.values for r in results]


def randomisation_curve(
    bundle: ModelBundle,
    inputs: SanityInputs,
    *,
    method: str,
    seed: int,
    options: ExplainOptions | None = None,
    target_output: TargetOutput = "logit",
    batch_size: int = 16,
) -> pd.DataFrame:
    """Per (layer, image): similarity of the cascade's maps to the trained network's.

    Columns: ``method, step, layer, layer_kind (conv | dense), stimulus_id, spearman_abs,
    ssim_abs``; ``step`` 0 is the trained network compared with itself (1, 1), step ``k`` has
    the top ``k`` layers random.
    """
    options = options or ExplainOptions()
    trained = _maps(bundle, inputs, inputs.targets, method, options, target_output, batch_size)
    rows = [
        {
            "step": 0,
            "layer": TRAINED,
            "layer_kind": "",
            "stimulus_id": s,
            "spearman_abs": 1.0,
            "ssim_abs": 1.0,
        }
        for s in inputs.stimulus_ids
    ]
    modules = dict(bundle.model.named_modules())
    for step, (layer, randomised) in enumerate(cascade(bundle, seed=seed), start=1):
        kind = "dense" if isinstance(modules[layer], nn.Linear) else "conv"
        maps = _maps(randomised, inputs, inputs.targets, method, options, target_output, batch_size)
        for sid, a, b in zip(inputs.stimulus_ids, trained, maps, strict=True):
            rows.append(
                {
                    "step": step,
                    "layer": layer,
                    "layer_kind": kind,
                    "stimulus_id": sid,
                    "spearman_abs": spearman_abs(a, b),
                    "ssim_abs": ssim_abs(a, b),
                }
            )
    return pd.DataFrame(rows).assign(method=method)[
        ["method", "step", "layer", "layer_kind", "stimulus_id", "spearman_abs", "ssim_abs"]
    ]


def comparison_classes(
    logits: npt.ArrayLike, targets: npt.ArrayLike, *, seed: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(runner-up, random other) class per image.

    Runner-up: the highest logit other than the target. Random other: uniform over the classes
    that are neither (``np.random.default_rng(seed)``); with 2 classes it is the runner-up.
    """
    z = np.asarray(logits, dtype=np.float64)
    t = np.asarray(targets, dtype=np.int64)
    n, k = z.shape
    if k < 2:
        raise GazeAlignError("class sensitivity needs a network with at least 2 classes")
    masked = z.copy()
    masked[np.arange(n), t] = -np.inf
    runner_up = masked.argmax(axis=1).astype(np.int64)
    rng = np.random.default_rng(seed)
    other = runner_up.copy()
    for i in range(n):
        pool = [c for c in range(k) if c not in (t[i], runner_up[i])]
        if pool:
            other[i] = pool[int(rng.integers(len(pool)))]
    return runner_up, other


def _signed(values: FloatArray, sign: SignPolicy) -> FloatArray:
    if sign == "positive":
        return np.maximum(values, 0.0)
    if sign == "absolute":
        return np.abs(values)
    return values


def class_sensitivity(
    bundle: ModelBundle,
    inputs: SanityInputs,
    *,
    method: str,
    seed: int,
    options: ExplainOptions | None = None,
    target_output: TargetOutput = "logit",
    sign: SignPolicy = "positive",
    batch_size: int = 16,
) -> pd.DataFrame:
    """Per image: Pearson r of the true class's map with the runner-up's and a random one's.

    Columns: ``method, stimulus_id, target, runner_up, other, sign, r_runner_up, r_other``
    (maps after ``sign``), ``r_signed_runner_up, r_signed_other`` (signed maps) and
    ``spearman_abs_runner_up``.
    """
    options = options or ExplainOptions()
    with torch.no_grad():
        was = bundle.model.training
        bundle.model.eval()
        try:
            x = bundle.preprocess(inputs.images)
            p = next(bundle.model.parameters(), None)
            if p is not None:
                x = x.to(device=p.device, dtype=p.dtype)
            logits = bundle.model(x).cpu().numpy()
        finally:
            bundle.model.train(was)
    runner_up, other = comparison_classes(logits, inputs.targets, seed=seed)
    own = _maps(bundle, inputs, inputs.targets, method, options, target_output, batch_size)
    second = _maps(bundle, inputs, runner_up, method, options, target_output, batch_size)
    third = _maps(bundle, inputs, other, method, options, target_output, batch_size)
    rows = [
        {
            "method": method,
            "stimulus_id": sid,
            "target": int(t),
            "runner_up": int(ru),
            "other": int(o),
            "sign": sign,
            "r_runner_up": pearson(_signed(a, sign), _signed(b, sign)),
            "r_other": pearson(_signed(a, sign), _signed(c, sign)),
            "r_signed_runner_up": pearson(a, b),
            "r_signed_other": pearson(a, c),
            "spearman_abs_runner_up": spearman_abs(a, b),
        }
        for sid, t, ru, o, a, b, c in zip(
            inputs.stimulus_ids, inputs.targets, runner_up, other, own, second, third, strict=True
        )
    ]
    return pd.DataFrame(rows)


def _head_randomised(curve: pd.DataFrame) -> float:
    """Median Spearman once every dense layer (and nothing below) is random; NaN if unknown."""
    if "layer_kind" not in curve or not len(curve):
        return float("nan")
    dense_steps = curve.loc[curve["layer_kind"] == "dense", "step"]
    if dense_steps.empty:
        return float("nan")
    at = curve[curve["step"] == dense_steps.max()]
    return float(at["spearman_abs"].median())


def verdicts(
    curves: pd.DataFrame,
    classes: pd.DataFrame,
    *,
    randomisation_max_spearman: float,
    class_max_r: float,
) -> pd.DataFrame:
    """One row per method: medians, pass/fail of each check, and a plain sentence.

    A method passes randomisation when the median Spearman of |map| at the end of the cascade
    is below ``randomisation_max_spearman``; it fails class sensitivity when the median |r|
    with the runner-up's map is at or above ``class_max_r``.

    Columns: ``method, randomised_spearman, randomised_ssim, head_randomised_spearman,
    passes_randomisation, class_r, class_r_other, class_r_signed, passes_class_sensitivity,
    verdict``. ``randomised_*``: median over images at the last step of the cascade (every layer
    random); ``head_randomised_spearman``: after the dense layers only (the last step at which a
    dense layer was re-drawn; NaN without dense layers), reported, not judged. ``class_r``:
    median r with the runner-up after the sign policy (``r`` decides, or ``|r|`` for signed
    maps, see the module docstring).
    """
    rows = []
    for method in sorted(set(curves["method"]) | set(classes["method"])):
        c = curves[curves["method"] == method]
        last = c[c["step"] == c["step"].max()] if len(c) else c
        rho = float(last["spearman_abs"].median()) if len(last) else float("nan")
        ssim = float(last["ssim_abs"].median()) if len(last) else float("nan")
        head_rho = _head_randomised(c)
        k = classes[classes["method"] == method]
        r = float(k["r_runner_up"].median()) if len(k) else float("nan")
        r_other = float(k["r_other"].median()) if len(k) else float("nan")
        r_signed = float(k["r_signed_runner_up"].median()) if len(k) else float("nan")
        sign = str(k["sign"].iloc[0]) if len(k) and "sign" in k else "signed"
        decides = abs(r) if sign == "signed" else r
        passes_random = bool(rho < randomisation_max_spearman) if not np.isnan(rho) else False
        passes_class = bool(decides < class_max_r) if not np.isnan(r) else False
        bound = f"|r| < {class_max_r:g}" if sign == "signed" else f"r < {class_max_r:g}"
        parts = []
        head = (
            f"; with only the dense layers random they rank-correlate at rho = {head_rho:.2f}"
            if not np.isnan(head_rho)
            else ""
        )
        if np.isnan(rho):
            parts.append("randomisation not measured")
        elif passes_random:
            parts.append(
                f"passes randomisation: fully random network's maps rank-correlate at "
                f"rho = {rho:.2f} with the trained (< {randomisation_max_spearman:g}){head}"
            )
        else:
            parts.append(
                f"fails randomisation: maps of the fully random network still rank-correlate "
                f"at rho = {rho:.2f} with the trained (threshold {randomisation_max_spearman:g})"
                f"{head}"
            )
        if np.isnan(r):
            parts.append("class sensitivity not measured")
        elif passes_class:
            parts.append(
                f"passes class sensitivity: {sign} maps of the true class and the runner-up "
                f"correlate at r = {r:.2f} ({bound}; signed maps r = {r_signed:.2f})"
            )
        else:
            parts.append(
                f"fails class sensitivity: maps for different classes correlate at r = {r:.2f} "
                f"({sign} maps, runner-up class; random other class r = {r_other:.2f}; signed "
                f"maps r = {r_signed:.2f}; threshold {bound.replace('<', '>=')})"
            )
        rows.append(
            {
                "method": method,
                "randomised_spearman": rho,
                "randomised_ssim": ssim,
                "head_randomised_spearman": head_rho,
                "passes_randomisation": passes_random,
                "class_r": r,
                "class_r_other": r_other,
                "class_r_signed": r_signed,
                "passes_class_sensitivity": passes_class,
                "verdict": "; ".join(parts),
            }
        )
    return pd.DataFrame(rows)
