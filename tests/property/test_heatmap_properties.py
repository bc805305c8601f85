"""Invariants of the fixation density (Hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gazealign.heatmaps.density import density_values

coords = st.lists(
    st.tuples(st.floats(-3, 23), st.floats(-3, 17), st.floats(1, 500)), min_size=1, max_size=12
)


@settings(max_examples=60, deadline=None)
@given(coords, st.floats(0.7, 6.0), st.floats(0.01, 100.0))
def test_density_is_a_distribution_invariant_to_order_and_weight_scale(
    fix: list[tuple[float, float, float]], sigma: float, k: float
) -> None:
    x, y, w = (np.array(v) for v in zip(*fix, strict=True))
    d = density_values(x, y, (14, 20), sigma_px=sigma, weights=w)
    assert (d >= 0).all() and abs(d.sum() - 1) < 1e-12
    rev = density_values(x[::-1], y[::-1], (14, 20), sigma_px=sigma, weights=w[::-1] * k)
    np.testing.assert_allclose(rev, d, rtol=1e-9, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 10), st.integers(3, 10), st.floats(0.5, 2.0))
def test_mirror_symmetry(col: int, row: int, sigma: float) -> None:
    """A fixation mirrored across the image's vertical axis gives the mirrored map."""
    d = density_values([col + 0.5], [row + 0.5], (14, 20), sigma_px=sigma)
    m = density_values([20 - col - 0.5], [row + 0.5], (14, 20), sigma_px=sigma)
    np.testing.assert_allclose(m, d[:, ::-1], rtol=1e-9, atol=1e-18)
