"""Figure functions over small hand-made tables: values, layout and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gazealign.errors import DataError
from gazealign.report import figures as F
from gazealign.types import LABELS


def test_scale_to_percentile_divides_by_the_percentile_and_clips() -> None:
    values = np.arange(101, dtype=np.float64).reshape(1, 101)  # 0..100: 99th percentile is 99
    scaled = F.scale_to_percentile(values, percentile=99)
    np.testing.assert_allclose(scaled[0, :100], np.arange(100) / 99.0)
    assert scaled[0, 100] == 1.0  # above the percentile: full strength
    # negative relevance is not drawn; a sparse map falls back to its maximum
    np.testing.assert_array_equal(
        F.scale_to_percentile(np.array([[-3.0, 0.0, 2.0]])), [[0, 0, 1.0]]
    )
    sparse = np.zeros((10, 10))
    sparse[3, 4] = 5.0
    assert F.scale_to_percentile(sparse)[3, 4] == 1.0
    assert not F.scale_to_percentile(np.zeros((3, 3))).any()


def test_colour_scale_rule_names_the_percentile() -> None:
    assert "own 95th percentile" in F.colour_scale_rule(95)
    assert "own 99th percentile" in F.colour_scale_rule()


def test_label_order_puts_all_first_then_the_label_vocabulary() -> None:
    assert F.label_order(["sad", "zzz", "all", "angry", "sad"]) == ["all", "angry", "sad", "zzz"]


def test_confusion_counts_cross_tabulates_in_label_order() -> None:
    counts = F.confusion_counts(["happy", "afraid", "afraid"], ["happy", "surprised", "afraid"])
    assert list(counts.index) == ["afraid", "happy"]
    assert list(counts.columns) == ["afraid", "happy", "surprised"]
    assert counts.loc["afraid", "surprised"] == 1 and counts.loc["afraid", "afraid"] == 1
    assert int(counts.to_numpy().sum()) == 3


def _forest() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "label": ["all", "happy", "afraid"],
            "contrast": ["human - network"] * 3,
            "estimate": [0.1, 0.3, -0.05],
            "ci_low": [0.05, 0.2, -0.2],
            "ci_high": [0.15, 0.4, 0.1],
        }
    )


def test_forest_plot_draws_each_estimate_and_interval() -> None:
    fig = F.forest_figure(_forest())
    (ax,) = fig.axes
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["all", "afraid", "happy"]  # top to bottom: all, then LABELS order
    lines = [
        line
        for line in ax.get_lines()
        if len(line.get_xdata()) == 2 and line.get_linestyle() == "-"
    ]
    intervals = sorted((float(x[0]), float(x[1])) for x in (line.get_xdata() for line in lines))
    assert intervals == [(-0.2, 0.1), (0.05, 0.15), (0.2, 0.4)]
    markers = sorted(
        float(line.get_xdata()[0]) for line in ax.get_lines() if len(line.get_xdata()) == 1
    )
    assert markers == [-0.05, 0.1, 0.3]


def test_missing_column_is_a_clear_error() -> None:
    with pytest.raises(DataError, match=r"forest figure: table lacks column\(s\) \['ci_high'\]"):
        F.forest_figure(_forest().drop(columns="ci_high"))
    with pytest.raises(DataError, match="no rows"):
        F.perturbation_figure(pd.DataFrame(columns=list(F.CURVE_COLUMNS)))


def _curves() -> pd.DataFrame:
    rows = []
    for label in ("all", "happy"):
        for ordering in ("human", "lrp", "random"):
            for step in range(5):
                rows.append(
                    {
                        "label": label,
                        "ordering": ordering,
                        "step": step,
                        "value": 1 - step / 4,
                        "ci_low": 0.0,
                        "ci_high": 1.0,
                    }
                )
    return pd.DataFrame(rows)


def test_perturbation_figure_has_a_panel_per_label_and_a_line_per_ordering() -> None:
    fig = F.perturbation_figure(_curves())
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["all images", "happy"]
    lines = visible[0].get_lines()
    assert {line.get_label() for line in lines} == {"human", "lrp", "random"}
    colours = {line.get_label(): line.get_color() for line in lines}
    assert colours == {"human": F.HUMAN_COLOUR, "lrp": F.NETWORK_COLOUR, "random": F.RANDOM_COLOUR}
    np.testing.assert_allclose(lines[0].get_ydata(), [1, 0.75, 0.5, 0.25, 0])


def test_overview_has_face_human_network_rows_and_optional_curves() -> None:
    rng = np.random.default_rng(0)
    examples = [
        F.OverviewExample(
            lab,
            f"id_{lab}",
            rng.integers(0, 255, (12, 10, 3), dtype=np.uint8),
            rng.random((12, 10)),
            None,
        )
        for lab in ("happy", "afraid")
    ]
    fig = F.overview_figure(examples, method="lrp")
    assert len(fig.axes) == 6
    assert [fig.axes[j].get_title() for j in (0, 1)] == ["afraid", "happy"]  # LABELS order
    assert fig.axes[4].texts[0].get_text() == "no map"  # network map absent for afraid
    with_curves = F.overview_figure(examples, method="lrp", curves=_curves())
    assert len(with_curves.axes) == 8
    with pytest.raises(DataError, match="does not match its image"):
        F.overview_figure([F.OverviewExample("sad", "x", examples[0].image, np.ones((3, 3)), None)])


def test_metrics_figure_draws_the_ceiling_as_a_line() -> None:
    table = pd.DataFrame(
        {
            "metric": ["NSS"] * 3,
            "map": ["lrp", "noise ceiling", "centre bias"],
            "value": [1.0, 2.0, 0.5],
            "ci_low": [0.9, 1.8, 0.4],
            "ci_high": [1.1, 2.2, 0.6],
        }
    )
    (ax,) = F.metrics_figure(table).axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["lrp", "centre bias"]
    horizontal = [
        line
        for line in ax.get_lines()
        if np.ptp(line.get_ydata()) == 0 and len(line.get_ydata()) == 2
    ]
    assert [float(line.get_ydata()[0]) for line in horizontal] == [2.0]


def test_region_and_quality_and_confusion_figures_draw() -> None:
    regions = pd.DataFrame(
        {
            "label": ["happy"] * 4,
            "region": ["eyes", "mouth"] * 2,
            "source": ["human"] * 2 + ["network"] * 2,
            "share": [0.6, 0.2, 0.1, 0.7],
        }
    )
    (ax,) = [a for a in F.region_shares_figure(regions).axes if a.get_visible()]
    heights = sorted(round(p.get_height(), 6) for p in ax.patches)
    assert heights == [0.1, 0.2, 0.6, 0.7]
    quality = pd.DataFrame(
        {"subject": ["P2", "P1"], "trials_kept": [5, 7], "dropped_incorrect": [2, 0]}
    )
    (qax,) = F.quality_figure(quality).axes
    assert sorted(p.get_width() for p in qax.patches) == [0, 2, 5, 7]
    counts = F.confusion_counts(list(LABELS), list(LABELS))
    fig = F.confusion_figure({"network": counts})
    assert "accuracy 1.00" in fig.axes[0].get_title()


def test_save_figure_writes_each_format_with_identical_bytes_twice(tmp_path: Path) -> None:
    fig = F.forest_figure(_forest())
    first = F.save_figure(fig, tmp_path / "a", "forest", ["png", "pdf"], dpi=50)
    second = F.save_figure(
        F.forest_figure(_forest()), tmp_path / "b", "forest", ["png", "pdf"], dpi=50
    )
    assert set(first) == {"png", "pdf"}
    for fmt in ("png", "pdf"):
        assert first[fmt].read_bytes() == second[fmt].read_bytes()
    assert first["pdf"].read_bytes().startswith(b"%PDF")
