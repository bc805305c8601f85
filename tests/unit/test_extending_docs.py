"""The worked examples of docs/extending.md run as written, each as one new plug-in file.

Every ``# file: NAME.py`` code block of the page is written to a folder and named in a study's
``plugins``; nothing else is edited, and the new name then works where the study uses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from gazealign.cli.registries import registries
from gazealign.compare.fills import make_fill
from gazealign.compare.scoring import score_map
from gazealign.config import load_study
from gazealign.explain import explain
from gazealign.gaze.events import detect_fixations
from gazealign.gaze.study import find_recordings, read_recordings
from gazealign.models.bundle import ModelBundle
from gazealign.pipeline.artifacts import declare_folder, table
from gazealign.pipeline.store import write_table
from gazealign.report.html import build_report
from gazealign.report.inputs import ReportInputs
from gazealign.stimuli.layout_registry import scan_layout

DOC = Path(__file__).resolve().parents[2] / "docs" / "extending.md"


def examples() -> dict[str, str]:
    """File name -> code of every ``# file:`` block of the page."""
    blocks = re.findall(r"```python\n# file: (\S+)\n(.*?)```", DOC.read_text(), flags=re.S)
    return {name: code for name, code in blocks}


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder holding the examples; what they register is removed afterwards."""
    for reg, _ in registries().values():
        reg.discover()  # the built-ins first, so that restoring keeps them
    saved = {role: dict(reg._entries) for role, (reg, _) in registries().items()}
    for name, code in examples().items():
        (tmp_path / name).write_text(code)
    try:
        yield tmp_path
    finally:
        for role, (reg, _) in registries().items():
            reg._entries.clear()
            reg._entries.update(saved[role])


def study(folder: Path, plugin: str, body: str) -> Path:
    path = folder / f"study_{plugin.removesuffix('.py')}.toml"
    path.write_text(f'plugins = ["{plugin}"]\n{body}')
    return path


def test_the_page_has_one_example_per_role() -> None:
    assert sorted(examples()) == sorted(
        [
            "name_label_layout.py",
            "xy_text_format.py",
            "two_point_ivt.py",
            "plain_gradient.py",
            "fixated_mass.py",
            "grey_fill.py",
            "entropy_section.py",
        ]
    )


def test_dataset_layout_example(plugin_dir: Path) -> None:
    from PIL import Image

    faces = plugin_dir / "faces"
    faces.mkdir()
    for name in ("s01_happy.png", "s02_sad.png", "s03_bored.png"):
        Image.fromarray(np.full((20, 16, 3), 90, np.uint8)).save(faces / name)
    config = load_study(
        study(
            plugin_dir, "name_label_layout.py", '[stimuli]\nsource = "name_label"\npath = "faces"\n'
        )
    )
    scan = scan_layout(config.stimuli, config.resolve)
    assert [(r.subject, r.label) for r in scan.records] == [("s01", "happy"), ("s02", "sad")]
    assert [(d.source_path, d.reason) for d in scan.dropped] == [("s03_bored.png", "unknown_label")]


def two_fixations(path: Path) -> None:
    """1000 Hz samples: 300 ms at (500, 500), a 20 ms saccade, 300 ms at (900, 500)."""
    rng = np.random.default_rng(0)
    t = np.arange(620.0)
    x = np.where(t < 300, 500.0, np.where(t < 320, 500.0 + 20.0 * (t - 299), 900.0))
    x = x + rng.normal(0, 0.1, t.size)
    y = 500.0 + rng.normal(0, 0.1, t.size)
    np.savetxt(path, np.column_stack([t, x, y]))


def test_gaze_format_and_detector_examples(plugin_dir: Path) -> None:
    two_fixations(plugin_dir / "p01.txt")
    config = load_study(
        study(
            plugin_dir,
            "xy_text_format.py",
            '[gaze]\nsource = "xy_text"\npath = "."\nfixations = "ivt"\n',
        )
    )
    recordings = read_recordings(
        find_recordings(config.resolve(config.gaze.path or Path()), config.gaze.source), "xy_text"
    )
    assert [r.subject for r in recordings] == ["p01"]
    screen = config.gaze.screen.geometry()
    builtin = detect_fixations(recordings[0], screen, method="ivt")
    assert len(builtin) == 2
    load_study(study(plugin_dir, "two_point_ivt.py", '[gaze]\nfixations = "ivt_two_point"\n'))
    fix = detect_fixations(recordings[0], screen, method="ivt_two_point")
    assert len(fix) == 2
    np.testing.assert_allclose(fix["x_px"], [500.0, 900.0], atol=0.5)
    np.testing.assert_allclose(fix["start_ms"], builtin["start_ms"], atol=15)


def test_explainer_example(plugin_dir: Path) -> None:
    load_study(study(plugin_dir, "plain_gradient.py", '[explain]\nmethods = ["plain_gradient"]\n'))
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(256, 7))
    bundle = ModelBundle(net, preprocessing="thesis", input_size_px=8)
    images = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    maps = explain(bundle, images, method="plain_gradient", target=[0, 3])
    assert [m.map.values.shape for m in maps] == [(8, 8), (8, 8)]
    # the gradient of a linear read-out of one conv layer: recompute it for the first image
    x = torch.tensor(images[:1].transpose(0, 3, 1, 2) / 255.0, dtype=torch.float32)
    x.requires_grad_(True)
    net(x)[0, 0].backward()
    assert x.grad is not None
    np.testing.assert_allclose(
        maps[0].map.values, x.grad[0].abs().sum(0).numpy(), rtol=1e-5, atol=1e-7
    )


def test_metric_example(plugin_dir: Path) -> None:
    config = load_study(
        study(
            plugin_dir, "fixated_mass.py", '[comparison.metrics]\nnames = ["nss", "fixated_mass"]\n'
        )
    )
    s = np.zeros((4, 5))
    s[1, 1], s[2, 3] = 3.0, 1.0
    counts = np.zeros((4, 5), np.int64)
    counts[1, 1] = 2
    got = score_map(s, counts, s, baseline_map=s, metrics=config.comparison.metrics.names)
    assert got["fixated_mass"] == 0.75
    assert np.isnan(
        score_map(-s, counts, s, baseline_map=s, metrics=["fixated_mass"])["fixated_mass"]
    )


def test_fill_example(plugin_dir: Path) -> None:
    config = load_study(
        study(plugin_dir, "grey_fill.py", '[comparison.perturbation]\nfill = "grey"\n')
    )
    image = np.zeros((6, 6, 3), np.uint8)
    out = make_fill(config.comparison.perturbation.fill, image, seed=0)
    assert out.shape == image.shape and (out == 128).all()


def test_report_section_example(plugin_dir: Path) -> None:
    load_study(study(plugin_dir, "entropy_section.py", ""))
    stage_dir = plugin_dir / "human_map_entropy"
    entropy = table(
        "entropy", "one row per human map", {"stimulus_id": "", "entropy_bits": "", "max_bits": ""}
    )
    declare_folder(stage_dir, [entropy])
    rows = {"stimulus_id": ["a", "b", "c"], "entropy_bits": [2.0, 3.0, 7.0], "max_bits": [8.0] * 3}
    write_table(stage_dir / "entropy.parquet", pd.DataFrame(rows))
    inputs = ReportInputs(stage_dirs={"human_map_entropy": stage_dir})
    html = build_report(inputs, plugin_dir / "out").read_text(encoding="utf-8")
    ids = re.findall(r'<section id="([^"]+)">', html)
    assert ids.index("regions") + 1 == ids.index("entropy") == ids.index("metrics") - 1
    body = html.split('<section id="entropy">', 1)[1].split("</section>", 1)[0]
    assert "<h2>Spread of the observers&#x27; gaze</h2>" in body
    assert "38% of a uniform spread, over 3 faces" in body  # median(2/8, 3/8, 7/8) = 0.375
    html = build_report(ReportInputs(), plugin_dir / "out2").read_text(encoding="utf-8")
    body = html.split('<section id="entropy">', 1)[1].split("</section>", 1)[0]
    assert "Not available: the run has no finished human_map_entropy stage." in body
