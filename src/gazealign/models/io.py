"""Weights in and out: VGG-Face releases, Keras HDF5 files, gazealign checkpoints.

Readers turn a file into tensors named and laid out as :class:`~gazealign.models.vggface.VGG`
expects (``conv1_1.weight`` as (out, in, 3, 3), ``fc6.weight`` as (out, in) with ``in`` in
PyTorch's (C, H, W) flatten order). :func:`assign_weights` then copies them into a model after
checking every name and shape; anything missing, unexpected or mis-shaped is a
:class:`~gazealign.errors.DataError` naming the file and the tensor. No reader unpickles: ``.pth``
files go through ``torch.load(weights_only=True)``, which refuses arbitrary objects.

Formats
-------
``vgg_face_dag.pth``
    PyTorch state dict of the MatConvNet release (Albanie's conversion): keys ``conv1_1.weight``
    ... ``fc8.bias``, fc6 (4096, 25088) in (C, H, W) order, input RGB 0-255 minus the VGG-Face mean.
Keras HDF5 (``rcmalli_vggface_tf_vgg16.h5``, ``rcmalli_vggface_tf_notop_vgg16.h5``)
    Keras 2 ``save_weights`` layout: root attribute ``layer_names``; a group per layer with
    attribute ``weight_names`` (``conv1_1/kernel:0``, ``conv1_1/bias:0``) and datasets at those
    paths. Conv kernels are (H, W, in, out) -> transposed to (out, in, H, W); dense kernels are
    (in, out) -> transposed; fc6's rows follow Keras' (H, W, C) flatten -> reordered to (C, H, W).
    The rcmalli models take BGR input: by default conv1_1's input channels are reversed so the
    loaded network takes RGB like every other gazealign model (``bgr_to_rgb=False`` keeps BGR).
    Full-model files (``model.save``) keep the same groups under ``model_weights``; both work.
gazealign checkpoint (:func:`save_bundle`, :func:`load_bundle`)
    ``<name>.safetensors`` (tensors) + ``<name>.json`` (architecture, labels, preprocessing,
    input size, training config, metrics).
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import h5py
import numpy as np
import numpy.typing as npt
import safetensors
import safetensors.torch
import torch
from torch import nn

from gazealign.errors import DataError
from gazealign.models.architecture import ArchitectureSpec, build_model
from gazealign.models.bundle import ModelBundle
from gazealign.models.vggface import VGG
from gazealign.pipeline.store import read_json, to_json_text, write_bytes, write_text

CHECKPOINT_FORMAT = "gazealign-model"
CHECKPOINT_VERSION = 1

#: ``all``: every tensor of the model comes from the file, shapes exact. ``backbone``: every conv
#: tensor comes from the file; fc6/fc7 too when the file has them with the model's shapes (the
#: ``original`` head); fc8 is left as initialised (a new classifier for fine-tuning).
Layers = Literal["all", "backbone"]


@dataclass(frozen=True)
class LoadReport:
    """What :func:`assign_weights` did: tensors copied, and file tensors left out with why."""

    source: str
    loaded: tuple[str, ...]
    skipped: dict[str, str] = field(default_factory=dict)


# --- readers ----------------------------------------------------------------------------------


def read_state_dict_pth(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a PyTorch ``.pth`` state dict, read without unpickling arbitrary objects."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such weight file")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise DataError(
            f"{path}: refused to load: the file holds objects other than tensors "
            f"(only plain state dicts are read; nothing in it was executed){_unpickler_reason(exc)}"
        ) from None
    except (RuntimeError, OSError, EOFError, ValueError) as exc:
        raise DataError(f"{path}: not a readable PyTorch weight file ({exc})") from None
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping):
        raise DataError(f"{path}: expected a state dict (name -> tensor), got {type(obj).__name__}")
    out: dict[str, torch.Tensor] = {}
    for name, value in obj.items():
        if not isinstance(value, torch.Tensor):
            raise DataError(f"{path}: entry {name!r} is a {type(value).__name__}, not a tensor")
        out[str(name)] = value.detach().to(torch.float32)
    return out


def _unpickler_reason(exc: Exception) -> str:
    """What torch's weights-only unpickler refused, without its advice to turn the check off.

    Torch suggests ``weights_only=False``, which would run code from the file: not advice to
    pass on about a file of unknown origin.
    """
    text = str(exc)
    marker = "WeightsUnpickler error:"
    if marker not in text:
        return ""
    reason = text.split(marker, 1)[1].strip().splitlines()[0]
    return f": {reason.split('. ')[0].rstrip('.')}"


def _decode(names: Any) -> list[str]:
    return [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in np.atleast_1d(names)]


def read_keras_h5_raw(path: Path) -> dict[str, list[npt.NDArray[np.float32]]]:
    """Keras 2 HDF5 weights as ``layer name -> [arrays in weight_names order]`` (file layout).

    The layer of a weight is taken from its weight name (``conv1_1/kernel:0`` -> ``conv1_1``), so
    weights of a nested model (a VGG-Face base saved as one layer of a bigger model) are found too.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such weight file")
    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"{path}: not a readable HDF5 file ({exc})") from None
    layers: dict[str, list[npt.NDArray[np.float32]]] = {}
    with fh:
        root = fh["model_weights"] if "model_weights" in fh else fh
        if "layer_names" not in root.attrs:
            raise DataError(
                f"{path}: no 'layer_names' attribute: not a Keras 2 HDF5 weight file "
                "(Keras 3 '.weights.h5' files are not supported; re-save with Keras 2 or as .pth)"
            )
        for group_name in _decode(root.attrs["layer_names"]):
            if group_name not in root:
                raise DataError(
                    f"{path}: 'layer_names' lists layer {group_name!r}, but the file has no "
                    "group of that name (a truncated or hand-edited weight file?)"
                )
            group = root[group_name]
            for weight_name in _decode(group.attrs.get("weight_names", [])):
                parts = weight_name.split("/")
                layer = parts[-2] if len(parts) >= 2 else group_name
                try:
                    data = np.asarray(group[weight_name], dtype=np.float32)
                except KeyError:
                    raise DataError(
                        f"{path}: layer {group_name!r} lists weight {weight_name!r} but has no such dataset"
                    ) from None
                layers.setdefault(layer, []).append(data)
    return layers


