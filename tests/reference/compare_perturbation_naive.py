"""Region perturbation written as the plain loop of Samek et al. 2017: for each order, for each
step, copy the image, paste the fill into the first k tiles one slice at a time, classify the one
image, take the softmax. Nothing is batched or vectorised."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch

from gazealign.models.bundle import ModelBundle


def tile_scores(values: npt.NDArray[np.float64], tile_px: int, score: str) -> list[float]:
    rows, cols = values.shape
    out = []
    for r0 in range(0, rows, tile_px):
        for c0 in range(0, cols, tile_px):
            block = values[r0 : r0 + tile_px, c0 : c0 + tile_px]
            out.append(float(block.sum()) if score == "sum" else float(block.mean()))
    return out


def order(values: npt.NDArray[np.float64], tile_px: int, score: str, direction: str) -> list[int]:
    s = tile_scores(values, tile_px, score)
    key = (lambda i: (-s[i], i)) if direction == "morf" else (lambda i: (s[i], i))
    return sorted(range(len(s)), key=key)


def perturbed(
    image: npt.NDArray[np.uint8],
    order: list[int],
    k: int,
    tile_px: int,
    fill: npt.NDArray[np.uint8],
) -> npt.NDArray[np.uint8]:
    """The image with the first ``k`` tiles of ``order`` replaced by ``fill``."""
    n_tile_cols = -(-image.shape[1] // tile_px)
    x = image.copy()
    for tile in order[:k]:
        r0 = (tile // n_tile_cols) * tile_px
        c0 = (tile % n_tile_cols) * tile_px
        x[r0 : r0 + tile_px, c0 : c0 + tile_px] = fill[r0 : r0 + tile_px, c0 : c0 + tile_px]
    return x


def curves(
    bundle: ModelBundle,
    image: npt.NDArray[np.uint8],
    true_class: int,
    orders: list[list[int]],
    tile_px: int,
    fill: npt.NDArray[np.uint8],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    prob = np.zeros((len(orders), len(orders[0]) + 1))
    logit = np.zeros_like(prob)
    pred = np.zeros(prob.shape, dtype=np.int64)
    bundle.model.eval()
    for i, o in enumerate(orders):
        for k in range(len(o) + 1):
            x = perturbed(image, o, k, tile_px, fill)
            with torch.no_grad():
                z = bundle.model(bundle.preprocess(x[None]))[0].double().numpy()
            e = np.exp(z - z.max())  # softmax in float64
            prob[i, k] = e[true_class] / e.sum()
            logit[i, k] = z[true_class]
            pred[i, k] = int(z.argmax())
    return prob, logit, pred
