"""Control orderings: real values on tiny maps (means by hand, the blur kernel, the pairing)."""

from __future__ import annotations

import numpy as np
import pytest

from gazealign.compare import controls as ctl
from gazealign.coords import CropResize
from gazealign.errors import DataError
from gazealign.registry import UnknownNameError
from gazealign.stages.perturbation import study_centre_bias


def pool() -> ctl.ControlInputs:
    """Three identities (a, b, c) x two expressions; maps 2 x 2 with one bright pixel each."""
    human, labels, identities = {}, {}, {}
    for k, (ident, label) in enumerate(
        [("a", "happy"), ("b", "happy"), ("c", "happy"), ("a", "sad"), ("b", "sad"), ("c", "sad")]
    ):
        m = np.ones((2, 2))
        m.flat[k % 4] += k + 1  # sums: 4 + k + 1
        sid = f"{ident}_{label}"
        human[sid], labels[sid], identities[sid] = m, label, ident
    return ctl.ControlInputs("b_happy", human, labels, identities)


def with_id(inputs: ctl.ControlInputs, sid: str) -> ctl.ControlInputs:
    return ctl.ControlInputs(**{**inputs.__dict__, "stimulus_id": sid})


def test_every_control_is_registered_with_a_description() -> None:
    names = set(ctl.CONTROLS.names())
    assert {"other_identity", "expression_mean", "all_mean", "centre_bias", ctl.BLURRED} <= names
    assert all(e.description and "\n" not in e.description for e in ctl.CONTROLS)


def test_expression_mean_leaves_the_image_out() -> None:
    inputs = pool()
    got = ctl.control_map("expression_mean", inputs, [])
    # the other happy images: a_happy (k=0: pixel 0 = 2, sum 5), c_happy (k=2: pixel 2 = 4, sum 7)
    a = np.array([[2, 1], [1, 1]]) / 5
    c = np.array([[1, 1], [4, 1]]) / 7
    np.testing.assert_allclose(got, (a + c) / 2)
    assert got.sum() == pytest.approx(1.0)


def test_all_mean_leaves_the_image_out() -> None:
    inputs = pool()
    got = ctl.control_map("all_mean", inputs, [])
    expected = np.zeros((2, 2))
    for k, sid in enumerate(inputs.human):
        if sid != "b_happy":
            expected += inputs.human[sid] / (5 + k)
    np.testing.assert_allclose(got, expected / 5)
    # leaving a different image out gives a different mean
    assert not np.allclose(got, ctl.control_map("all_mean", with_id(inputs, "a_sad"), []))


def test_other_identity_is_the_next_identity_of_the_same_expression() -> None:
    inputs = pool()
    for sid, partner in [("a_happy", "b_happy"), ("b_happy", "c_happy"), ("c_happy", "a_happy")]:
        got = ctl.control_map("other_identity", with_id(inputs, sid), [])
        np.testing.assert_allclose(got, inputs.human[partner] / inputs.human[partner].sum())
    got = ctl.control_map("other_identity", with_id(inputs, "c_sad"), [])
    np.testing.assert_allclose(got, inputs.human["a_sad"] / inputs.human["a_sad"].sum())


def test_other_identity_prefers_the_same_session_and_needs_another_identity() -> None:
    base = pool()
    human = dict(base.human) | {"c_happy_B": np.full((2, 2), 0.25)}
    labels = dict(base.labels) | {"c_happy_B": "happy"}
    identities = dict(base.identities) | {"c_happy_B": "c"}
    sessions = dict.fromkeys(human, "A") | {"c_happy_B": "B", "b_happy_B": "B"}
    human["b_happy_B"], labels["b_happy_B"], identities["b_happy_B"] = np.eye(2), "happy", "b"
    inputs = ctl.ControlInputs("b_happy_B", human, labels, identities, sessions)
    np.testing.assert_allclose(ctl.control_map("other_identity", inputs, []), 0.25)
    alone = ctl.ControlInputs("x", {"x": np.eye(2)}, {"x": "sad"}, {"x": "a"})
    with pytest.raises(DataError, match="no other identity shows 'sad'"):
        ctl.control_map("other_identity", alone, [])


def test_blurred_uses_the_given_sigma_exactly() -> None:
    sigma = (1.5, 2.5)
    delta = np.zeros((41, 41))
    delta[20, 20] = 1.0
    inputs = ctl.ControlInputs(
        "x",
        {"x": np.ones((41, 41))},
        {"x": "sad"},
        {"x": "a"},
        network={"lrp": delta},
        sigma_model_px=sigma,
    )
    got = ctl.control_map("lrp_blurred", inputs, ["lrp"])
    r = np.arange(41) - 20.0
    expected = np.outer(
        np.exp(-(r**2) / (2 * sigma[0] ** 2)) / (np.sqrt(2 * np.pi) * sigma[0]),
        np.exp(-(r**2) / (2 * sigma[1] ** 2)) / (np.sqrt(2 * np.pi) * sigma[1]),
    )
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got.sum() == pytest.approx(1.0, abs=1e-6)  # far from the border the mass is kept
    # the second moment along each axis is the sigma
    assert np.sqrt((got.sum(axis=1) * r**2).sum()) == pytest.approx(sigma[0], rel=1e-6)
    assert np.sqrt((got.sum(axis=0) * r**2).sum()) == pytest.approx(sigma[1], rel=1e-6)


def test_blur_is_linear_so_a_signed_map_stays_signed() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    blur = ctl.gaussian_blur
    np.testing.assert_allclose(blur(a - 2 * b, (1.0, 1.0)), blur(a, (1, 1)) - 2 * blur(b, (1, 1)))


def test_centre_bias_is_the_studys_map_in_the_model_frame() -> None:
    crop = CropResize.resize_only(40, 20, 10, 10)
    got = study_centre_bias(crop, 0.25)
    inputs = ctl.ControlInputs("x", {"x": np.ones((10, 10))}, {"x": "sad"}, {"x": "a"}, None, got)
    out = ctl.control_map("centre_bias", inputs, [])
    np.testing.assert_allclose(out, got)
    assert out.sum() == pytest.approx(1.0)
    # symmetric about the centre, largest at the four central pixels
    np.testing.assert_allclose(out, out[::-1, ::-1])
    assert out.argmax() in {44, 45, 54, 55}


def test_per_method_controls_resolve_only_for_the_studys_methods() -> None:
    entry, method = ctl.resolve("lrp_epsilon_blurred", ["lrp_epsilon", "ig"])
    assert entry.name == ctl.BLURRED and method == "lrp_epsilon"
    with pytest.raises(UnknownNameError, match="'gradcam' is not one of the study's explain"):
        ctl.resolve("gradcam_blurred", ["lrp_epsilon"])
    with pytest.raises(UnknownNameError, match=r"available: .*all_mean.*other_identity"):
        ctl.resolve("mean_face", ["lrp_epsilon"])
