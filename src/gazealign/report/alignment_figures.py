"""The alignment sweep's trade-off figure: alignment with people against test accuracy.

One point per lambda (as in Harmonization's figure, Fel et al. 2022): the x axis is the
network's map agreement with the human maps on held-out identities (mean Spearman divided by
the human split-half ceiling), the y axis the test accuracy with its identity-clustered
interval. Built on :class:`~matplotlib.figure.Figure` directly, as the report's figures are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

SYNTHETIC_NOTE = "Built-in data (synthetic faces, simulated observers): demonstrates the method."


def tradeoff_figure(sweep: pd.DataFrame, *, synthetic: bool) -> Figure:
    """``sweep``: the sweep table (columns ``weight``, ``spearman_of_ceiling``,
    ``test_accuracy``, ``test_accuracy_ci_low``, ``test_accuracy_ci_high``)."""
    fig = Figure(figsize=(5.2, 4.0))
    ax = fig.add_subplot()
    x = sweep["spearman_of_ceiling"].to_numpy(np.float64)
    y = sweep["test_accuracy"].to_numpy(np.float64)
    low = y - sweep["test_accuracy_ci_low"].to_numpy(np.float64)
    high = sweep["test_accuracy_ci_high"].to_numpy(np.float64) - y
    ax.errorbar(x, y, yerr=np.vstack([low, high]), fmt="o-", color="#1f5fa8", capsize=3)
    for i, (xi, yi, w) in enumerate(zip(x, y, sweep["weight"], strict=True)):
        # alternate above / below, so neighbouring lambdas' labels do not overprint
        offset = (5, 5) if i % 2 == 0 else (5, -12)
        ax.annotate(f"λ={w:g}", (xi, yi), textcoords="offset points", xytext=offset, fontsize=8)
    ax.set_xlabel("alignment: Spearman(network map, human map) / human ceiling")
    ax.set_ylabel("test accuracy (held-out identities, 95% CI)")
    objective = str(sweep["objective"].iloc[0]) if "objective" in sweep and len(sweep) else ""
    ax.set_title(f"Alignment vs accuracy per lambda ({objective})", fontsize=10)
    if synthetic:
        fig.text(0.01, 0.01, SYNTHETIC_NOTE, fontsize=6.5, color="#555555")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig
