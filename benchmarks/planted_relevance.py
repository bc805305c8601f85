"""Does the network's relevance fall on the planted diagnostic regions of the synthetic faces?

Renders synthetic faces (``gazealign.stimuli.synthetic``), trains a small VGG-style CNN on some
identities, explains the held-out identities' faces (target: the true label, positive
relevance) and reports, per expression, the mean share of positive relevance inside the planted
region (the pixels that differ from the identity's neutral face) against the share of the image
area that region covers. A map that ignored the planted cues would score about the area share.
Neutral faces have no planted region and are left out. Run::

    .venv/bin/python benchmarks/planted_relevance.py [identities] [epochs] [size_px]
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import torch
from torch import nn

from gazealign.compare.regions import relevance_shares
from gazealign.coords import CropResize
from gazealign.explain import explain, to_stimulus_frame
from gazealign.models.bundle import ModelBundle
from gazealign.stimuli.crop import apply_crop
from gazealign.stimuli.split import split_subjects
from gazealign.stimuli.synthetic import render_spec, synthetic_specs
from gazealign.types import LABELS

ROWS, COLS = 120, 96  # stimulus frame of the rendered faces


@dataclass
class Faces:
    images: npt.NDArray[np.uint8]  # (N, S, S, 3) model input
    planted: npt.NDArray[np.bool_]  # (N, ROWS, COLS) stimulus frame
    labels: npt.NDArray[np.int64]
    subjects: list[str]
    crop: CropResize


def render(identities: int, size_px: int, seed: int = 7) -> Faces:
    crop = CropResize.resize_only(ROWS, COLS, size_px, size_px)
    images, planted, labels, subjects = [], [], [], []
    for spec in synthetic_specs(identities, seed=seed, sessions=1):
        face = render_spec(spec, rows=ROWS, cols=COLS)
        images.append(apply_crop(face.image, crop))
        planted.append(face.planted)
        labels.append(LABELS.index(spec.label))
        subjects.append(spec.subject)
    return Faces(np.stack(images), np.stack(planted), np.array(labels), subjects, crop)


def small_cnn(size_px: int, width: int = 16) -> nn.Sequential:
    """Three VGG blocks (conv-BN-ReLU twice, then max-pool) and two dense layers, 7 logits.

    BatchNorm makes training from scratch on a few dozen faces quick; LRP merges it into the
    conv before it (zennit canonizer) while explaining.
    """
    w = width
    blocks: list[nn.Module] = []
    cin = 3
    for cout in (w, 2 * w, 2 * w):
        for c0 in (cin, cout):
            blocks += [nn.Conv2d(c0, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
        blocks.append(nn.MaxPool2d(2))
        cin = cout
    side = size_px // 8
    return nn.Sequential(
        *blocks, nn.Flatten(), nn.Linear(cin * side * side, 64), nn.ReLU(), nn.Linear(64, 7)
    )


def train(
    faces: Faces, train_mask: npt.NDArray[np.bool_], *, epochs: int, seed: int
) -> ModelBundle:
    """Adam on cross-entropy with flips and small shifts; x/255 preprocessing ("thesis")."""
    torch.manual_seed(seed)
    size = faces.images.shape[1]
    bundle = ModelBundle(small_cnn(size), "thesis", size)
    x = bundle.preprocess(faces.images[train_mask])
    y = torch.from_numpy(faces.labels[train_mask])
    opt = torch.optim.Adam(bundle.model.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(seed)
    bundle.model.train()
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=gen)
        for i in range(0, len(order), 16):
            idx = order[i : i + 16]
            xb = x[idx]
            flip = torch.rand(len(idx), generator=gen) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            dx, dy = (int(v) for v in torch.randint(-2, 3, (2,), generator=gen))
            xb = torch.roll(xb, (dy, dx), (2, 3))
            loss = nn.functional.cross_entropy(bundle.model(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    bundle.model.eval()
    return bundle


def planted_shares(
    bundle: ModelBundle, faces: Faces, mask: npt.NDArray[np.bool_], method: str
) -> pd.DataFrame:
    """One row per explained face: expression, share of positive relevance in the planted
    region (stimulus frame), and the planted region's share of the image area."""
    idx = np.flatnonzero(mask & (faces.labels != LABELS.index("neutral")))
    results = explain(
        bundle, faces.images[idx], method=method, target=faces.labels[idx], sign="positive"
    )
    rows = []
    for i, r in zip(idx, results, strict=True):
        stim = to_stimulus_frame(r.map, faces.crop).values
        planted = faces.planted[i]
        share = relevance_shares(stim, {"planted": planted}, regions=("planted",))["planted"]
        rows.append(
            {
                "method": method,
                "expression": LABELS[faces.labels[i]],
                "relevance_share": share,
                "area_share": float(planted.mean()),
            }
        )
    return pd.DataFrame(rows)


def summary(shares: pd.DataFrame) -> pd.DataFrame:
    """Per method and expression: mean relevance share, mean area share, their ratio, n."""
    g = shares.groupby(["method", "expression"])
    out = g.agg(
        relevance_share=("relevance_share", "mean"),
        area_share=("area_share", "mean"),
        n=("relevance_share", "size"),
    ).reset_index()
    out["ratio"] = out["relevance_share"] / out["area_share"]
    return out


def main() -> None:
    identities = int(sys.argv[1]) if len(sys.argv) > 1 else 24
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 48
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    faces = render(identities, size)
    split = split_subjects(faces.subjects, test_fraction=0.25, val_fraction=0.0, seed=1)
    test = np.array([split[s] == "test" for s in faces.subjects])
    print(
        f"rendered {len(faces.labels)} faces {ROWS}x{COLS} -> {size} px in {time.perf_counter() - t0:.0f} s"
    )
    t0 = time.perf_counter()
    bundle = train(faces, ~test, epochs=epochs, seed=0)
    with torch.no_grad():
        pred = bundle.model(bundle.preprocess(faces.images[test])).argmax(1).numpy()
    acc = float((pred == faces.labels[test]).mean())
    print(
        f"trained on {int((~test).sum())} faces in {time.perf_counter() - t0:.0f} s; identity-disjoint "
        f"test accuracy {acc:.3f} on {int(test.sum())} faces of {len(set(np.array(faces.subjects)[test]))} identities"
    )
    methods = ["lrp_epsilon_plus_flat", "lrp_epsilon_gamma_box", "gradcam", "integrated_gradients"]
    shares = pd.concat([planted_shares(bundle, faces, test, m) for m in methods])
    # Control: the same architecture untrained (random weights, BatchNorm at its init). What it
    # scores comes from image structure alone (edges, contrast of the features), not learning.
    untrained = train(faces, ~test, epochs=0, seed=0)
    control = pd.concat([planted_shares(untrained, faces, test, m) for m in methods])
    control["method"] = control["method"] + " (untrained control)"
    table = summary(shares)
    print("| method | expression | relevance in planted region | planted area share | ratio | n |")
    print("|---|---|---|---|---|---|")
    for r in table.itertuples():
        print(
            f"| {r.method} | {r.expression} | {r.relevance_share:.3f} | {r.area_share:.3f} | "
            f"{r.ratio:.1f}x | {r.n} |"
        )
    both = pd.concat([shares, control])
    overall = both.groupby("method")[["relevance_share", "area_share"]].mean()
    for m, share, area in overall.itertuples():
        print(f"{m}: mean share {share:.3f} vs area {area:.3f}")


if __name__ == "__main__":
    main()
