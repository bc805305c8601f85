"""Small VGG-style networks for CPU: VGG16's layout with fewer channels and small inputs.

Same layer names as VGG-Face (``conv1_1`` ... ``conv5_3``, ``fc6``, ``fc7``, ``fc8``), so every
tool (explainers, Grad-CAM at ``conv5_3``, weight inspection) works on both. Channels are VGG16's
times a width multiplier; fc6/fc7 units are the head's times the same multiplier.

For scale: at width 0.25 and 64 px input a forward pass costs about 80 M multiply-adds, against
15.5 G for VGG16 at 224 px (channels scale the cost quadratically, pixels linearly).
"""

from __future__ import annotations

from gazealign.models.vggface import DEPTHS, HEADS, VGG


def scaled(value: int, width: float, minimum: int) -> int:
    """``round(value * width)``, at least ``minimum``."""
    return max(minimum, round(value * width))


def small_vgg(
    num_classes: int,
    *,
    width: float = 0.25,
    input_size_px: int = 64,
    head: str = "thesis",
    dropout: float = 0.5,
    depth: int = 16,
    batchnorm: bool = False,
) -> VGG:
    """A VGG-layout network with channels and head units scaled by ``width``.

    ``depth`` 16 is VGG16's layout (conv1_1 ... conv5_3); 11 is VGG11's (conv1_1, conv2_1,
    conv3_1, conv3_2, ..., conv5_2: last conv ``conv5_2``), which trains faster from scratch.
    ``batchnorm`` adds ``bn<b>_<i>`` after each conv for training; fold them into the convs
    (:meth:`VGG.fold_batchnorm`) before explaining: the train stage saves folded networks.

    ``width=1.0`` with ``head="original"`` is VGG16 itself. Inputs of at least 32 px work
    (five 2x2 pools); ``fc6``'s input is ``conv5 channels x (input_size_px // 32)**2``.
    """
    if width <= 0:
        raise ValueError(f"width must be > 0, got {width}")
    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}; presets: {sorted(HEADS)}")
    if depth not in DEPTHS:
        raise ValueError(f"depth must be one of {sorted(DEPTHS)}, got {depth}")
    blocks = tuple((scaled(c, width, 4), n) for c, n in DEPTHS[depth])
    return VGG(
        num_classes,
        input_size_px=input_size_px,
        blocks=blocks,
        hidden=scaled(HEADS[head], width, 8),
        dropout=dropout,
        batchnorm=batchnorm,
    )
