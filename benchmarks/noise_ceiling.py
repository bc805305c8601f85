"""Does the leave-one-observer-out ceiling reach the score of the density that made the data?

Simulated observers (not data about people) fixate images whose fixation density is known: a
mixture of Gaussian blobs (two eyes and a mouth at random positions and weights). For every
image and every observer held out, the scorer of the study
(:func:`gazealign.compare.scoring.score_map`) scores, against that observer's fixations and
density map:

- the generating density itself (the best any model can do),
- the gold standard: the density of the other N - 1 observers, built by the human-map code
  (:func:`gazealign.heatmaps.density.density_values`), and the same for random subsets of k
  observers (the ceiling-vs-observers curve),
- the centre-bias and uniform maps (chance).

It prints, per metric (CC, NSS, AUC-Judd, IG over the centre bias), the generating density's
score, the gold standard at k = 1, 2, 4, ..., N - 1, its extrapolation to infinitely many
observers (Spearman-Brown for CC; linear in 1/k for the others), the split-half ceiling of
the old code, and how far each falls from the generating density. Run::

    .venv/bin/python benchmarks/noise_ceiling.py [images] [observers] [fixations_per_observer]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import numpy.typing as npt
import pandas as pd

from gazealign.compare.ceiling import (
    GOLD,
    extrapolate_ceiling,
    leave_one_out_ceiling,
    split_half_ceiling,
)
from gazealign.heatmaps.baselines import centre_bias_map, uniform_map
from gazealign.heatmaps.density import density_values

FloatArray = npt.NDArray[np.float64]
SHAPE = (96, 80)  # rows, cols of the stimulus frame
SIGMA_PX = 4.0  # human-map kernel
METRICS = ("cc", "nss", "auc_judd", "information_gain")


def generating_density(rng: np.random.Generator) -> tuple[FloatArray, FloatArray, FloatArray]:
    """A face-like mixture: blob centres (3, 2) as (x, y), sigmas (3,), weights (3,)."""
    rows, cols = SHAPE
    eye_y = rows * rng.uniform(0.33, 0.42)
    centres = np.array(
        [
            [cols * rng.uniform(0.28, 0.38), eye_y],
            [cols * rng.uniform(0.62, 0.72), eye_y + rng.normal(0, 1.5)],
            [cols * rng.uniform(0.42, 0.58), rows * rng.uniform(0.68, 0.78)],
        ]
    )
    sigmas = rng.uniform(5.0, 9.0, size=3)
    weights = rng.dirichlet([4.0, 4.0, 3.0])
    return centres, sigmas, weights


def density_on_grid(centres: FloatArray, sigmas: FloatArray, weights: FloatArray) -> FloatArray:
    rows, cols = SHAPE
    yy, xx = np.mgrid[0:rows, 0:cols] + 0.5
    out = np.zeros(SHAPE)
    for (cx, cy), s, w in zip(centres, sigmas, weights, strict=True):
        out += w * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * s**2)) / (2 * np.pi * s**2)
    return out / out.sum()


def observe(
    rng: np.random.Generator,
    centres: FloatArray,
    sigmas: FloatArray,
    weights: FloatArray,
    observers: int,
    per_observer: int,
) -> pd.DataFrame:
    rows, cols = SHAPE
    n = observers * per_observer
    blob = rng.choice(3, size=n, p=weights)
    xy = centres[blob] + rng.normal(size=(n, 2)) * sigmas[blob, None]
    keep = (xy[:, 0] >= 0) & (xy[:, 0] < cols) & (xy[:, 1] >= 0) & (xy[:, 1] < rows)
    return pd.DataFrame(
        {
            "subject": np.repeat([f"s{k:02d}" for k in range(observers)], per_observer)[keep],
            "x_px": xy[keep, 0],
            "y_px": xy[keep, 1],
            "duration_ms": 250.0,
        }
    )


def density(x: FloatArray, y: FloatArray, duration_ms: FloatArray) -> FloatArray:
    return density_values(x, y, SHAPE, sigma_px=SIGMA_PX)


def main() -> None:
    images = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    observers = int(sys.argv[2]) if len(sys.argv) > 2 else 28
    per_observer = int(sys.argv[3]) if len(sys.argv) > 3 else 12
    ks = sorted({k for k in (1, 2, 4, 8, 16) if k < observers - 1})
    start = time.perf_counter()
    frames, halves = [], []
    centre = centre_bias_map(SHAPE)
    for i in range(images):
        rng = np.random.default_rng(100 + i)
        params = generating_density(rng)
        truth = density_on_grid(*params)
        fix = observe(rng, *params, observers, per_observer)
        maps = {
            "generating density": truth,
            "generating density, kernel-blurred": _blur(truth),
            "centre bias": centre,
            "uniform": uniform_map(SHAPE),
        }
        table = leave_one_out_ceiling(
            fix,
            SHAPE,
            density,
            baseline_map=centre,
            maps=maps,
            metrics=METRICS,
            observer_counts=ks,
            curve_draws=2,
            seed=i,
        )
        frames.append(table.assign(image=i))
        sh = split_half_ceiling(
            fix, SHAPE, density, baseline_map=centre, n_splits=5, metrics=METRICS, seed=i
        )
        halves.append(sh.assign(image=i))
    loo = pd.concat(frames, ignore_index=True)
    split = pd.concat(halves, ignore_index=True).groupby("metric")["value"].mean()
    gold = loo[loo["map"] == GOLD]
    curve = gold.groupby(["metric", "n_observers"])["value"].mean().unstack("n_observers")
    extrapolated = extrapolate_ceiling(gold).set_index("metric")
    others = loo[loo["map"] != GOLD].groupby(["metric", "map"])["value"].mean().unstack("map")
    elapsed = time.perf_counter() - start
    print(
        f"Simulated observers (not data about people): {images} images x {observers} observers x "
        f"{per_observer} fixations, kernel sigma {SIGMA_PX} px on {SHAPE[0]}x{SHAPE[1]} px; every "
        "score against the held-out observer (mean over observers and images)"
    )
    print(f"gold standard vs number of predicting observers k ({elapsed:.0f} s):")
    print(curve.map(lambda v: f"{v:.3f}").to_string())
    print()
    rows = []
    for metric in METRICS:
        truth_score = others.loc[metric, "generating density"]
        ext = extrapolated.loc[metric]
        rows.append(
            {
                "metric": metric,
                "generating": truth_score,
                "gen. blurred": others.loc[metric, "generating density, kernel-blurred"],
                f"LOO k={observers - 1}": ext["at_max_observers"],
                "LOO k=inf": ext["extrapolated"],
                "extrapolation": ext["method"],
                "split-half": split[metric],
                "centre bias": others.loc[metric, "centre bias"],
                "uniform": others.loc[metric, "uniform"],
                "LOO k=inf / gen. - 1": f"{100 * (ext['extrapolated'] / truth_score - 1):+.1f} %",
                f"LOO k={observers - 1} / gen. - 1": (
                    f"{100 * (ext['at_max_observers'] / truth_score - 1):+.1f} %"
                ),
            }
        )
    out = pd.DataFrame(rows).set_index("metric")
    print(out.to_string(float_format=lambda v: f"{v:.3f}"))
    print(
        "split-half: one half's density scored against the other half (the old ceiling; not on "
        "the held-out footing). IG in bits per fixation over the centre bias."
    )


def _blur(truth: FloatArray) -> FloatArray:
    """The generating density smoothed by the human-map kernel: what a KDE of infinitely
    many fixations converges to (the gold standard's own limit)."""
    from scipy.ndimage import gaussian_filter

    out = gaussian_filter(truth, SIGMA_PX, mode="constant")
    return np.asarray(out / out.sum())


if __name__ == "__main__":
    main()
