"""Data-quality measures: pymovements' documented values, a calibration check, and the tables."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import chi2

from gazealign.gaze.align import AlignOptions, align_recording
from gazealign.gaze.quality import (
    BCEA_CONFIDENCE,
    bcea,
    data_loss,
    s2s_rms,
    validation_before,
    validations,
)

sys.path.insert(0, str(Path(__file__).parent))
from test_gaze_align import SCREEN, STIMULI, _recording, _trial


def test_data_loss_matches_the_pymovements_docstring_examples() -> None:
    # pymovements.measure.data_loss examples: a time gap of one sample -> 1 lost ...
    t = np.array([0.0, 1.0, 2.0, 4.0])
    ok = np.zeros(4)
    assert data_loss(t, ok, ok, sampling_rate_hz=1000.0) == (1, 5)
    # ... and gaps plus invalid rows (None, None, [1, None]) -> 6 lost of 9 expected
    t = np.array([1.0, 2, 3, 4, 5, 9])
    x = np.array([1.0, 1, np.nan, np.nan, 1, 1])
    y = np.array([1.0, 1, np.nan, np.nan, 1, np.nan])
    assert data_loss(t, x, y, sampling_rate_hz=1000.0) == (6, 9)


def test_s2s_rms_from_its_formula() -> None:
    x = np.arange(10) * 0.1
    y = np.zeros(10)
    assert math.isclose(s2s_rms(x, y), 0.1)
    x[5] = np.nan  # the two pairs that touch it are left out
    assert math.isclose(s2s_rms(x, y), 0.1)
    d = np.array([3.0, 4.0])  # one displacement of 5
    assert s2s_rms(np.array([0.0, 3.0]), np.array([0.0, 4.0])) == math.hypot(*d)


def test_bcea_formula_and_coverage_by_simulation() -> None:
    rng = np.random.default_rng(4)
    cov = np.array([[0.04, 0.015], [0.015, 0.02]])
    xy = rng.multivariate_normal([1.0, -2.0], cov, size=200_000)
    area = bcea(xy[:, 0], xy[:, 1])
    k = chi2.ppf(BCEA_CONFIDENCE / 100, df=2)  # -2 ln(1 - P), the chi-square quantile
    sx, sy = np.std(xy, axis=0, ddof=1)
    rho = np.corrcoef(xy.T)[0, 1]
    assert math.isclose(area, k * math.pi * sx * sy * math.sqrt(1 - rho**2), rel_tol=1e-9)
    # the ellipse of that area (Mahalanobis distance^2 <= k) holds 68.27 % of the samples
    centred = xy - xy.mean(axis=0)
    d2 = np.einsum("ij,jk,ik->i", centred, np.linalg.inv(np.cov(xy.T)), centred)
    assert abs((d2 <= k).mean() - BCEA_CONFIDENCE / 100) < 0.005
    # and equals pi * a * b of the ellipse with those semi-axes
    eig = np.linalg.eigvalsh(np.cov(xy.T))
    assert math.isclose(area, math.pi * math.sqrt(k * eig[0]) * math.sqrt(k * eig[1]), rel_tol=1e-9)
    assert math.isnan(bcea(np.ones(5), np.arange(5.0)))  # no horizontal spread
    assert math.isnan(bcea(np.array([1.0]), np.array([1.0])))


def test_validation_messages_are_read_with_time() -> None:
    msgs = pd.DataFrame(
        {
            "time_ms": [5.0, 10.0, 50.0],
            "text": [
                "!CAL VALIDATION HV9 L LEFT  GOOD ERROR 0.35 avg. 0.71 max  OFFSET 0.20 deg.",
                "TRIALID 1",
                "!CAL VALIDATION HV9 L LEFT  POOR ERROR 1.20 avg. 2.50 max  OFFSET 1.0 deg.",
            ],
        }
    )
    table = validations(msgs)
    assert table.values.tolist() == [[5.0, 0.35, 0.71], [50.0, 1.2, 2.5]]
    assert validation_before(table, 20.0) == (0.35, 0.71)
    assert validation_before(table, 60.0) == (1.2, 2.5)
    assert all(math.isnan(v) for v in validation_before(table, 1.0))


def test_quality_columns_in_the_trials_and_quality_tables(tmp_path: Path) -> None:
    header = (
        "MSG\t1 DISPLAY_COORDS 0 0 999 799\n"
        "MSG\t2 !CAL VALIDATION HV9 L LEFT  GOOD ERROR 0.35 avg. 0.71 max  OFFSET 0.2 deg.\n"
    )
    rec = _recording(
        tmp_path,
        _trial(1, 10_000, "AF01HAS", "happy", [(10_160, 10_400, 440.0, 320.0)]),
        header=header,
    )
    out = align_recording(rec, STIMULI, AlignOptions(screen=SCREEN, stimulus_scale=2.0))
    row = out.trials.iloc[0]
    # window [10_100, 10_900): 800 samples expected, every 50th missing
    assert math.isclose(row["data_loss_share"], 16 / 800)
    assert row["rms_s2s_deg"] == 0.0  # the samples do not move
    assert math.isnan(row["bcea_deg2"])  # no spread: undefined, as in pymovements
    assert (row["validation_error_avg_deg"], row["validation_error_max_deg"]) == (0.35, 0.71)
    q = out.quality
    assert math.isclose(q["data_loss_share"], 16 / 800) and q["rms_s2s_deg"] == 0.0
    assert (q["validation_error_deg"], q["validation_error_max_deg"]) == (0.35, 0.71)
    assert (q["samples_impossible"], q["fixation_events_impossible"]) == (0, 0)
