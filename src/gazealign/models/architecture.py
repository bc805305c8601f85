"""Architecture specs: what a checkpoint's JSON sidecar records to rebuild its network."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from torch import nn

from gazealign.errors import DataError
from gazealign.models.small import small_vgg
from gazealign.models.vggface import vggface

Architecture = Literal["vggface", "small_vgg"]
ARCHITECTURES: tuple[str, ...] = ("vggface", "small_vgg")


@dataclass(frozen=True)
class ArchitectureSpec:
    """Everything needed to rebuild a network (not its weights)."""

    architecture: str
    num_classes: int
    input_size_px: int
    head: str = "thesis"
    width: float = 1.0
    dropout: float = 0.5
    depth: int = 16
    batchnorm: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "architecture") -> ArchitectureSpec:
        try:
            return cls(**data)
        except TypeError as exc:
            raise DataError(f"{source}: bad architecture record {data!r} ({exc})") from None


def build_model(spec: ArchitectureSpec) -> nn.Module:
    """The network described by ``spec``, freshly initialised (a zoo network: its layers only)."""
    from gazealign.models import zoo  # the zoo imports the bundle module, not this one

    if spec.architecture in zoo.names():
        net = zoo.get(spec.architecture)
        if spec.input_size_px != net.input_size_px or spec.num_classes != len(net.original_labels):
            raise DataError(
                f"zoo network {net.name!r} takes {net.input_size_px} px and has "
                f"{len(net.original_labels)} classes (got {spec})"
            )
        return net.build()
    if spec.architecture == "vggface":
        if spec.depth != 16 or spec.batchnorm:
            raise DataError(f"vggface is a plain VGG16: depth 16, no batch norm (got {spec})")
        if spec.depth != 16:
            raise DataError(f"vggface is a VGG16: depth must be 16, got {spec.depth}")
        return vggface(
            spec.num_classes,
            head=spec.head,
            input_size_px=spec.input_size_px,
            dropout=spec.dropout,
        )
    if spec.architecture == "small_vgg":
        return small_vgg(
            spec.num_classes,
            width=spec.width,
            input_size_px=spec.input_size_px,
            head=spec.head,
            dropout=spec.dropout,
            depth=spec.depth,
            batchnorm=spec.batchnorm,
        )
    raise DataError(
        f"unknown architecture {spec.architecture!r}; known: {(*ARCHITECTURES, *zoo.names())}"
    )
