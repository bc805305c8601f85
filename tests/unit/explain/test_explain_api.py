"""The explain() driver: registry, targets, batching, reductions, frames, Captum methods."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from explain_nets import bundle, small_vgg
from torch import nn

from gazealign.coords import CropResize
from gazealign.errors import GazeAlignError
from gazealign.explain import (
    ExplainOptions,
    apply_sign,
    available_methods,
    explain,
    to_stimulus_frame,
)
from gazealign.explain.captum_methods import find_gradcam_layer
from gazealign.types import SaliencyMap


def images(n: int, seed: int = 0, size_px: int = 16) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size_px, size_px, 3), dtype=np.uint8)


def test_unknown_method_lists_available_names() -> None:
    with pytest.raises(GazeAlignError) as err:
        explain(bundle(small_vgg()), images(1), method="lrp_nope")
    for name in ("lrp_epsilon_plus_flat", "lrp_epsilon_gamma_box", "integrated_gradients"):
        assert name in str(err.value)
    assert "lrp_epsilon_plus_flat" in available_methods()


def test_bad_inputs_are_clear_errors() -> None:
    b = bundle(small_vgg())
    with pytest.raises(GazeAlignError, match="16x16"):
        explain(b, images(1, size_px=8), method="lrp_epsilon")
    with pytest.raises(GazeAlignError, match="2 targets for 1 images"):
        explain(b, images(1), method="lrp_epsilon", target=[0, 1])
    with pytest.raises(GazeAlignError, match=r"outside 0\.\.6"):
        explain(b, images(1), method="lrp_epsilon", target=[7])


@pytest.mark.parametrize("method", ["lrp_epsilon_plus_flat", "integrated_gradients", "occlusion"])
def test_batched_equals_one_at_a_time(method: str) -> None:
    b = bundle(small_vgg(4).double())
    imgs = images(5, 4)
    opts = ExplainOptions(occlusion_window_px=4, occlusion_stride_px=4, ig_steps=8)
    batched = explain(b, imgs, method=method, batch_size=4, sign="signed", options=opts)
    single = explain(b, imgs, method=method, batch_size=1, sign="signed", options=opts)
    for x, y in zip(batched, single, strict=True):
        # float64 throughout (Captum's occlusion sums in float32); batched BLAS may differ in
        # the last bits only
        rtol = 1e-6 if method == "occlusion" else 1e-9
        np.testing.assert_allclose(x.map.values, y.map.values, rtol=rtol, atol=1e-12)
        assert x.record.target == y.record.target
        assert x.record.logit == pytest.approx(y.record.logit, rel=1e-12)
        assert x.record.relevance_sum == pytest.approx(y.record.relevance_sum, rel=rtol)


def test_predicted_and_given_targets() -> None:
    model = small_vgg(5)
    b = bundle(model)
    imgs = images(3, 5)
    logits = model(b.preprocess(imgs)).detach()
    pred = explain(b, imgs, method="lrp_epsilon")
    assert [r.record.target for r in pred] == logits.argmax(1).tolist()
    assert [r.record.target_label for r in pred] == [b.labels[i] for i in logits.argmax(1)]
    given = explain(b, imgs, method="lrp_epsilon", target=np.array([0, 3, 6]))
    assert [r.record.target for r in given] == [0, 3, 6]
    for i, (r, t) in enumerate(zip(given, [0, 3, 6], strict=True)):
        assert r.record.logit == pytest.approx(float(logits[i, t]))


def test_steps_and_sign_policies() -> None:
    b = bundle(small_vgg(6))
    (signed,) = explain(b, images(1, 6), method="lrp_epsilon_plus_flat", sign="signed")
    (pos,) = explain(b, images(1, 6), method="lrp_epsilon_plus_flat", sign="positive")
    (ab,) = explain(b, images(1, 6), method="lrp_epsilon_plus_flat", sign="absolute")
    np.testing.assert_allclose(signed.map.values, signed.channels.sum(axis=0))
    np.testing.assert_array_equal(pos.map.values, np.maximum(signed.map.values, 0))
    np.testing.assert_array_equal(ab.map.values, np.abs(signed.map.values))
    assert [s.name for s in pos.map.steps] == ["explain", "sum_channels", "sign"]
    explain_step = pos.map.steps[0]
    assert explain_step.params["composite"] == "epsilon_plus_flat"
    assert explain_step.params["epsilon"] == 1e-6
    assert pos.map.steps[2].params == {"policy": "positive"}
    with pytest.raises(GazeAlignError, match="sign policy"):
        apply_sign(pos.map, "squared")  # type: ignore[arg-type]


def test_gamma_box_records_bounds_from_preprocessing() -> None:
    b = bundle(small_vgg(7), preprocessing="vggface")
    (r,) = explain(
        b, images(1, 7), method="lrp_epsilon_gamma_box", options=ExplainOptions(gamma=0.5)
    )
    low, high = b.input_bounds()
    assert r.record.params["low"] == pytest.approx(low.flatten().tolist())
    assert r.record.params["high"] == pytest.approx(high.flatten().tolist())
    assert r.record.params["gamma"] == 0.5


def test_to_stimulus_frame_inverts_the_crop() -> None:
    # model input 4x4 made from the stimulus box cols 2..9, rows 1..8 of a 10x12 image (x0.5)
    crop = CropResize(2, 1, 8, 8, 4, 4, 12, 10)
    values = np.arange(16, dtype=np.float64).reshape(4, 4)
    m = SaliencyMap(values, "model_input", "s1")
    s = to_stimulus_frame(m, crop)
    assert s.frame == "stimulus" and s.shape == (10, 12)
    assert s.steps[-1].name == "map_to_stimulus"
    assert s.steps[-1].params["crop"] == crop.as_dict()
    assert np.all(s.values[0, :] == 0) and np.all(s.values[:, :2] == 0) and np.all(s.values[9] == 0)
    # the top-left stimulus pixel of the box has its centre at model position (0.25, 0.25),
    # before the first model pixel centre: clamped, it takes values[0, 0]
    assert s.values[1, 2] == pytest.approx(values[0, 0])
    # bilinear resampling reproduces a linear ramp exactly between pixel centres:
    # stimulus col c has its centre at model x = (c + 0.5 - 2) * 0.5, array index x - 0.5
    ramp = SaliencyMap(np.tile(np.arange(4.0), (4, 1)), "model_input", "s1")
    r = to_stimulus_frame(ramp, crop).values
    for c in range(4, 8):  # interior columns of the box
        assert r[4, c] == pytest.approx((c + 0.5 - 2) * 0.5 - 0.5)


def test_integrated_gradients_completeness() -> None:
    b = bundle(small_vgg(8).double())
    # The integrand of a ReLU net jumps at kinks, so the quadrature converges slowly: 1000 steps
    # bring the sum within a few % of logit(x) - logit(baseline) (0.3-5% on these images).
    opts = ExplainOptions(ig_steps=1000, ig_baseline="black", internal_batch_size=500)
    for r in explain(b, images(2, 8), method="integrated_gradients", options=opts, sign="signed"):
        assert r.record.conservation == "logit_minus_baseline"
        ref = r.record.conservation_reference
        assert r.record.relevance_sum == pytest.approx(ref, rel=0.08, abs=0.005)
        assert r.record.params["baseline"] == "black"


def test_gradient_x_input_equals_autograd() -> None:
    model = small_vgg(9).double()
    b = bundle(model)
    imgs = images(1, 9)
    (r,) = explain(b, imgs, method="gradient_x_input", target=[2], sign="signed")
    x = b.preprocess(imgs).double().requires_grad_(True)
    model(x)[0, 2].backward()
    assert x.grad is not None
    np.testing.assert_allclose(r.channels, (x.grad * x).detach()[0].numpy(), rtol=1e-10)


def test_occlusion_equals_naive_window_drop() -> None:
    """Non-overlapping windows: each pixel's value is the logit drop when its window is zeroed."""
    model = small_vgg(10).double()
    b = bundle(model)
    imgs = images(1, 10)
    opts = ExplainOptions(occlusion_window_px=4, occlusion_stride_px=4, occlusion_baseline="zero")
    (r,) = explain(b, imgs, method="occlusion", target=[1], options=opts, sign="signed")
    x = b.preprocess(imgs).double()
    with torch.no_grad():
        full = float(model(x)[0, 1])
        expected = np.zeros((16, 16))
        for i in range(0, 16, 4):
            for j in range(0, 16, 4):
                xo = x.clone()
                xo[:, :, i : i + 4, j : j + 4] = 0
                expected[i : i + 4, j : j + 4] = full - float(model(xo)[0, 1])
    # Captum accumulates occlusion results in float32
    np.testing.assert_allclose(r.map.values, expected, rtol=1e-6, atol=1e-9)


def test_gradcam_layer_choice_and_shape() -> None:
    model = small_vgg(11)
    name, layer = find_gradcam_layer(model)
    assert name == "8" and isinstance(layer, nn.ReLU)  # the ReLU after the last conv ("7")
    model.gradcam_layer = "2"  # type: ignore[assignment]
    assert find_gradcam_layer(model)[0] == "3"  # the named conv's ReLU
    assert find_gradcam_layer(model, "7")[0] == "7"  # an explicit name is taken as is
    with pytest.raises(GazeAlignError, match="not a module"):
        find_gradcam_layer(model, "conv9_9")
    (r,) = explain(bundle(small_vgg(11)), images(1, 11), method="gradcam", sign="signed")
    assert r.map.shape == (16, 16)
    assert r.map.steps[1].name == "upsample"
    assert r.map.steps[1].params["from_shape"] == [8, 8]
    assert r.record.params["layer"] == "8"
