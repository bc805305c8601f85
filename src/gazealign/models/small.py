"""Small VGG-style networks for CPU: VGG16's layout with fewer channels and small inputs.

Same layer names as VGG-Face (``conv1_1`` ... ``conv5_3``, ``fc6``, ``fc7``, ``fc8``), so every
tool (explainers, Grad-CAM at ``conv5_3``, weight inspection) works on both. Channels are VGG16's
times a width multiplier; fc6/fc7 units are the head's times the same multiplier.

For scale: at width 0.25 and 64 px input a forward pass costs about 80 M multiply-adds, against
15.5 G for VGG16 at 224 px (channels scale the cost quadratically, pixels linearly).
"""

from __future__ import annotations

from gazealign.models.vggface import HEADS, VGG, VGG16_BLOCKS


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
) -> VGG:
    """A VGG16-layout network with channels and head units scaled by ``width``.

    ``width=1.0`` with ``head="original"`` is VGG16 itself. Inputs of at least 32 px work
    (five 2x2 pools); ``fc6``'s input is ``conv5 channels x (input_size_px // 32)**2``.
    """
    if width <= 0:
        raise ValueError(f"width must be > 0, got {width}")
    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}; presets: {sorted(HEADS)}")
    blocks = tuple((scaled(c, width, 4), n) for c, n in VGG16_BLOCKS)
    return VGG(
        num_classes,
        input_size_px=input_size_px,
        blocks=blocks,
        hidden=scaled(HEADS[head], width, 8),
        dropout=dropout,
    )
