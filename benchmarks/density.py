"""Fixation density speed: exact separable Gaussian vs scipy.stats.gaussian_kde.

Both compute the same map: an isotropic Gaussian of sigma (1 degree of visual angle in stimulus
px) around each fixation, evaluated at every pixel centre of a 562 x 762 (cols x rows, KDEF)
image and normalised to sum 1. ``gaussian_kde`` derives its kernel covariance from the data;
here it is fixed to sigma^2 I through its cached covariance attributes (private, benchmark
only) so that the two maps are comparable value for value.

Run: ``python benchmarks/density.py [--fixations 500] [--repeat 5]``. Prints timings; no
assertions (timings on a shared machine are noisy: compare the ratio within one run).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import gaussian_kde

from gazealign.coords import ScreenGeometry
from gazealign.heatmaps.density import density_values, sigma_stimulus_px

ROWS, COLS = 762, 562


def kde_map(x: np.ndarray, y: np.ndarray, sigma_px: float) -> np.ndarray:
    kde = gaussian_kde(np.vstack([x, y]))
    # fix the kernel covariance to sigma^2 I (gaussian_kde caches the data covariance and its
    # Cholesky factor, then scales them by the bandwidth factor)
    kde._data_covariance = np.eye(2) * sigma_px**2
    kde._data_cho_cov = np.eye(2) * sigma_px
    kde.set_bandwidth(bw_method=1.0)
    cc, rr = np.meshgrid(np.arange(COLS) + 0.5, np.arange(ROWS) + 0.5)
    values = kde.evaluate(np.vstack([cc.ravel(), rr.ravel()])).reshape(ROWS, COLS)
    return values / values.sum()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixations", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    screen = ScreenGeometry(1920, 1080, 53.0, 30.0, 65.0)
    sigma = sigma_stimulus_px(1.0, screen, 1.0)
    rng = np.random.default_rng(0)
    x = rng.normal(COLS / 2, 80, args.fixations)
    y = rng.normal(ROWS / 2.2, 120, args.fixations)

    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        ours = density_values(x, y, (ROWS, COLS), sigma_px=sigma)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    ref = kde_map(x, y, sigma)
    t_kde = time.perf_counter() - t0
    best = min(times)
    print(f"image {COLS}x{ROWS} px, {args.fixations} fixations, sigma {sigma:.2f} px (1 deg)")
    print(f"separable exact : {best * 1e3:8.1f} ms (best of {args.repeat})")
    print(f"gaussian_kde    : {t_kde * 1e3:8.1f} ms")
    print(f"speed-up        : {t_kde / best:8.0f}x")
    print(f"max |difference|: {np.abs(ours - ref).max():.2e} (map max {ours.max():.2e})")


if __name__ == "__main__":
    main()
