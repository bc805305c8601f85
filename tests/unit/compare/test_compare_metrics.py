"""Saliency metrics against naive implementations written from Bylinskii et al. 2018."""

from __future__ import annotations

import numpy as np
import pytest

from gazealign.compare import metrics as m
from reference import compare_metrics_naive as naive


def _case(seed: int, shape: tuple[int, int] = (9, 11)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    s = rng.gamma(1.0, size=shape)
    q = rng.gamma(1.0, size=shape)
    counts = np.zeros(shape, dtype=np.int64)
    idx = rng.integers(0, s.size, size=12)
    np.add.at(counts.ravel(), idx, 1)  # some pixels fixated twice
    return s, q, counts


@pytest.mark.parametrize("seed", range(6))
def test_metrics_equal_naive_reference(seed: int) -> None:
    s, q, counts = _case(seed)
    if seed % 2:  # ties: quantise the map so thresholds coincide
        s = np.round(s * 2) / 2
    assert m.nss(s, counts) == pytest.approx(naive.nss(s, counts), abs=1e-12)
    assert m.cc(s, q) == pytest.approx(naive.cc(s, q), abs=1e-12)
    assert m.sim(s, q) == pytest.approx(naive.sim(s, q), abs=1e-12)
    assert m.kld(s, q) == pytest.approx(naive.kld(s, q), abs=1e-12)
    assert m.auc_judd(s, counts) == pytest.approx(naive.auc_judd(s, counts), abs=1e-12)
    assert m.auc_borji(s, counts, n_splits=5, seed=seed) == pytest.approx(
        naive.auc_borji(s, counts, 5, seed), abs=1e-12
    )
    assert m.information_gain(s, counts, q) == pytest.approx(
        naive.information_gain(s, counts, q), abs=1e-12
    )


def test_roc_auc_equals_mann_whitney_with_ties() -> None:
    rng = np.random.default_rng(3)
    pos = np.round(rng.normal(size=20), 1)
    neg = np.round(rng.normal(size=30), 1)
    assert m._roc_auc(pos, neg) == pytest.approx(
        naive.mann_whitney_auc(list(pos), list(neg)), abs=1e-12
    )


def test_auc_judd_golden_values() -> None:
    # Hand-computed: fixations on the two highest of four pixels -> perfect separation.
    s = np.array([[4.0, 3.0], [2.0, 1.0]])
    fix = np.array([[1, 1], [0, 0]])
    assert m.auc_judd(s, fix) == 1.0
    # Reversed map: thresholds only at fixated values give the points (0,0), (1,0.5), (1,1);
    # Judd's curve joins them with straight lines, area 0.25 (not 0).
    assert m.auc_judd(-s, fix) == 0.25
    # NSS: z-scores of [4, 3, 2, 1] are (1.5, 0.5, -0.5, -1.5) / sqrt(1.25).
    assert m.nss(s, fix) == pytest.approx(1.0 / np.sqrt(1.25))


def test_shuffled_auc_centre_bias_is_chance_when_negatives_match() -> None:
    # Fixations on this image and on others drawn from the same centre-biased distribution:
    # a map equal to that distribution cannot separate them (sAUC ~ 0.5) though AUC-Judd is high.
    rng = np.random.default_rng(0)
    shape = (40, 40)
    rr, cc = np.mgrid[0:40, 0:40]
    centre = np.exp(-((rr - 20) ** 2 + (cc - 20) ** 2) / (2 * 6.0**2))
    p = (centre / centre.sum()).ravel()
    fix = np.bincount(rng.choice(p.size, 400, p=p), minlength=p.size).reshape(shape)
    other = np.bincount(rng.choice(p.size, 4000, p=p), minlength=p.size).reshape(shape)
    s_auc = m.auc_shuffled(centre, fix, other, n_splits=20, seed=1)
    assert abs(s_auc - 0.5) < 0.05
    assert m.auc_judd(centre, fix) > 0.85


def test_information_gain_zero_against_itself_and_positive_for_better_map() -> None:
    s, _, counts = _case(1)
    assert m.information_gain(s, counts, s) == pytest.approx(0.0, abs=1e-12)
    better = counts + 0.01
    assert m.information_gain(better, counts, np.ones_like(s)) > 0


def test_emd_solvers_agree_and_match_1d_closed_form() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.random((6, 7)), rng.random((6, 7))
    pot = m.emd(a, b, max_side_px=7, solver="pot")
    lp = m.emd(a, b, max_side_px=7, solver="linprog")
    assert pot == pytest.approx(lp, abs=1e-9)
    assert m.emd(a, a, max_side_px=7) == pytest.approx(0.0, abs=1e-12)
    row_a, row_b = rng.random((1, 9)), rng.random((1, 9))
    assert m.emd(row_a, row_b, max_side_px=9) == pytest.approx(
        naive.emd_1d_rows(row_a, row_b), abs=1e-9
    )


def test_emd_is_in_input_pixels_after_downsizing() -> None:
    # All mass in one corner block vs the opposite one: distance = distance of block centres.
    a = np.zeros((64, 64))
    b = np.zeros((64, 64))
    a[:8, :8] = 1
    b[:8, 56:] = 1
    assert m.emd(a, b, max_side_px=8) == pytest.approx(56.0)


def test_fixation_map_counts_and_reports_outside() -> None:
    counts, outside = m.fixation_map([0.5, 0.9, 2.0, -1.0, 5.0], [0.2, 0.7, 1.0, 0.0, 0.0], (2, 3))
    assert outside == 2
    assert counts.tolist() == [[2, 0, 0], [0, 0, 1]]


def test_bad_input_is_rejected_with_clear_errors() -> None:
    s, q, counts = _case(0)
    with pytest.raises(ValueError, match="shape"):
        m.cc(s, q[:, :-1])
    with pytest.raises(ValueError, match="negative"):
        m.kld(s - 1, q)
    with pytest.raises(ValueError, match="no fixations"):
        m.nss(s, np.zeros_like(counts))
    with pytest.raises(ValueError, match="integer"):
        m.nss(s, counts + 0.5)
    with pytest.raises(ValueError, match="NaN"):
        m.cc(np.full((2, 2), np.nan), q[:2, :2])
