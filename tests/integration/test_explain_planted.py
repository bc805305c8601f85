"""On synthetic faces, a small trained CNN's LRP relevance falls on the planted diagnostic regions
more than their share of the image area (benchmarks/planted_relevance.py, scaled down)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import planted_relevance as pr


@pytest.mark.slow
def test_lrp_relevance_beats_area_share_on_planted_regions() -> None:
    torch.set_num_threads(1)
    faces = pr.render(12, 48)
    split = pr.split_subjects(faces.subjects, test_fraction=0.25, val_fraction=0.0, seed=1)
    test = np.array([split[s] == "test" for s in faces.subjects])
    bundle = pr.train(faces, ~test, epochs=30, seed=0)
    with torch.no_grad():
        pred = bundle.model(bundle.preprocess(faces.images[test])).argmax(1).numpy()
    assert (pred == faces.labels[test]).mean() > 2 / 7  # it learned something (chance 1/7)

    shares = pr.planted_shares(bundle, faces, test, "lrp_epsilon_plus_flat")
    assert len(shares) == 18  # 3 held-out identities x 6 expressions (neutral has no region)
    assert shares["relevance_share"].notna().all()
    # mean over held-out faces: measured 0.17 against an area share of 0.047
    share = shares["relevance_share"].mean()
    assert share > 2 * shares["area_share"].mean()
    # and it is learned: the same net untrained puts about the area share there (measured 0.05)
    control = pr.planted_shares(pr.train(faces, ~test, epochs=0, seed=0), faces, test,
                                "lrp_epsilon_plus_flat")  # fmt: skip
    assert share > 2 * control["relevance_share"].mean()