def read_keras_h5(path: Path, *, bgr_to_rgb: bool = True) -> dict[str, torch.Tensor]:
    """Tensors of a Keras 2 VGG-Face HDF5 file in gazealign's layout (see module docstring)."""
    raw = read_keras_h5_raw(path)
    out: dict[str, torch.Tensor] = {}
    conv_channels: int | None = None
    dense_seen = 0
    # Keras writes layers in model order; the first dense after the convs is the one whose input is
    # the flattened feature map, so it is the one whose rows need the HWC -> CHW reorder.
    for layer, arrays in raw.items():
        kernels = [a for a in arrays if a.ndim in (2, 4)]
        biases = [a for a in arrays if a.ndim == 1]
        if len(kernels) != 1 or len(biases) != 1 or len(arrays) != 2:
            raise DataError(
                f"{path}: layer {layer!r} has weights of shapes {[a.shape for a in arrays]}; "
                "expected one kernel and one bias"
            )
        kernel, bias = kernels[0], biases[0]
        if kernel.ndim == 4:
            if kernel.shape[0] != kernel.shape[1]:
                raise DataError(
                    f"{path}: conv kernel {layer!r} has shape {kernel.shape}; expected "
                    "(height, width, in, out) with a square window (channels_last Keras files)"
                )
            w = kernel.transpose(3, 2, 0, 1)  # HWIO -> OIHW
            if bgr_to_rgb and conv_channels is None:
                w = w[:, ::-1]  # first conv: input channels B,G,R -> R,G,B
            conv_channels = int(kernel.shape[3])
        else:
            w = kernel.T  # (in, out) -> (out, in)
            if dense_seen == 0 and conv_channels is not None:
                w = _hwc_rows_to_chw(w, conv_channels, path=path, layer=layer)
            dense_seen += 1
        out[f"{layer}.weight"] = torch.from_numpy(np.ascontiguousarray(w))
        out[f"{layer}.bias"] = torch.from_numpy(np.ascontiguousarray(bias))
    return out


