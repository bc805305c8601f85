"""Can a small CNN learn the synthetic expressions across identities? And how fast do faces render?

Renders IDENTITIES x SESSIONS x 7 synthetic faces, resizes them to SIZE px (whole image, as the
demo's crop = "none"), holds out a quarter of the identities, trains a small CNN and prints the
identity-disjoint test accuracy and the confusion matrix. Run:

    .venv/bin/python benchmarks/stimuli_synthetic_cnn.py [identities] [sessions] [epochs] [size]
"""

from __future__ import annotations

import sys
import time

import cv2
import numpy as np
import torch
from torch import nn

from gazealign.stimuli.split import split_subjects
from gazealign.stimuli.synthetic import render_spec, synthetic_specs
from gazealign.types import LABELS


def main() -> None:
    identities = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    sessions = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 64
    torch.set_num_threads(1)
    torch.manual_seed(0)
    specs = synthetic_specs(identities, seed=7, sessions=sessions)
    t0 = time.perf_counter()
    images, labels, subjects = [], [], []
    for spec in specs:
        face = render_spec(spec, rows=160, cols=128)
        images.append(cv2.resize(face.image, (size, size), interpolation=cv2.INTER_AREA))
        labels.append(LABELS.index(spec.label))
        subjects.append(spec.subject)
    render_s = time.perf_counter() - t0
    print(
        f"rendered {len(specs)} faces (160x128, with neutral reference) in {render_s:.1f} s "
        f"= {1000 * render_s / len(specs):.0f} ms per face"
    )
    split = split_subjects(subjects, test_fraction=0.25, val_fraction=0.0, seed=1)
    x = torch.tensor(np.stack(images)).permute(0, 3, 1, 2).float() / 255.0
    y = torch.tensor(labels)
    test = torch.tensor([split[s] == "test" for s in subjects])
    xtr, ytr, xte, yte = x[~test], y[~test], x[test], y[test]
    print(
        f"train {len(ytr)} images, test {len(yte)} images of {sum(v == 'test' for v in split.values())} unseen identities"
    )

    def block(cin: int, cout: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)
        )

    net = nn.Sequential(
        block(3, 16), block(16, 32), block(32, 64), block(64, 64),
        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Dropout(0.3), nn.Linear(256, 7),
    )  # fmt: skip
    opt = torch.optim.Adam(net.parameters(), lr=2e-3, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(ytr), generator=gen)
        for i in range(0, len(order), 32):
            idx = order[i : i + 32]
            xb = xtr[idx]
            flip = torch.rand(len(idx), generator=gen) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            dx, dy = (int(v) for v in torch.randint(-3, 4, (2,), generator=gen))
            xb = torch.roll(xb, (dy, dx), (2, 3))
            xb = xb * (0.8 + 0.4 * torch.rand(len(idx), 1, 1, 1, generator=gen))
            loss = nn.functional.cross_entropy(net(xb), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch % 5 == 4 or epoch == epochs - 1:
            net.eval()
            with torch.no_grad():
                pred = net(xte).argmax(1)
            print(
                f"epoch {epoch + 1}: loss {loss.item():.3f}, identity-disjoint test accuracy {(pred == yte).float().mean():.3f}"
            )
    print(f"training took {time.perf_counter() - t0:.0f} s")
    conf = np.zeros((7, 7), dtype=int)
    for t, p in zip(yte.tolist(), pred.tolist(), strict=True):
        conf[t, p] += 1
    print("confusion (rows true, cols predicted):", ", ".join(LABELS))
    print(conf)


if __name__ == "__main__":
    main()
