"""The explainer interface: methods registered by name, run batched on a :class:`ModelBundle`.

A method turns a batch of model inputs and target classes into per-channel relevance. The
driver :func:`explain` does everything around it the same way for every method: preprocessing,
choosing the target, batching, the conservation check, channel reduction and sign policy as
recorded steps, and putting the model back as it was (evaluation mode only inside a ``with``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from gazealign.config.base import section_default
from gazealign.config.explain import ExplainSection
from gazealign.errors import DataError, GazeAlignError
from gazealign.explain.reduce import SignPolicy, apply_sign, sum_channels
from gazealign.explain.targets import TARGET_OUTPUTS, TargetOutput, output_seed
from gazealign.models.bundle import ModelBundle
from gazealign.registry import Registry
from gazealign.types import SaliencyMap, Step

#: What the relevance of a method should add up to. ``logit``: the output relevance it starts
#: from, i.e. the target logit for target output ``logit`` (LRP with epsilon-type rules);
#: ``logit_minus_baseline``: f(x) - f(baseline) for the explained function f of the logits
#: (Integrated Gradients' completeness); ``none``: no such property (Grad-CAM, Occlusion,
#: Gradient x Input).
Conservation = Literal["logit", "logit_minus_baseline", "none"]

#: Default relative tolerance of the conservation check: a map is flagged when
#: |relevance sum - reference| > tolerance * |reference|. LRP loses relevance to the biases and
#: the epsilon stabiliser; 0.1 separates that from a broken rule assignment (see docs/explain.md).
CONSERVATION_TOLERANCE: float = section_default(ExplainSection, "conservation_tolerance")


@dataclass(frozen=True)
class ExplainOptions:
    """Parameters of the methods; each method records the ones it used.

    ``ig_baseline`` and ``occlusion_baseline`` name an image in the uint8 stimulus space:
    ``black`` (all 0), ``grey`` (all 128) or ``zero`` (model input 0, i.e. the preprocessing
    offset, the dataset mean for ``vggface``).
    """

    epsilon: float = section_default(ExplainSection, "epsilon")
    gamma: float = section_default(ExplainSection, "gamma")
    ig_steps: int = section_default(ExplainSection, "ig_steps")
    ig_baseline: Literal["black", "grey", "zero"] = section_default(ExplainSection, "ig_baseline")
    internal_batch_size: int = section_default(ExplainSection, "internal_batch_size")
    occlusion_window_px: int = section_default(ExplainSection, "occlusion_window_px")
    occlusion_stride_px: int = section_default(ExplainSection, "occlusion_stride_px")
    occlusion_baseline: Literal["black", "grey", "zero"] = section_default(
        ExplainSection, "occlusion_baseline"
    )
    gradcam_layer: str | None = section_default(ExplainSection, "gradcam_layer")
    conservation_tolerance: float = CONSERVATION_TOLERANCE

    @classmethod
    def from_section(cls, section: ExplainSection) -> ExplainOptions:
        """The options an ``[explain]`` table sets (every field of this class is a key there)."""
        return cls(**{f.name: getattr(section, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class Attribution:
    """What a method returns for a batch.

    ``relevance``: (N, C, H, W) in the model-input frame (C = 1 for methods without per-channel
    values). ``reference``: (N,) value the relevance should sum to, or None (see
    :data:`Conservation`). ``params``: every parameter that shaped the result (recorded).
    ``steps``: steps the method took beyond the explanation itself (e.g. upsampling).
    ``reference_scale``: (N,) what the conservation tolerance is relative to; None means
    ``|reference|``. Seeds that sum to 0 (contrastive, SGLRP) give the sum of the seed's
    magnitudes here, since their reference is about 0.
    """

    relevance: torch.Tensor
    reference: torch.Tensor | None
    params: Mapping[str, Any]
    steps: tuple[Step, ...] = ()
    reference_scale: torch.Tensor | None = None


#: A method: (bundle, inputs (N, C, H, W) float, targets (N,) int64, options) -> Attribution.
#: A method with ``seeded=True`` is also given ``seed=`` (an :class:`OutputSeed`): the output
#: relevance or gradient to start from (see :mod:`gazealign.explain.targets`).
MethodFn = Callable[..., Attribution]


@dataclass(frozen=True)
class Method:
    name: str
    description: str
    compute: MethodFn
    conservation: Conservation
    extra: str | None = None  # the pip extra that provides it, if any
    #: Whether ``compute`` takes ``seed=``; methods without it explain the target logit only.
    seeded: bool = False


#: Every explanation method. Built-ins register in the modules of ``gazealign/explain/``
#: (Captum's only when the ``captum`` extra is installed); plug-ins register the same way.
EXPLAINERS: Registry[Method] = Registry("explanation method", ("gazealign.explain",))


def register(method: Method) -> Method:
    """Add ``method`` to the registry (names are unique)."""
    return EXPLAINERS.add(method)


def explainer(
    name: str,
    *,
    description: str,
    conservation: Conservation,
    extra: str | None = None,
    seeded: bool = False,
) -> Callable[[MethodFn], MethodFn]:
    """Register the decorated function as explanation method ``name``.

    Named in ``explain.methods``; returns the function unchanged.

    Parameters
    ----------
    conservation
        What the relevance should add up to (:data:`Conservation`).
    seeded
        Whether the function takes ``seed=`` (an output seed other than the target logit).
    """

    def decorate(fn: MethodFn) -> MethodFn:
        register(Method(name, description, fn, conservation, extra, seeded))
        return fn

    return decorate


def available_methods() -> list[str]:
    """Names of every registered explanation method, sorted."""
    return sorted(EXPLAINERS.names())


def get_method(name: str) -> Method:
    """The method called ``name``; an error listing the available names otherwise."""
    return EXPLAINERS.get(name)


@dataclass(frozen=True)
class MapRecord:
    """What made one map, and the conservation check on it."""

    stimulus_id: str
    method: str
    params: Mapping[str, Any]
    target: int
    target_label: str
    target_output: str
    predicted: int
    logit: float
    relevance_sum: float
    conservation: Conservation
    conservation_reference: float
    conservation_ratio: float
    conservation_tolerance: float
    conservation_violated: bool

    def as_row(self, steps: Sequence[Step] = ()) -> dict[str, Any]:
        """A flat row for ``maps.parquet`` (params and steps as JSON text)."""
        row = asdict(self)
        row["params"] = json.dumps(dict(self.params), sort_keys=True, default=str)
        row["steps"] = json.dumps([s.as_dict() for s in steps], sort_keys=True, default=str)
        return row


@dataclass(frozen=True)
class Explanation:
    """One map in the model-input frame (after channel sum and sign policy) and its record.

    ``channels`` keeps the raw per-channel relevance (C, H, W) for callers that want another
    reduction.
    """

    map: SaliencyMap
    record: MapRecord
    channels: npt.NDArray[np.float64] = field(repr=False)


def model_device_dtype(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    """Where the model's parameters live and their dtype (float32 for a parameter-free model)."""
    for p in model.parameters():
        return p.device, p.dtype
    return torch.device("cpu"), torch.float32