def _hwc_rows_to_chw(
    weight: npt.NDArray[np.float32], channels: int, *, path: Path, layer: str
) -> npt.NDArray[np.float32]:
    """(out, H*W*C) in Keras' (H, W, C) flatten order -> (out, C*H*W) in PyTorch's order."""
    n_out, n_in = weight.shape
    side = round((n_in / channels) ** 0.5)
    if side * side * channels != n_in:
        raise DataError(
            f"{path}: dense layer {layer!r} has {n_in} inputs, not a square map of {channels} "
            "channels: cannot reorder its rows from (H, W, C) to (C, H, W)"
        )
    w = weight.reshape(n_out, side, side, channels).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(w.reshape(n_out, n_in))


def read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such weight file")
    try:
        return dict(safetensors.torch.load_file(str(path), device="cpu"))
    except (safetensors.SafetensorError, OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable safetensors file ({exc})") from None


def read_weights(path: Path, *, bgr_to_rgb: bool = True) -> dict[str, torch.Tensor]:
    """Tensors of any supported weight file, chosen by suffix (.pth/.pt, .h5/.hdf5, .safetensors)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".pth", ".pt"):
        return read_state_dict_pth(path)
    if suffix in (".h5", ".hdf5"):
        return read_keras_h5(path, bgr_to_rgb=bgr_to_rgb)
    if suffix == ".safetensors":
        return read_safetensors(path)
    raise DataError(
        f"{path}: unknown weight file type {suffix!r}; expected .pth, .h5 or .safetensors"
    )


# --- assigning --------------------------------------------------------------------------------


def assign_weights(
    model: VGG, tensors: Mapping[str, torch.Tensor], *, source: str, layers: Layers = "all"
) -> LoadReport:
    """Copy ``tensors`` into ``model`` after checking every name and shape.

    Raises :class:`DataError` naming ``source`` and the tensor for: a file tensor the model has
    no place for (unexpected), a model tensor the file lacks (missing; with ``layers="backbone"``
    only conv tensors are required), or a shape that differs (with ``backbone``, a head layer
    whose shape differs from the model's is skipped and reported instead: the model's head was
    replaced on purpose).
    """
    expected = {k: v.shape for k, v in model.state_dict().items()}
    unexpected = sorted(set(tensors) - set(expected))
    if unexpected:
        raise DataError(
            f"{source}: unexpected tensors {unexpected[:6]}{' ...' if len(unexpected) > 6 else ''}"
            f" (the network has {sorted(expected)[:3]} ...; is this a VGG16 / VGG-Face file?)"
        )
    conv = {f"{c}.{p}" for c in model.conv_layers for p in ("weight", "bias")}
    required = set(expected) if layers == "all" else conv
    missing = sorted(required - set(tensors))
    if missing:
        raise DataError(f"{source}: missing tensors {missing}")
    chosen: dict[str, torch.Tensor] = {}
    skipped: dict[str, str] = {}
    for name in sorted(tensors):
        have, want = tuple(tensors[name].shape), tuple(expected[name])
        if layers == "backbone" and name.startswith("fc8."):
            skipped[name] = "new classifier (fc8) for fine-tuning"
            continue
        if have != want:
            if layers == "backbone" and name not in conv:
                skipped[name] = f"head shape {have} differs from the model's {want}"
                continue
            raise DataError(
                f"{source}: tensor {name!r} has shape {have}, the network expects {want}"
            )
        chosen[name] = tensors[name]
    # fc6/fc7 go together: a half-loaded head would pair a pretrained layer with a random one.
    head_loaded = {n.split(".")[0] for n in chosen if n.startswith(("fc6.", "fc7."))}
    if layers == "backbone" and head_loaded and head_loaded != {"fc6", "fc7"}:
        for name in [n for n in chosen if n.startswith(("fc6.", "fc7."))]:
            skipped[name] = "fc6 and fc7 load only together"
            del chosen[name]
    with torch.no_grad():
        params = model.state_dict()
        for name, value in chosen.items():
            params[name].copy_(value.to(params[name].dtype))
    return LoadReport(source, tuple(sorted(chosen)), skipped)


def load_weights(
    model: VGG, path: Path, *, layers: Layers = "all", bgr_to_rgb: bool = True
) -> LoadReport:
    """Read ``path`` (any supported format) and copy its tensors into ``model`` (checked)."""
    tensors = read_weights(path, bgr_to_rgb=bgr_to_rgb)
    return assign_weights(model, tensors, source=str(path), layers=layers)


# --- gazealign checkpoints --------------------------------------------------------------------


def make_bundle(
    spec: ArchitectureSpec,
    *,
    preprocessing: str,
    labels: tuple[str, ...],
    metadata: Mapping[str, Any] | None = None,
    model: nn.Module | None = None,
) -> ModelBundle:
    """A bundle for ``spec`` (a fresh network unless ``model`` is given); records the spec."""
    if len(labels) != spec.num_classes:
        raise ValueError(f"{len(labels)} labels for a network with {spec.num_classes} outputs")
    net = model if model is not None else build_model(spec)
    meta = {**(metadata or {}), "architecture": spec.as_dict()}
    return ModelBundle(net, preprocessing, spec.input_size_px, tuple(labels), meta)


def bundle_spec(bundle: ModelBundle) -> ArchitectureSpec:
    record = bundle.metadata.get("architecture")
    if not isinstance(record, Mapping):
        raise ValueError("bundle metadata has no 'architecture' record (build it with make_bundle)")
    return ArchitectureSpec.from_dict(dict(record))


def sidecar_path(path: Path) -> Path:
    return Path(path).with_suffix(".json")


def save_bundle(bundle: ModelBundle, path: Path) -> None:
    """Write ``path`` (``.safetensors``) and its JSON sidecar (``.json`` beside it), atomically.

    The sidecar holds ``format``, ``version``, ``architecture``, ``labels``, ``preprocessing``,
    ``input_size_px`` and ``metadata`` (training config, metrics, ...). Bytes are deterministic.
    """
    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"checkpoint path must end in .safetensors, got {path}")
    spec = bundle_spec(bundle)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in bundle.model.state_dict().items()}
    write_bytes(path, safetensors.torch.save(tensors, metadata={"format": CHECKPOINT_FORMAT}))
    meta = {k: v for k, v in bundle.metadata.items() if k != "architecture"}
    sidecar = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "architecture": spec.as_dict(),
        "labels": list(bundle.labels),
        "preprocessing": bundle.preprocessing,
        "input_size_px": bundle.input_size_px,
        "metadata": meta,
    }
    write_text(sidecar_path(path), to_json_text(sidecar))


def load_bundle(path: Path) -> ModelBundle:
    """Read a checkpoint written by :func:`save_bundle` (``.safetensors`` or its ``.json``)."""
    path = Path(path).with_suffix(".safetensors")
    side = sidecar_path(path)
    if not side.is_file():
        raise DataError(f"{side}: checkpoint sidecar missing (written beside {path.name})")
    record = read_json(side)
    if not isinstance(record, dict) or record.get("format") != CHECKPOINT_FORMAT:
        raise DataError(f"{side}: not a gazealign checkpoint sidecar (format key)")
    for key in ("architecture", "labels", "preprocessing", "input_size_px"):
        if key not in record:
            raise DataError(f"{side}: key {key!r} missing")
    spec = ArchitectureSpec.from_dict(record["architecture"], source=str(side))
    if int(record["input_size_px"]) != spec.input_size_px:
        raise DataError(f"{side}: input_size_px disagrees with the architecture record")
    try:
        bundle = make_bundle(
            spec,
            preprocessing=str(record["preprocessing"]),
            labels=tuple(record["labels"]),
            metadata=record.get("metadata", {}),
        )
    except ValueError as exc:
        raise DataError(f"{side}: {exc}") from None
    if isinstance(bundle.model, VGG):
        assign_weights(bundle.model, read_safetensors(path), source=str(path), layers="all")
    else:  # a zoo network: every tensor by name, shapes exact
        from gazealign.models.zoo.registry import assign_exact

        assign_exact(bundle.model, read_safetensors(path), source=str(path))
    bundle.model.eval()
    return bundle
