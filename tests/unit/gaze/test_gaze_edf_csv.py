"""EDF files (eyelinkio's own 1000 Hz test recordings) and the CSV formats."""

from __future__ import annotations

from pathlib import Path

import eyelinkio  # the dev extra installs it: its real recordings are the test data
import numpy as np
import pandas as pd
import pytest

from gazealign.coords import Placement, ScreenGeometry
from gazealign.errors import DataError
from gazealign.gaze.align import AlignOptions, StimulusInfo, align_recording
from gazealign.gaze.csvfmt import read_fixations_csv, read_samples_csv
from gazealign.gaze.edf import read_edf
from gazealign.gaze.events import detect_fixations
from gazealign.gaze.trials import segment_trials

DATA = Path(eyelinkio.__file__).parent / "tests" / "data"
SCREEN = ScreenGeometry(1920, 1080, 53.0, 30.0, 65.0)


def test_real_monocular_edf() -> None:
    # Reference values: eyelinkio.read_edf on the same file (its 'times' are in seconds).
    rec = read_edf(DATA / "test_raw.edf")
    assert rec.n_samples == 66827 and rec.sampling_rate_hz == 1000.0
    assert rec.time_ms[0] == 0.0 and rec.time_ms[-1] == pytest.approx(66826.0)
    assert rec.eyes == ("L",) and rec.display_px == (1920, 1080)
    assert rec.validation_error_deg == (0.29,)
    counts = rec.events["kind"].value_counts().to_dict()
    assert counts == {"fixation": 21, "saccade": 19, "blink": 7}
    first = rec.events[rec.events["kind"] == "fixation"].iloc[0]
    assert (first["start_ms"], first["end_ms"], first["duration_ms"]) == pytest.approx(
        (7.0, 43.0, 37.0)
    )
    assert first["x_px"] == pytest.approx(742.0)
    trials = segment_trials(rec)  # TRIALID n ... SYNCTIME
    assert [t.trial_id for t in trials] == [str(n) for n in range(1, 21)]
    assert all(t.onset_ms is not None and t.offset_ms > t.onset_ms for t in trials)


def test_real_binocular_edf_picks_the_better_eye() -> None:
    rec = read_edf(DATA / "test_raw_binocular.edf")
    assert rec.eyes == ("L", "R") and rec.sampling_rate_hz == 500.0
    assert rec.pick_eye() == "R"  # more valid samples than the left eye in this file
    fix = rec.events[rec.events["kind"] == "fixation"]
    assert set(fix["eye"]) == {"L", "R"}


@pytest.mark.parametrize("name", ["test_raw.edf", "test_2_raw.edf"])
def test_detectors_find_the_trackers_fixations_in_real_data(name: str) -> None:
    """On real 1000 Hz data I-VT (30 deg/s) covers most of the EyeLink parser's fixations."""
    rec = read_edf(DATA / name)
    tracker = detect_fixations(rec, SCREEN, method="events")
    mids = ((tracker["start_ms"] + tracker["end_ms"]) / 2).to_numpy()
    for method in ("ivt", "idt"):
        found = detect_fixations(rec, SCREEN, method=method)
        s, e = found["start_ms"].to_numpy(), found["end_ms"].to_numpy()
        covered = np.mean([((s <= m) & (e >= m)).any() for m in mids])
        assert covered > 0.85, (method, covered)


def test_text_renamed_edf(tmp_path: Path) -> None:
    path = tmp_path / "x.edf"
    path.write_text("MSG 1 hello\n")
    with pytest.raises(DataError, match="not an EyeLink EDF file"):
        read_edf(path)