@contextmanager
def evaluation_mode(model: nn.Module) -> Iterator[nn.Module]:
    """The model in eval mode inside the block; each module's training flag restored after."""
    flags = {name: m.training for name, m in model.named_modules()}
    model.eval()
    try:
        yield model
    finally:
        for name, m in model.named_modules():
            if name in flags:
                m.training = flags[name]


def baseline_images(bundle: ModelBundle, kind: str, shape: Sequence[int]) -> torch.Tensor:
    """A baseline model input (N, C, H, W) for ``kind`` in {black, grey, zero}."""
    n, _, h, w = shape
    if kind == "zero":
        return torch.zeros(tuple(shape))
    value = {"black": 0, "grey": 128}.get(kind)
    if value is None:
        raise GazeAlignError(f"unknown baseline {kind!r}; expected black, grey or zero")
    return bundle.preprocess(np.full((n, h, w, 3), value, dtype=np.uint8))


def resolve_targets(
    target: str | Sequence[int] | npt.NDArray[np.integer], n_images: int, n_classes: int
) -> npt.NDArray[np.int64] | None:
    """Class indices per image, or None for 'predicted' (resolved per batch)."""
    if isinstance(target, str):
        if target != "predicted":
            raise GazeAlignError(
                f"target must be 'predicted' or an array of class indices, got {target!r}"
            )
        return None
    idx = np.asarray(target, dtype=np.int64).reshape(-1)
    if idx.shape[0] != n_images:
        raise GazeAlignError(f"{idx.shape[0]} targets for {n_images} images")
    bad = idx[(idx < 0) | (idx >= n_classes)]
    if bad.size:
        raise GazeAlignError(f"target class {int(bad[0])} outside 0..{n_classes - 1}")
    return idx


