"""Calibration of gazealign's inference by simulation: false-positive rates, coverage, FWER.

Simulated studies shaped like the thesis' test set: 16 identities x 7 expressions, one paired
difference per image (e.g. human-order MoRF AUC - network-order MoRF AUC),

    d[i, e] = delta + class_effect[e] + sqrt(icc) * u[i] + sqrt(1 - icc) * eps[i, e],

u, eps independent with mean 0 and variance 1 (normal, or a standardised chi-square(3) for
skewed data), so ``icc`` is the within-identity correlation. For every setting (ICC 0, 0.3,
0.6; delta 0 and a planted 0.3; normal and skewed errors) it simulates ``studies`` studies and
reports, next to each other:

- the pooled (all images) sign-flip test: identity-clustered (gazealign's default) vs the
  image-level test, rejection rate at nominal 5 %;
- the pooled 95 % interval's coverage of delta: identity-clustered BCa (default) and percentile,
  and the image-level percentile bootstrap;
- per-class (16 images, one per identity) 95 % interval coverage: BCa vs percentile;
- the per-class family (7 sign-flip tests): family-wise error uncorrected, Holm and BH;
- the expression x ordering interaction test (identity-blocked permutation): rejection rate
  without a class effect (size) and with one planted class effect (power).

The studies of one setting share the bootstrap weights and permutation patterns (one draw of
the library's resampling, applied to all studies at once through the batched functions of
``gazealign.stats.resampling`` and ``gazealign.stats.interaction``); the studies themselves are
independent, so every rate is a mean of independent indicators (Monte Carlo SE printed).
Simulated data demonstrate the method, not a finding about people. Run::

    .venv/bin/python benchmarks/inference_calibration.py [studies] [resamples] [permutations]
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gazealign.stats import resampling as rs
from gazealign.stats.interaction import interaction_p
from gazealign.stats.multiplicity import adjust_p

FloatArray = npt.NDArray[np.float64]
N_IDS, N_CLASSES = 16, 7
ALPHA = 0.05
PLANTED = 0.3  # pooled difference, in units of the per-image SD
CLASS_EFFECT = 0.6  # interaction power: +0.6 on one expression, -0.6 on another


@dataclass(frozen=True)
class Setting:
    icc: float
    delta: float
    skewed: bool
    class_effect: float = 0.0

    @property
    def name(self) -> str:
        errors = "skewed" if self.skewed else "normal"
        extra = f", class effect {self.class_effect:+.1f}" if self.class_effect else ""
        return f"ICC {self.icc:.1f}, delta {self.delta:.1f}, {errors}{extra}"


def simulate(setting: Setting, studies: int, seed: int) -> FloatArray:
    """Differences (studies, identities, classes)."""
    rng = np.random.default_rng(seed)

    def noise(shape: tuple[int, ...]) -> FloatArray:
        if setting.skewed:
            return np.asarray((rng.chisquare(3, size=shape) - 3) / np.sqrt(6))
        return rng.standard_normal(shape)

    u = noise((studies, N_IDS, 1))
    eps = noise((studies, N_IDS, N_CLASSES))
    effect = np.zeros(N_CLASSES)
    effect[0], effect[1] = setting.class_effect, -setting.class_effect
    return np.asarray(
        setting.delta + effect + np.sqrt(setting.icc) * u + np.sqrt(1 - setting.icc) * eps
    )


def covered(
    clusters: rs.Clusters, truth: float, method: str, *, resamples: int, seed: int
) -> FloatArray:
    """Whether each study's 95 % interval covers ``truth``: (studies,) booleans as floats."""
    boot = rs.bootstrap_means(clusters, resamples, seed=seed)
    est = rs.cluster_mean(clusters)
    jack = rs.jackknife_means(clusters) if method == "bca" else None
    lo, hi = rs.interval_levels(boot, est, confidence=0.95, method=method, jackknife=jack)  # type: ignore[arg-type]
    low, high = rs.interval_from_levels(boot, lo, hi)
    return np.asarray((low <= truth) & (truth <= high), dtype=np.float64)


def sign_flip_reject(clusters: rs.Clusters, *, permutations: int, seed: int) -> FloatArray:
    patterns, exact = rs.sign_patterns(clusters.n_clusters, permutations, seed=seed)
    return np.asarray(rs.sign_flip_p(clusters, patterns, exact) < ALPHA, dtype=np.float64)