def test_samples_csv(tmp_path: Path) -> None:
    rows = []
    for trial, stim, resp in ((1, "AF01HAS", "happy"), (2, "AM02AFS", "afraid")):
        for k in range(300):
            x = 500.0 if k < 150 else 540.0
            rows.append((trial, stim, resp, 1000.0 * trial + 2 * k, x, 400.0))
    table = pd.DataFrame(
        rows, columns=["trial", "stimulus_id", "response", "time_ms", "x_px", "y_px"]
    )
    table.loc[10, "x_px"] = np.nan  # track loss
    path = tmp_path / "p9.csv"
    table.to_csv(path, index=False)
    rec = read_samples_csv(path)
    assert rec.subject == "p9" and rec.sampling_rate_hz == 500.0 and rec.n_samples == 600
    assert rec.block.max() == 1  # one block per trial
    trials = segment_trials(rec)
    assert [(t.stimulus_id, t.response) for t in trials] == [
        ("AF01HAS", "happy"),
        ("AM02AFS", "afraid"),
    ]
    stimuli = {
        "AF01HAS": StimulusInfo("AF01HAS", "happy", 100, 80),
        "AM02AFS": StimulusInfo("AM02AFS", "afraid", 100, 80),
    }
    small = ScreenGeometry(1000, 800, 40.0, 32.0, 60.0)  # 26 px/deg: the 40 px step is 1.5 deg
    out = align_recording(
        rec, stimuli, AlignOptions(screen=small, stimulus_scale=2.0, fixations="idt")
    )
    assert out.trials["kept"].all()
    assert len(out.fixations) == 4  # two fixations per trial, split by the 40 px step
    assert out.trials["samples_lost"].tolist() == [1, 0]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda t: t.drop(columns="trial"), r"missing column\(s\) \['trial'\]"),
        (lambda t: t.assign(x_px=["a"] + [1.0] * (len(t) - 1)), r"p9.csv:2: column 'x_px'"),
        (lambda t: t.assign(time_ms=t["time_ms"][::-1].to_numpy()), "does not increase"),
    ],
)
def test_samples_csv_errors(tmp_path: Path, change, match: str) -> None:
    table = pd.DataFrame(
        {
            "trial": [1] * 5,
            "stimulus_id": ["a"] * 5,
            "time_ms": np.arange(5.0),
            "x_px": 1.0,
            "y_px": 1.0,
        }
    )
    path = tmp_path / "p9.csv"
    change(table).to_csv(path, index=False)
    with pytest.raises(DataError, match=match):
        read_samples_csv(path)


def test_fixations_csv_both_frames(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {
            "subject": ["a", "a", "b"],
            "trial": [1, 1, 1],
            "stimulus_id": ["AF01HAS"] * 3,
            "x_px": [500.0, 10.0, 440.0],
            "y_px": [400.0, 10.0, 320.0],
            "onset_ms": [0.0, 250.0, 100.0],
            "duration_ms": [240.0, 200.0, 300.0],
            "response": ["happy", "happy", "sad"],
            "frame": ["screen", "stimulus", "screen"],
        }
    )
    path = tmp_path / "fix.csv"
    table.to_csv(path, index=False)
    screen = ScreenGeometry(1000, 800, 40.0, 32.0, 60.0)
    placements = {"AF01HAS": Placement.centred(screen, 80, 100, 2.0)}
    recs = read_fixations_csv(path, screen=screen, placements=placements)
    assert [r.subject for r in recs] == ["a", "b"]
    stimuli = {"AF01HAS": StimulusInfo("AF01HAS", "happy", 100, 80)}
    out = align_recording(recs[0], stimuli, AlignOptions(screen=screen, stimulus_scale=2.0))
    np.testing.assert_allclose(out.fixations[["x_px", "y_px"]].to_numpy(), [[40, 50], [10, 10]])
    np.testing.assert_allclose(out.fixations["onset_ms"], [0.0, 250.0])
    np.testing.assert_allclose(out.fixations["duration_ms"], [240.0, 200.0])
    b = align_recording(recs[1], stimuli, AlignOptions(screen=screen, stimulus_scale=2.0))
    assert b.trials["drop_reason"].tolist() == ["incorrect"]
    table.loc[1, "frame"] = "model"
    table.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"fix.csv:3: frame must be"):
        read_fixations_csv(path, screen=screen, placements=placements)