def explain(
    bundle: ModelBundle,
    images: npt.NDArray[np.uint8],
    *,
    method: str,
    target: str | Sequence[int] | npt.NDArray[np.integer] = "predicted",
    batch_size: int = 16,
    sign: SignPolicy = "positive",
    options: ExplainOptions | None = None,
    stimulus_ids: Sequence[str] | None = None,
    target_output: TargetOutput = "logit",
) -> list[Explanation]:
    """Explain ``images`` with ``method``, ``batch_size`` images at a time.

    ``images``: (N, H, W, 3) uint8 RGB in the model-input frame (already cropped and resized to
    ``bundle.input_size_px``). ``target``: ``"predicted"`` or N class indices into
    ``bundle.labels``. ``target_output``: what of the target class is explained, the logit (never
    softmax), the contrastive dual or the softmax gradient (:mod:`gazealign.explain.targets`);
    recorded with every map. Returns one
    :class:`Explanation` per image: map in the model-input frame with steps
    ``explain`` -> ``sum_channels`` -> ``sign``, and its :class:`MapRecord`.
    """
    spec = get_method(method)
    options = options or ExplainOptions()
    if target_output not in TARGET_OUTPUTS:
        raise GazeAlignError(
            f"unknown target output {target_output!r}; expected one of {TARGET_OUTPUTS}"
        )
    if target_output != "logit" and not spec.seeded:
        raise GazeAlignError(
            f"explanation method {method!r} explains the target logit only; "
            f"target output {target_output!r} needs a method that takes an output seed"
        )
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise GazeAlignError(
            f"images must be (N, H, W, 3) uint8 RGB, got shape {images.shape} dtype {images.dtype}"
        )
    size = bundle.input_size_px
    if images.shape[1:3] != (size, size):
        raise GazeAlignError(
            f"images are {images.shape[1]}x{images.shape[2]} px; the model takes {size}x{size}"
        )
    if batch_size < 1:
        raise GazeAlignError(f"batch_size must be >= 1, got {batch_size}")
    n = images.shape[0]
    ids = list(stimulus_ids) if stimulus_ids is not None else [f"image_{i}" for i in range(n)]
    if len(ids) != n:
        raise GazeAlignError(f"{len(ids)} stimulus ids for {n} images")
    targets_all = resolve_targets(target, n, len(bundle.labels))
    device, dtype = model_device_dtype(bundle.model)

    out: list[Explanation] = []
    with evaluation_mode(bundle.model):
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            x = bundle.preprocess(images[start:stop]).to(device=device, dtype=dtype)
            with torch.no_grad():
                logits = bundle.model(x)
            if logits.ndim != 2 or logits.shape[1] != len(bundle.labels):
                raise GazeAlignError(
                    f"the model returns shape {tuple(logits.shape)}; expected (N, "
                    f"{len(bundle.labels)}) logits, one per label"
                )
            predicted = logits.argmax(dim=1)
            targets = (
                predicted
                if targets_all is None
                else torch.as_tensor(targets_all[start:stop], device=device)
            )
            if spec.seeded:
                seed = output_seed(logits, targets, target_output)
                result = spec.compute(bundle, x, targets, options, seed=seed)
            else:
                result = spec.compute(bundle, x, targets, options)
            out.extend(
                _finish(
                    spec,
                    result,
                    logits,
                    predicted,
                    targets,
                    ids[start:stop],
                    bundle.labels,
                    sign,
                    options,
                    target_output,
                )
            )
    return out


def _finish(
    spec: Method,
    result: Attribution,
    logits: torch.Tensor,
    predicted: torch.Tensor,
    targets: torch.Tensor,
    ids: Sequence[str],
    labels: Sequence[str],
    sign: SignPolicy,
    options: ExplainOptions,
    target_output: str,
) -> list[Explanation]:
    rel = result.relevance.detach().to("cpu", torch.float64).numpy()
    target_logits = logits.gather(1, targets.view(-1, 1)).view(-1).detach().cpu().double()
    ref = None if result.reference is None else result.reference.detach().cpu().double()
    scale = ref.abs() if ref is not None else None
    if result.reference_scale is not None:
        scale = result.reference_scale.detach().cpu().double()
    out = []
    for i, stimulus_id in enumerate(ids):
        channels = rel[i]
        bad = int((~np.isfinite(channels)).sum())
        if bad or not math.isfinite(float(target_logits[i])):
            raise DataError(
                f"{stimulus_id}: the {spec.name} map has {bad} non-finite values (NaN or inf) "
                f"of {channels.size} and the target logit is {float(target_logits[i]):g}; the "
                "model's weights or its output are not finite, so no map is written"
            )
        total = float(channels.sum())
        if spec.conservation == "none" or ref is None:
            reference, ratio, violated = math.nan, math.nan, False
        else:
            reference = float(ref[i])
            ratio = total / reference if reference != 0 else math.nan
            assert scale is not None
            violated = abs(total - reference) > options.conservation_tolerance * float(scale[i])
        t = int(targets[i])
        record = MapRecord(
            stimulus_id=stimulus_id,
            method=spec.name,
            params=dict(result.params),
            target=t,
            target_label=labels[t],
            target_output=target_output,
            predicted=int(predicted[i]),
            logit=float(target_logits[i]),
            relevance_sum=total,
            conservation=spec.conservation,
            conservation_reference=reference,
            conservation_ratio=ratio,
            conservation_tolerance=options.conservation_tolerance,
            conservation_violated=violated,
        )
        base = SaliencyMap(
            np.zeros(channels.shape[1:]),
            "model_input",
            stimulus_id,
            steps=(
                Step(
                    "explain",
                    {
                        "method": spec.name,
                        "target": t,
                        "target_output": target_output,
                        **result.params,
                    },
                ),
                *result.steps,
            ),
        )
        reduced = apply_sign(sum_channels(channels, stimulus_id=stimulus_id, base=base), sign)
        out.append(Explanation(map=reduced, record=record, channels=channels))
    return out
