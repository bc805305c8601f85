"""Alignment objectives: references from the papers' formulas, finite-difference gradient checks,
and training with them through ``fit``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_models_train import tiny_bundle, toy_images
from torch import nn
from torch.func import functional_call

from gazealign.models import alignment as al
from gazealign.models.augment import Augmentation, augment_batch
from gazealign.models.train import TrainConfig, fit


def tiny_net(seed: int = 0) -> nn.Module:
    """A ReLU conv net small enough for finite differences over all its weights (float64)."""
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(3, 3, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(3 * 4 * 4, 4),
    )
    return net.double()


def blob_maps(n: int, size: int, seed: int) -> torch.Tensor:
    """(n, size, size) Gaussian blobs at random centres (non-negative, like fixation densities)."""
    rng = np.random.default_rng(seed)
    rr, cc = np.mgrid[0:size, 0:size]
    maps = []
    for _ in range(n):
        r0, c0 = rng.uniform(1, size - 2, 2)
        maps.append(np.exp(-((rr - r0) ** 2 + (cc - c0) ** 2) / (2 * 1.5**2)))
    return torch.from_numpy(np.stack(maps))


def test_standardize_cut_is_relu_of_the_population_z_score() -> None:
    rng = np.random.default_rng(0)
    m = rng.normal(size=(3, 5, 6))
    got = al.standardize_cut(torch.from_numpy(m)).numpy()
    z = (m - m.mean(axis=(1, 2), keepdims=True)) / (m.std(axis=(1, 2), keepdims=True) + 1e-5)
    np.testing.assert_allclose(got, np.maximum(z, 0), rtol=1e-12)
    # positive rescaling of a map does not change it (to the eps)
    np.testing.assert_allclose(
        al.standardize_cut(torch.from_numpy(7 * m)).numpy(), got, rtol=1e-4, atol=1e-6
    )


def naive_same_downsample(m: np.ndarray) -> np.ndarray:
    """TensorFlow conv2d(stride 2, 'SAME') with the 5x5 binomial kernel, written as loops."""
    k1 = np.array([1, 4, 6, 4, 1], float)
    k = np.outer(k1, k1) / 256
    rows, cols = m.shape
    out_r, out_c = -(-rows // 2), -(-cols // 2)
    pad_r = max((out_r - 1) * 2 + 5 - rows, 0) // 2
    pad_c = max((out_c - 1) * 2 + 5 - cols, 0) // 2
    out = np.zeros((out_r, out_c))
    for i in range(out_r):
        for j in range(out_c):
            for a in range(5):
                for b in range(5):
                    r, c = 2 * i + a - pad_r, 2 * j + b - pad_c
                    if 0 <= r < rows and 0 <= c < cols:
                        out[i, j] += k[a, b] * m[r, c]
    return out


@pytest.mark.parametrize("shape", [(16, 16), (7, 10)])
def test_gaussian_pyramid_matches_a_loop_reference(shape: tuple[int, int]) -> None:
    m = np.random.default_rng(1).random(shape)
    levels = al.gaussian_pyramid(torch.from_numpy(m)[None], 4)
    assert len(levels) == 4
    ref = m
    np.testing.assert_array_equal(levels[0][0].numpy(), m)
    for level in levels[1:]:
        ref = naive_same_downsample(ref)
        np.testing.assert_allclose(level[0].numpy(), ref, rtol=1e-12, atol=1e-15)
    # a constant map stays constant away from the zero-padded border
    const = al.gaussian_pyramid(torch.ones(1, 32, 32, dtype=torch.float64), 2)[1]
    np.testing.assert_allclose(const[0, 2:-2, 2:-2].numpy(), 1.0)


def test_pyramid_mse_weights_images_and_averages_levels() -> None:
    a, b = blob_maps(3, 8, 0), blob_maps(3, 8, 1)
    w = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
    got = float(al.pyramid_mse(a, b, w, levels=3))
    pa, pb = al.gaussian_pyramid(a, 3), al.gaussian_pyramid(b, 3)
    ref = np.mean(
        [
            np.mean((x.numpy() - y.numpy()) ** 2 * w.numpy()[:, None, None])
            for x, y in zip(pa, pb, strict=True)
        ]
    )
    assert got == pytest.approx(ref, rel=1e-12)
    assert float(al.pyramid_mse(a, a, torch.ones(3), levels=3)) == 0.0


def test_dont_look_mask_threshold_and_empty_maps() -> None:
    m = torch.tensor([[[0.0, 1.0], [0.5, 0.05]], [[0.0, 0.0], [0.0, 0.0]]])
    mask = al.dont_look_mask(m, fraction=0.1)
    np.testing.assert_array_equal(mask.numpy(), [[[1, 0], [0, 1]], [[0, 0], [0, 0]]])


def test_rrr_term_equals_the_papers_sum_per_image() -> None:
    net = tiny_net()
    x = torch.randn(3, 3, 8, 8, dtype=torch.float64)
    y = torch.tensor([0, 2, 3])
    maps = blob_maps(3, 8, 2)
    has = torch.tensor([True, False, True])
    parts = al.rrr_loss(net, x, y, maps, has, weight=0.7, dont_look_fraction=0.2)
    per_image = []
    for i in range(3):
        xi = x[i : i + 1].clone().requires_grad_(True)
        (g,) = torch.autograd.grad(torch.log_softmax(net(xi), 1).sum(), xi)
        a = (maps[i] < 0.2 * maps[i].max()).double() * float(has[i])
        per_image.append(float((a * g[0] ** 2).sum()))
    assert float(parts.alignment.detach()) == pytest.approx(np.mean(per_image), rel=1e-10)
    ce = float(nn.functional.cross_entropy(net(x), y).detach())
    assert float(parts.cross_entropy.detach()) == pytest.approx(ce, rel=1e-12)
    total = float(parts.total.detach())
    assert total == pytest.approx(ce + 0.7 * np.mean(per_image), rel=1e-10)


def test_harmonization_term_from_the_papers_steps() -> None:
    net = tiny_net(1)
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    y = torch.tensor([1, 3])
    maps = blob_maps(2, 8, 3)
    parts = al.harmonization_loss(
        net, x, y, maps, torch.tensor([True, True]), weight=2.0, pyramid_levels=3
    )
    xi = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(net(xi).gather(1, y.view(-1, 1)).sum(), xi)
    sal = g.mean(1).numpy()

    def cut(m: np.ndarray) -> np.ndarray:
        z = (m - m.mean(axis=(1, 2), keepdims=True)) / (m.std(axis=(1, 2), keepdims=True) + 1e-5)
        return np.maximum(z, 0)

    s, h = cut(sal), cut(maps.numpy())
    h = h / (h.max(axis=(1, 2), keepdims=True) + 1e-6) * (s.max(axis=(1, 2), keepdims=True) + 1e-6)
    ps = al.gaussian_pyramid(torch.from_numpy(s), 3)
    ph = al.gaussian_pyramid(torch.from_numpy(h), 3)
    ref = np.mean([np.mean((a.numpy() - b.numpy()) ** 2) for a, b in zip(ps, ph, strict=True)])
    assert float(parts.alignment.detach()) == pytest.approx(ref, rel=1e-9)
    total, ce = float(parts.total.detach()), float(parts.cross_entropy.detach())
    assert total == pytest.approx(ce + 2 * ref, rel=1e-9)


def test_images_without_a_human_map_train_on_cross_entropy_only() -> None:
    net = tiny_net(2)
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    y = torch.tensor([0, 1])
    for objective in al.OBJECTIVES:
        cfg = al.AlignmentConfig(objective=objective, weight=5.0)  # type: ignore[arg-type]
        parts = al.alignment_loss(net, x, y, blob_maps(2, 8, 4), torch.tensor([False] * 2), cfg)
        assert float(parts.alignment.detach()) == 0.0
        grads = torch.autograd.grad(parts.total, list(net.parameters()))
        ce_grads = torch.autograd.grad(
            nn.functional.cross_entropy(net(x), y), list(net.parameters())
        )
        for g, h in zip(grads, ce_grads, strict=True):
            torch.testing.assert_close(g, h, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("objective", al.OBJECTIVES)
@pytest.mark.parametrize("saliency", al.SALIENCY_KINDS)
def test_alignment_loss_gradient_equals_finite_differences(objective: str, saliency: str) -> None:
    """Double backprop: d(alignment term)/d(weights) against central differences, float64."""
    net = tiny_net(3)
    x = torch.randn(3, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    y = torch.tensor([0, 1, 3])
    maps = blob_maps(3, 8, 6)
    has = torch.tensor([True, True, False])
    cfg = al.AlignmentConfig(
        objective=objective,  # type: ignore[arg-type]
        weight=1.0,
        saliency=saliency,  # type: ignore[arg-type]
        pyramid_levels=3,
        dont_look_fraction=0.3,
    )
    names = [n for n, _ in net.named_parameters()]
    shapes = [p.shape for _, p in net.named_parameters()]
    flat0 = torch.cat([p.detach().reshape(-1) for p in net.parameters()])

    def as_module(flat: torch.Tensor) -> nn.Module:
        params, i = {}, 0
        for name, shape in zip(names, shapes, strict=True):
            k = int(np.prod(shape))
            params[name] = flat[i : i + k].view(shape)
            i += k

        class Wrapped(nn.Module):
            def forward(self, inp: torch.Tensor) -> torch.Tensor:
                out: torch.Tensor = functional_call(net, params, (inp,))
                return out

        return Wrapped()

    flat = flat0.clone().requires_grad_(True)
    (analytic,) = torch.autograd.grad(
        al.alignment_loss(as_module(flat), x, y, maps, has, cfg).alignment, flat
    )
    assert float(analytic.abs().max()) > 0  # the term really depends on the weights
    # Harmonization's saliency peak is a constant of the graph: hold it at its value at flat0
    _, sal0 = al.saliency_maps(as_module(flat0), x, y, saliency=cfg.saliency)
    peak = al.standardize_cut(sal0.detach()).amax(dim=(-2, -1), keepdim=True) + 1e-6

    def term(flat: torch.Tensor) -> float:
        if objective == "rrr":
            return float(
                al.alignment_loss(as_module(flat), x, y, maps, has, cfg).alignment.detach()
            )
        _, sal = al.saliency_maps(as_module(flat), x, y, saliency=cfg.saliency)
        value = al.harmonization_term(sal, maps, has, levels=3, saliency_peak=peak)
        return float(value.detach())

    rng = np.random.default_rng(7)
    h = 1e-6
    for j in rng.choice(len(flat0), size=25, replace=False):
        e = torch.zeros_like(flat0)
        e[j] = h
        numeric = (term(flat0 + e) - term(flat0 - e)) / (2 * h)
        assert float(analytic[j]) == pytest.approx(numeric, rel=1e-5, abs=1e-9), j


def test_augment_with_maps_moves_maps_with_their_images() -> None:
    maps = blob_maps(4, 16, 8).float()
    images = (maps / maps.amax(dim=(1, 2), keepdim=True) * 200).unsqueeze(1).repeat(1, 3, 1, 1)
    aug = Augmentation(shift_fraction=0.2, zoom_fraction=0.2, brightness=(1.0, 1.0))
    x, m = al.augment_with_maps(images, maps, aug, torch.Generator().manual_seed(1))
    plain = augment_batch(images, aug, torch.Generator().manual_seed(1))
    torch.testing.assert_close(x, plain)  # the images get exactly the plain augmentation
    expect = m / maps.amax(dim=(1, 2)).view(-1, 1, 1) * 200
    torch.testing.assert_close(x[:, 0], expect, rtol=1e-4, atol=1e-3)


def test_alignment_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="objective"):
        al.AlignmentConfig(objective="gradcam")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lambda"):
        al.AlignmentConfig(weight=-1)
    with pytest.raises(ValueError, match="pyramid_levels"):
        al.AlignmentConfig(pyramid_levels=0)


def _targets(weight: float, objective: str = "harmonization") -> tuple[object, ...]:
    x, y = toy_images(4, 2)
    # human map: the class square of each toy image (where the evidence is)
    maps = torch.from_numpy((x[..., 0] > 200).astype(np.float32))
    has = torch.ones(len(x), dtype=torch.bool)
    has[::3] = False
    cfg = al.AlignmentConfig(objective=objective, weight=weight, pyramid_levels=3)  # type: ignore[arg-type]
    return x, y, al.AlignmentTargets(cfg, maps, has)


def test_bf16_true_refuses_an_alignment_objective() -> None:
    x, y, aligned = _targets(1.0)
    conf = TrainConfig(epochs=1, batch_size=8, augmentation=None, bf16=True)
    with pytest.raises(ValueError, match="bf16 = true cannot train an alignment objective"):
        fit(tiny_bundle(), x, y, config=conf, seed=4, alignment=aligned)  # type: ignore[arg-type]


@pytest.mark.slow
def test_fit_with_weight_zero_is_plain_training_and_aligned_fit_is_deterministic() -> None:
    x, y, zero = _targets(0.0)
    conf = TrainConfig(epochs=2, batch_size=8, learning_rate=3e-3, augmentation=Augmentation())
    plain, with_zero = tiny_bundle(), tiny_bundle()
    fit(plain, x, y, config=conf, seed=4)  # type: ignore[arg-type]
    fit(with_zero, x, y, config=conf, seed=4, alignment=zero)  # type: ignore[arg-type]
    for k, v in plain.model.state_dict().items():  # type: ignore[attr-defined]
        assert torch.equal(v, with_zero.model.state_dict()[k])  # type: ignore[attr-defined]
    _, _, aligned = _targets(50.0)
    runs = []
    for _ in range(2):
        b = tiny_bundle()
        r = fit(b, x, y, config=conf, seed=4, alignment=aligned)  # type: ignore[arg-type]
        runs.append((b, r))
    (b1, r1), (b2, r2) = runs
    assert r1.history.equals(r2.history) and "train_alignment" in r1.history
    w1, w2, wp = (b.model.state_dict() for b in (b1, b2, plain))  # type: ignore[attr-defined]
    assert all(torch.equal(w1[k], w2[k]) for k in w1)
    assert not all(torch.equal(w1[k], wp[k]) for k in w1)


@pytest.mark.slow
@pytest.mark.parametrize("objective", al.OBJECTIVES)
def test_training_on_the_alignment_term_lowers_it(objective: str) -> None:
    x, y, targets = _targets(1.0, objective)
    assert isinstance(targets, al.AlignmentTargets)
    bundle = tiny_bundle(1)
    model = bundle.model  # type: ignore[attr-defined]
    xt = bundle.preprocess(x)  # type: ignore[attr-defined]
    yt = torch.from_numpy(y)

    def term() -> float:
        model.eval()
        parts = al.alignment_loss(
            model, xt, yt, targets.human_maps, targets.has_map, targets.config
        )
        return float(parts.alignment.detach())

    before = term()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(20):
        model.train()
        parts = al.alignment_loss(
            model, xt, yt, targets.human_maps, targets.has_map, targets.config
        )
        opt.zero_grad()
        parts.alignment.backward()
        opt.step()
    assert term() < 0.5 * before, (before, term())
