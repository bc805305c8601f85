"""VGG-Face (a VGG16) with the original layer names, built from modules only.

Layout (Parkhi, Vedaldi & Zisserman 2015; Simonyan & Zisserman 2015, configuration D)::

    conv1_1 conv1_2 pool1 | conv2_1 conv2_2 pool2 | conv3_1..conv3_3 pool3 |
    conv4_1..conv4_3 pool4 | conv5_1..conv5_3 pool5 | flatten fc6 fc7 fc8

Every conv is 3x3, stride 1, padding 1, followed by its own ReLU module (``relu1_1`` ...); every
pool is a 2x2 max-pool with stride 2. ``flatten`` flattens in PyTorch's (C, H, W) order. ``fc6``
and ``fc7`` are followed by ReLU (``relu6``, ``relu7``) and dropout (``drop6``, ``drop7``).

The network is a flat set of named submodules run in :attr:`VGG.layer_names` order, so

* state-dict keys are exactly ``conv1_1.weight`` ... ``fc8.bias`` (the ``vgg_face_dag.pth`` names);
* every operation is a module (no functional ReLU or flatten) and no module is used twice, which
  LRP (zennit composites, Captum LRP) and forward hooks need; ReLUs are not in-place;
* Grad-CAM's layer is ``model.conv5_3`` (:attr:`VGG.last_conv` gives the name).

Heads (:data:`HEADS`): ``original`` is fc6 4096 -> fc7 4096 -> fc8 classes; ``thesis`` is the
seed study's fc6 512 -> fc7 512 -> fc8 classes. The classifier's input size follows from
``input_size_px`` (five 2x2 pools with floor: 224 -> 7, 96 -> 3, 64 -> 2).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

#: Output channels of each conv block of VGG16 (configuration D) and its number of convs.
VGG16_BLOCKS: tuple[tuple[int, int], ...] = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
#: VGG11 (configuration A): same channels, one conv in blocks 1-2 and two in blocks 3-5.
VGG11_BLOCKS: tuple[tuple[int, int], ...] = ((64, 1), (128, 1), (256, 2), (512, 2), (512, 2))
#: Block layouts by depth (number of weight layers, convs + 3 fc).
DEPTHS: dict[int, tuple[tuple[int, int], ...]] = {16: VGG16_BLOCKS, 11: VGG11_BLOCKS}

#: Hidden units of fc6 and fc7 per head preset.
HEADS: dict[str, int] = {"original": 4096, "thesis": 512}

#: Identities VGG-Face was trained on (the size of the released fc8).
VGGFACE_IDENTITIES = 2622


def conv_names(blocks: Sequence[tuple[int, int]] = VGG16_BLOCKS) -> list[str]:
    """``conv1_1`` ... in forward order for a block layout."""
    return [f"conv{b}_{i}" for b, (_, n) in enumerate(blocks, start=1) for i in range(1, n + 1)]


def pooled_size_px(input_size_px: int, n_pools: int = 5) -> int:
    """Side of the feature map after ``n_pools`` 2x2/stride-2 max-pools (floor, as PyTorch)."""
    side = input_size_px
    for _ in range(n_pools):
        side //= 2
    return side


class VGG(nn.Module):
    """A VGG-style network: named conv blocks, max-pools, flatten, fc6-fc8 head.

    Parameters
    ----------
    num_classes
        Outputs of ``fc8``.
    input_size_px
        Side of the square input; fixes the size of ``fc6``'s input.
    blocks
        (channels, convs) per block; :data:`VGG16_BLOCKS` for VGG-Face.
    hidden
        Units of ``fc6`` and ``fc7``.
    dropout
        Dropout probability after ``fc6`` and ``fc7`` (0.5 in VGG16).

    Input (N, 3, S, S) float, output (N, num_classes) logits (no softmax: LRP and Grad-CAM
    explain the logit).
    """

    def __init__(
        self,
        num_classes: int,
        *,
        input_size_px: int = 224,
        blocks: Sequence[tuple[int, int]] = VGG16_BLOCKS,
        hidden: int = HEADS["original"],
        dropout: float = 0.5,
        batchnorm: bool = False,
    ) -> None:
        super().__init__()
        side = pooled_size_px(input_size_px, len(blocks))
        if side < 1:
            raise ValueError(
                f"input of {input_size_px} px is too small for {len(blocks)} 2x2 pools"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.blocks = tuple((int(c), int(n)) for c, n in blocks)
        self.input_size_px = input_size_px
        self.num_classes = num_classes
        self.hidden = hidden
        names: list[str] = []
        in_ch = 3
        for b, (channels, n_convs) in enumerate(self.blocks, start=1):
            for i in range(1, n_convs + 1):
                self.add_module(f"conv{b}_{i}", nn.Conv2d(in_ch, channels, 3, padding=1))
                names.append(f"conv{b}_{i}")
                if batchnorm:
                    self.add_module(f"bn{b}_{i}", nn.BatchNorm2d(channels))
                    names.append(f"bn{b}_{i}")
                self.add_module(f"relu{b}_{i}", nn.ReLU(inplace=False))
                names.append(f"relu{b}_{i}")
                in_ch = channels
            self.add_module(f"pool{b}", nn.MaxPool2d(2, 2))
            names.append(f"pool{b}")
        self.flatten = nn.Flatten(1)
        self.fc6 = nn.Linear(in_ch * side * side, hidden)
        self.relu6 = nn.ReLU(inplace=False)
        self.drop6 = nn.Dropout(dropout)
        self.fc7 = nn.Linear(hidden, hidden)
        self.relu7 = nn.ReLU(inplace=False)
        self.drop7 = nn.Dropout(dropout)
        self.fc8 = nn.Linear(hidden, num_classes)
        names += ["flatten", "fc6", "relu6", "drop6", "fc7", "relu7", "drop7", "fc8"]
        self.layer_names: tuple[str, ...] = tuple(names)
        self.feature_shape: tuple[int, int, int] = (in_ch, side, side)
        self.reset_parameters()

    @property
    def last_conv(self) -> str:
        """Name of the last conv layer (Grad-CAM's target layer), e.g. ``conv5_3``."""
        return conv_names(self.blocks)[-1]

    @property
    def conv_layers(self) -> list[str]:
        return conv_names(self.blocks)

    def reset_parameters(self) -> None:
        """He (Kaiming) normal init for convs and fc layers, zero biases.

        Without batch norm a deep VGG trained from scratch needs ReLU-aware init to train at all
        (He et al. 2015); PyTorch's default uniform init stalls the 13-conv stack.
        """
        for module in self.modules():
            if isinstance(module, nn.Conv2d | nn.Linear):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)  # type: ignore[arg-type]
        self._init_classifier()

    def _init_classifier(self) -> None:
        # Small logits at the start (VGG's original N(0, 0.01)): a He-scaled fc8 starts with
        # confident random predictions, and the first Adam steps then silence whole ReLU layers.
        nn.init.normal_(self.fc8.weight, std=0.01)
        nn.init.zeros_(self.fc8.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for name in self.layer_names:
            x = getattr(self, name)(x)
        return x

    @property
    def has_batchnorm(self) -> bool:
        return any(n.startswith("bn") for n in self.layer_names)

    def fold_batchnorm(self) -> None:
        """Merge every ``bn*`` into the conv before it and remove it (exact in eval mode).

        Batch norm makes a small VGG train from scratch in a few epochs instead of stalling on a
        plateau; folding it afterwards leaves a plain conv/ReLU/pool network, which LRP rules
        handle without a canonizer. conv(x) -> gamma * (conv(x) - mean) / sqrt(var + eps) + beta
        equals a conv with weight w * s and bias (b - mean) * s + beta, s = gamma / sqrt(var + eps).
        """
        names = list(self.layer_names)
        for name in [n for n in names if n.startswith("bn")]:
            bn = getattr(self, name)
            conv = getattr(self, "conv" + name[2:])
            with torch.no_grad():
                scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                conv.weight.mul_(scale.view(-1, 1, 1, 1))
                conv.bias.copy_((conv.bias - bn.running_mean) * scale + bn.bias)
            delattr(self, name)
            names.remove(name)
        self.layer_names = tuple(names)

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """Output of the last pool (N, C, S, S): the conv stack alone (a Keras ``notop`` model)."""
        for name in self.layer_names[: self.layer_names.index("flatten")]:
            x = getattr(self, name)(x)
        return x

    def replace_head(self, num_classes: int, *, hidden: int | None = None) -> None:
        """New fc8 with ``num_classes`` outputs (and new fc6/fc7 when ``hidden`` changes)."""
        if hidden is not None and hidden != self.hidden:
            self.fc6 = nn.Linear(self.fc6.in_features, hidden)
            self.fc7 = nn.Linear(hidden, hidden)
            self.hidden = hidden
            for layer in (self.fc6, self.fc7):
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                nn.init.zeros_(layer.bias)
        self.fc8 = nn.Linear(self.hidden, num_classes)
        self._init_classifier()
        self.num_classes = num_classes


def vggface(
    num_classes: int = VGGFACE_IDENTITIES,
    *,
    head: str = "original",
    input_size_px: int = 224,
    dropout: float = 0.5,
) -> VGG:
    """VGG-Face / VGG16 with the ``original`` (4096-4096) or ``thesis`` (512-512) head.

    With ``num_classes=2622``, ``head="original"`` and 224 px this is exactly the released
    VGG-Face (its state dict has the shapes of ``vgg_face_dag.pth``).
    """
    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}; presets: {sorted(HEADS)}")
    return VGG(
        num_classes,
        input_size_px=input_size_px,
        blocks=VGG16_BLOCKS,
        hidden=HEADS[head],
        dropout=dropout,
    )
