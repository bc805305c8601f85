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
- the pooled 95 % interval's coverage of delta: identity-clustered BCa with the small-sample
  expansion (gazealign's default), plain BCa and percentile, and the image-level percentile
  bootstrap;
- per-class (16 images, one per identity) 95 % interval coverage: the same three intervals;
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


def simulate(setting: Setting, studies: int, seed: int) -> tuple[FloatArray, FloatArray]:
    """Values for the intervals and differences for the tests, both (studies, ids, classes).

    Normal errors: one array serves both. Skewed errors: the intervals are read on the skewed
    values themselves (a mean AUC, metric or share), while the tests get paired differences
    of two such skewed values, (v1 - v2) / sqrt(2) + delta: the sign-flip test's null is that
    the two orderings are exchangeable, which makes a difference symmetric; a skewed
    mean-zero difference would be outside that null.
    """
    rng = np.random.default_rng(seed)

    def noise(shape: tuple[int, ...]) -> FloatArray:
        if setting.skewed:
            return np.asarray((rng.chisquare(3, size=shape) - 3) / np.sqrt(6))
        return rng.standard_normal(shape)

    effect = np.zeros(N_CLASSES)
    effect[0], effect[1] = setting.class_effect, -setting.class_effect

    def draw() -> FloatArray:
        u = noise((studies, N_IDS, 1))
        eps = noise((studies, N_IDS, N_CLASSES))
        return np.asarray(np.sqrt(setting.icc) * u + np.sqrt(1 - setting.icc) * eps)

    values = setting.delta + effect + draw()
    if not setting.skewed:
        return values, values
    return values, setting.delta + effect + (draw() - draw()) / np.sqrt(2)


def covered(
    clusters: rs.Clusters,
    truth: float,
    method: str,
    *,
    resamples: int,
    seed: int,
    expand: bool = False,
) -> FloatArray:
    """Whether each study's 95 % interval covers ``truth``: (studies,) booleans as floats."""
    boot = rs.bootstrap_means(clusters, resamples, seed=seed)
    est = rs.cluster_mean(clusters)
    jack = rs.jackknife_means(clusters) if method == "bca" else None
    lo, hi = rs.interval_levels(
        boot,
        est,
        confidence=0.95,
        method=method,  # type: ignore[arg-type]
        jackknife=jack,
        expand_for=clusters.n_clusters if expand else None,
    )
    low, high = rs.interval_from_levels(boot, lo, hi)
    return np.asarray((low <= truth) & (truth <= high), dtype=np.float64)


def sign_flip_reject(clusters: rs.Clusters, *, permutations: int, seed: int) -> FloatArray:
    patterns, exact = rs.sign_patterns(clusters.n_clusters, permutations, seed=seed)
    return np.asarray(rs.sign_flip_p(clusters, patterns, exact) < ALPHA, dtype=np.float64)


def run_setting(
    setting: Setting, studies: int, resamples: int, permutations: int, seed: int
) -> dict[str, float]:
    v, d = simulate(setting, studies, seed)
    flat = d.reshape(studies, N_IDS * N_CLASSES)
    ids = np.repeat(np.arange(N_IDS), N_CLASSES)
    classes = np.tile(np.arange(N_CLASSES), N_IDS)
    by_identity = rs.cluster_totals(v.reshape(studies, -1), ids)
    by_image = rs.cluster_totals(v.reshape(studies, -1))
    truth = setting.delta  # class effects sum to 0
    out = {
        "pooled_reject_identity": sign_flip_reject(
            rs.cluster_totals(flat, ids), permutations=permutations, seed=seed + 1
        ).mean(),
        "pooled_reject_image": sign_flip_reject(
            rs.cluster_totals(flat), permutations=permutations, seed=seed + 2
        ).mean(),
        "cover_identity_bca_x": covered(
            by_identity, truth, "bca", resamples=resamples, seed=seed + 3, expand=True
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
    cover: dict[str, list[FloatArray]] = {"bca_x": [], "bca": [], "pct": []}
    for e in range(N_CLASSES):
        patterns, exact = rs.sign_patterns(N_IDS, permutations, seed=seed + 10 + e)
        p_class[:, e] = rs.sign_flip_p(rs.cluster_totals(d[:, :, e]), patterns, exact)
        part = rs.cluster_totals(v[:, :, e])
        class_truth = truth + (
            setting.class_effect if e == 0 else -setting.class_effect if e == 1 else 0.0
        )
        for key, method, expand in (
            ("bca_x", "bca", True),
            ("bca", "bca", False),
            ("pct", "percentile", False),
        ):
            cover[key].append(
                covered(
                    part,
                    class_truth,
                    method,
                    resamples=resamples,
                    seed=seed + 20 + e,
                    expand=expand,
                )
            )
    for key, flags in cover.items():
        out[f"class_cover_{key}"] = float(np.mean(flags))
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
    columns = {
        "pooled_reject_identity": "reject id",
        "pooled_reject_image": "reject img",
        "cover_identity_bca_x": "cover id BCa-x",
        "cover_identity_bca": "cover id BCa",
        "cover_identity_pct": "cover id pct",
        "cover_image_pct": "cover img pct",
        "class_cover_bca_x": "class BCa-x",
        "class_cover_bca": "class BCa",
        "class_cover_pct": "class pct",
        "fwer_raw": "FWER raw",
        "fwer_holm": "FWER Holm",
        "fwer_bh": "FWER BH",
        "interaction_reject": "interaction",
    }
    header = f"{'setting':<44} " + " ".join(f"{c:>{len(c)}}" for c in columns.values())
    print(header)
    for k, setting in enumerate(settings):
        start = time.perf_counter()
        r = run_setting(setting, studies, resamples, permutations, seed=1000 * (k + 1))
        elapsed = time.perf_counter() - start

        cells = [
            f"{(f'{100 * r[k]:.1f}' if k in r else '-'):>{len(c)}}" for k, c in columns.items()
        ]
        print(f"{setting.name:<44} " + " ".join(cells) + f" {elapsed:5.1f}s", flush=True)
    print(
        "reject: pooled sign-flip test, identity-clustered (id) vs image-level (img): false-positive "
        "rate at delta 0, power at delta 0.3. cover: share of 95 % intervals containing delta "
        "(BCa-x: BCa with the small-sample expansion, gazealign's default; BCa: plain Efron BCa; "
        "pct: percentile). "
        "class: per-class intervals (16 images, one per identity). FWER: share of null studies "
        "with any of the 7 per-class tests significant. interaction: identity-blocked permutation "
        "test of the expression effect on the difference (size without class effect, power with)."
    )


if __name__ == "__main__":
    main()