def run_setting(
    setting: Setting, studies: int, resamples: int, permutations: int, seed: int
) -> dict[str, float]:
    d = simulate(setting, studies, seed)
    flat = d.reshape(studies, N_IDS * N_CLASSES)
    ids = np.repeat(np.arange(N_IDS), N_CLASSES)
    classes = np.tile(np.arange(N_CLASSES), N_IDS)
    by_identity = rs.cluster_totals(flat, ids)
    by_image = rs.cluster_totals(flat)
    truth = setting.delta  # class effects sum to 0
    out = {
        "pooled_reject_identity": sign_flip_reject(
            by_identity, permutations=permutations, seed=seed + 1
        ).mean(),
        "pooled_reject_image": sign_flip_reject(
            by_image, permutations=permutations, seed=seed + 2
        ).mean(),
        "cover_identity_bca": covered(
            by_identity, truth, "bca", resamples=resamples, seed=seed + 3
        ).mean(),
        "cover_identity_pct": covered(
            by_identity, truth, "percentile", resamples=resamples, seed=seed + 3
        ).mean(),
        "cover_image_pct": covered(
            by_image, truth, "percentile", resamples=resamples, seed=seed + 4
        ).mean(),
    }
    # Per class: 16 images, one per identity (clusters = images).
    p_class = np.empty((studies, N_CLASSES))
    cover_bca, cover_pct = [], []
    for e in range(N_CLASSES):
        part = rs.cluster_totals(d[:, :, e])
        patterns, exact = rs.sign_patterns(N_IDS, permutations, seed=seed + 10 + e)
        p_class[:, e] = rs.sign_flip_p(part, patterns, exact)
        class_truth = truth + (
            setting.class_effect if e == 0 else -setting.class_effect if e == 1 else 0
        )
        cover_bca.append(covered(part, class_truth, "bca", resamples=resamples, seed=seed + 20 + e))
        cover_pct.append(
            covered(part, class_truth, "percentile", resamples=resamples, seed=seed + 20 + e)
        )
    out["class_cover_bca"] = float(np.mean(cover_bca))
    out["class_cover_pct"] = float(np.mean(cover_pct))
    if setting.delta == 0 and setting.class_effect == 0:
        holm = np.array([adjust_p(row, method="holm") for row in p_class])
        bh = np.array([adjust_p(row, method="fdr_bh") for row in p_class])
        out["fwer_raw"] = float((p_class < ALPHA).any(axis=1).mean())
        out["fwer_holm"] = float((holm < ALPHA).any(axis=1).mean())
        out["fwer_bh"] = float((bh < ALPHA).any(axis=1).mean())
    _, p_int = interaction_p(flat, ids, classes, permutations=permutations, seed=seed + 30)
    out["interaction_reject"] = float((p_int < ALPHA).mean())
    return out


def main() -> None:
    studies = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    resamples = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    permutations = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    settings = [
        Setting(icc, delta, skewed)
        for skewed in (False, True)
        for delta in (0.0, PLANTED)
        for icc in (0.0, 0.3, 0.6)
    ] + [Setting(icc, 0.0, False, CLASS_EFFECT) for icc in (0.0, 0.3, 0.6)]
    se = np.sqrt(ALPHA * (1 - ALPHA) / studies)
    print(
        f"Simulated studies (not data about people): {N_IDS} identities x {N_CLASSES} expressions, "
        f"{studies} studies per setting, {resamples} bootstrap resamples, {permutations} "
        f"permutations; nominal 5 % (Monte Carlo SE of a 5 % rate {100 * se:.2f} %), 95 % intervals"
    )
    header = (
        f"{'setting':<44} {'reject id':>9} {'reject img':>10} {'cover id BCa':>12} "
        f"{'cover id pct':>12} {'cover img pct':>13} {'class BCa':>9} {'class pct':>9} "
        f"{'FWER raw':>8} {'FWER Holm':>9} {'FWER BH':>7} {'interaction':>11} {'s':>5}"
    )
    print(header)
    for k, setting in enumerate(settings):
        start = time.perf_counter()
        r = run_setting(setting, studies, resamples, permutations, seed=1000 * (k + 1))
        elapsed = time.perf_counter() - start

        def pct(key: str, r: dict[str, float] = r) -> str:
            return f"{100 * r[key]:.1f}" if key in r else "-"

        print(
            f"{setting.name:<44} {pct('pooled_reject_identity'):>9} {pct('pooled_reject_image'):>10} "
            f"{pct('cover_identity_bca'):>12} {pct('cover_identity_pct'):>12} "
            f"{pct('cover_image_pct'):>13} {pct('class_cover_bca'):>9} {pct('class_cover_pct'):>9} "
            f"{pct('fwer_raw'):>8} {pct('fwer_holm'):>9} {pct('fwer_bh'):>7} "
            f"{pct('interaction_reject'):>11} {elapsed:5.1f}",
            flush=True,
        )
    print(
        "reject: pooled sign-flip test, identity-clustered (id) vs image-level (img): false-positive "
        "rate at delta 0, power at delta 0.3. cover: share of 95 % intervals containing delta. "
        "class: per-class intervals (16 images, one per identity). FWER: share of null studies "
        "with any of the 7 per-class tests significant. interaction: identity-blocked permutation "
        "test of the expression effect on the difference (size without class effect, power with)."
    )


if __name__ == "__main__":
    main()
