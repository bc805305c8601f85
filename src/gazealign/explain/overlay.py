"""A saliency map drawn over its image, as PNG bytes (for looking at; the array is the result).

The colour scale is for display only: signed maps use a diverging map symmetric about 0, others
run from 0 to their maximum. The map itself is never changed.
"""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure


def overlay_png(
    image: npt.NDArray[np.uint8],
    values: npt.NDArray[np.float64],
    *,
    signed: bool,
    title: str = "",
    alpha: float = 0.6,
) -> bytes:
    """PNG of ``values`` (rows, cols) over ``image`` (rows, cols, 3) shown in grey."""
    if image.shape[:2] != values.shape:
        raise ValueError(f"image {image.shape[:2]} and map {values.shape} differ in size")
    rows, cols = values.shape
    grey = image.astype(np.float64).mean(axis=2)
    fig = Figure(figsize=(max(2.0, cols / 64), max(2.0, rows / 64) + (0.3 if title else 0.0)))
    ax = fig.add_axes((0.0, 0.0, 1.0, 0.92 if title else 1.0))
    ax.imshow(grey, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    peak = float(np.max(np.abs(values))) or 1.0
    if signed:
        ax.imshow(values, cmap="bwr", vmin=-peak, vmax=peak, alpha=alpha, interpolation="nearest")
    else:
        ax.imshow(values, cmap="inferno", vmin=0, vmax=peak, alpha=alpha, interpolation="nearest")
    ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()
