"""Invariants of the saliency metrics (Bylinskii et al. 2018), checked with Hypothesis."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gazealign.compare import metrics as m

shapes = st.tuples(st.integers(2, 8), st.integers(2, 8))
values = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@st.composite
def map_and_fixations(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    shape = draw(shapes)
    s = draw(arrays(np.float64, shape, elements=values))
    counts = draw(arrays(np.int64, shape, elements=st.integers(0, 3)))
    if counts.sum() == 0:
        counts[0, 0] = 1
    if (counts > 0).all():
        counts[-1, -1] = 0
    return s, counts


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_cc_is_symmetric(data: st.DataObject) -> None:
    shape = data.draw(shapes)
    a = data.draw(arrays(np.float64, shape, elements=values))
    b = data.draw(arrays(np.float64, shape, elements=values))
    assert abs(m.cc(a, b) - m.cc(b, a)) < 1e-12
    assert -1 - 1e-9 <= m.cc(a, b) <= 1 + 1e-9


@settings(max_examples=60, deadline=None)
@given(map_and_fixations(), st.floats(1e-2, 1e2), st.floats(-1e3, 1e3))
def test_nss_invariant_to_positive_affine_rescaling(
    case: tuple[np.ndarray, np.ndarray], scale: float, offset: float
) -> None:
    s, counts = case
    if s.std() < 1e-6 * max(1.0, float(np.abs(s).max())):
        s = s + np.arange(s.size).reshape(s.shape)  # keep away from float cancellation
    assert abs(m.nss(s * scale + offset, counts) - m.nss(s, counts)) < 1e-6


@settings(max_examples=60, deadline=None)
@given(map_and_fixations(), st.floats(-1e3, 1e3), st.integers(0, 2**32 - 1))
def test_auc_of_a_constant_map_is_one_half(
    case: tuple[np.ndarray, np.ndarray], level: float, seed: int
) -> None:
    _, counts = case
    const = np.full(counts.shape, level)
    assert m.auc_judd(const, counts) == 0.5
    assert m.auc_borji(const, counts, n_splits=3, seed=seed) == 0.5
    assert m.auc_shuffled(const, counts, counts, n_splits=3, seed=seed) == 0.5


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_kld_of_identical_maps_is_zero_and_sim_is_one(data: st.DataObject) -> None:
    shape = data.draw(shapes)
    a = data.draw(arrays(np.float64, shape, elements=st.floats(0, 1e3)))
    if a.sum() == 0:
        a[0, 0] = 1.0
    assert abs(m.kld(a, a)) < 1e-9
    assert abs(m.sim(a, a) - 1) < 1e-12
    b = data.draw(arrays(np.float64, shape, elements=st.floats(0.01, 1e3)))
    assert m.kld(b, a) >= -1e-9  # Gibbs' inequality (eps terms aside)
