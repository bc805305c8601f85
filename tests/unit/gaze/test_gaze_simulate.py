"""Simulated observers: files an EyeLink would write, read back exactly; parameters recovered."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from gaze_fakes import COLS, ROWS, SCALE, SCREEN, face_aois, fake_stimuli

from gazealign.coords import Placement
from gazealign.errors import DataError
from gazealign.gaze.align import AlignOptions, StimulusInfo
from gazealign.gaze.aoi import REGIONS, assign_regions, region_masks
from gazealign.gaze.asc import read_asc
from gazealign.gaze.events import detect_fixations
from gazealign.gaze.simulate import (
    DEFAULT_AOI_PREFERENCES,
    ObserverModel,
    SimStimulus,
    default_confusion,
    mean_region_layout,
    simulate_observers,
)
from gazealign.gaze.study import align_all
from gazealign.gaze.trials import segment_trials
from gazealign.pipeline.executors import ProcessExecutor
from gazealign.types import LABELS


def _infos(stims: list[SimStimulus]) -> dict[str, StimulusInfo]:
    return {s.stimulus_id: StimulusInfo(s.stimulus_id, s.label, ROWS, COLS) for s in stims}


def test_files_read_back_exactly(tmp_path: Path) -> None:
    stims = fake_stimuli(1)
    sim = simulate_observers(
        stims, participants=2, out_dir=tmp_path, screen=SCREEN, stimulus_scale=SCALE, seed=3
    )
    assert [p.name for p in sim.recordings] == ["p01.asc", "p02.asc"]
    text = sim.recordings[0].read_text()
    assert "SIMULATED DATA" in text.splitlines()[6]
    rec = read_asc(sim.recordings[0])
    assert dict(rec.warnings) == {}
    assert rec.display_px == (1920, 1080) and rec.sampling_rate_hz == 1000.0
    assert len(rec.validation_error_deg) == 1
    truth = sim.truth[sim.truth["subject"] == "p01"].sort_values("start_ms")
    fix = rec.events[rec.events["kind"] == "fixation"].sort_values("start_ms")
    np.testing.assert_array_equal(fix["start_ms"], truth["start_ms"])
    np.testing.assert_array_equal(fix["end_ms"], truth["end_ms"])
    np.testing.assert_array_equal(fix["duration_ms"], truth["duration_ms"])
    # EFIX positions are the mean of noisy samples: within 0.1 deg of the simulated target
    err = np.hypot(
        fix["x_px"].to_numpy() - truth["screen_x_px"], fix["y_px"].to_numpy() - truth["screen_y_px"]
    )
    assert err.max() < 0.1 * SCREEN.px_per_deg
    trials = segment_trials(rec)
    assert len(trials) == len(stims)
    expected = sim.trials[sim.trials["subject"] == "p01"]
    assert [t.stimulus_id for t in trials] == expected["stimulus_id"].tolist()
    assert [t.response for t in trials] == expected["response"].tolist()
    for t in trials:
        assert t.image is not None and t.image.anchor == "CENTER"
        assert (t.image.width_px, t.image.height_px) == (COLS * SCALE, ROWS * SCALE)
        assert 2000 <= t.offset_ms - t.onset_ms <= 4000
    blinks = rec.events[rec.events["kind"] == "blink"]
    for _, b in blinks.iterrows():  # samples inside a blink are missing
        inside = (rec.time_ms >= b["start_ms"]) & (rec.time_ms <= b["end_ms"])
        assert np.isnan(rec.left[inside, 0]).all() and (rec.left[inside, 2] == 0).all()


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    stims = fake_stimuli(1)[:3]
    runs = []
    for k, seed in enumerate((5, 5, 6)):
        out = tmp_path / str(k)
        simulate_observers(
            stims, participants=1, out_dir=out, screen=SCREEN, stimulus_scale=SCALE, seed=seed
        )
        runs.append((out / "p01.asc").read_bytes())
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_participants_simulated_in_worker_processes_write_the_same_files(tmp_path: Path) -> None:
    """Each participant draws from its own seed: simulated in two worker processes (as
    ``study.workers = 2`` does) or last-first, the files and the truth are byte-identical."""
    stims = fake_stimuli(1)[:3]

    def last_first(fn: Callable[[Any], Any], args: Sequence[Any]) -> list[Any]:
        return [fn(a) for a in reversed(args)][::-1]

    executor = ProcessExecutor(2)
    mappers: dict[str, Any] = {"serial": None, "last_first": last_first, "two": executor.map_calls}
    runs = {}
    try:
        for name, mapper in mappers.items():
            runs[name] = simulate_observers(
                stims,
                participants=3,
                out_dir=tmp_path / name,
                screen=SCREEN,
                stimulus_scale=SCALE,
                seed=5,
                map_fn=mapper,
            )
    finally:
        executor.close()
    serial = runs.pop("serial")
    for name, sim in runs.items():
        assert [p.name for p in sim.recordings] == ["p01.asc", "p02.asc", "p03.asc"]
        for a, b in zip(serial.recordings, sim.recordings, strict=True):
            assert a.read_bytes() == b.read_bytes(), (name, b.name)
        for part in ("truth", "trials", "preferences"):
            pd.testing.assert_frame_equal(getattr(serial, part), getattr(sim, part))
    assert serial.recordings[0].read_bytes() != serial.recordings[1].read_bytes()


def test_binocular_2000hz(tmp_path: Path) -> None:
    stims = fake_stimuli(1)[:2]
    model = ObserverModel(sampling_rate_hz=2000.0, eyes="LR")
    sim = simulate_observers(
        stims, participants=1, out_dir=tmp_path, screen=SCREEN, stimulus_scale=SCALE, seed=1,
        model=model,
    )  # fmt: skip
    rec = read_asc(sim.recordings[0])
    assert rec.eyes == ("L", "R") and rec.sampling_rate_hz == 2000.0
    assert np.any(rec.time_ms % 1 == 0.5)
    ok = np.isfinite(rec.left[:, 0])
    assert np.array_equal(ok, np.isfinite(rec.right[:, 0]))  # a blink closes both eyes
    np.testing.assert_allclose(rec.right[ok, 0] - rec.left[ok, 0], 3.0, atol=0.11)


def test_default_confusion_is_a_distribution_with_fear_taken_for_surprise() -> None:
    conf = default_confusion()
    for label in LABELS:
        assert sum(conf[label].values()) == pytest.approx(1.0)
        assert min(conf[label].values()) > 0
    errors = {k: v for k, v in conf["afraid"].items() if k != "afraid"}
    assert max(errors, key=errors.__getitem__) == "surprised"
    assert min(conf, key=lambda k: conf[k][k]) == "afraid"
    assert max(conf, key=lambda k: conf[k][k]) == "happy"
    for label, prefs in DEFAULT_AOI_PREFERENCES.items():
        assert sum(prefs.values()) == pytest.approx(1.0), label


def test_participants_differ_by_their_bias(tmp_path: Path) -> None:
    sim = simulate_observers(
        fake_stimuli(1)[:1], participants=3, out_dir=tmp_path, screen=SCREEN,
        stimulus_scale=SCALE, seed=2,
    )  # fmt: skip
    shares = sim.preferences.pivot(index="subject", columns="region", values="share")
    assert shares.std(axis=0).max() > 0.01
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("model", "match"),
    [
        (ObserverModel(aoi_preferences={"happy": {"ears": 1.0}}), "unknown regions"),
        (ObserverModel(confusion={"happy": {"happy": 0.5}}), "sums to 0.5"),
        (ObserverModel(sampling_rate_hz=999.0), "sampling_rate_hz"),
        (ObserverModel(eyes="both"), "eyes"),
    ],
)
def test_bad_parameters(tmp_path: Path, model: ObserverModel, match: str) -> None:
    with pytest.raises(DataError, match=match):
        simulate_observers(
            fake_stimuli(1), participants=1, out_dir=tmp_path, screen=SCREEN,
            stimulus_scale=SCALE, seed=0, model=model,
        )  # fmt: skip


@pytest.fixture(scope="module")
def recovery(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """20 observers x 8 faces per expression, 250 Hz, no per-observer bias (~10k fixations)."""
    out = tmp_path_factory.mktemp("recovery")
    stims = fake_stimuli(8)
    model = ObserverModel(sampling_rate_hz=250.0, participant_bias_sd=0.0)
    sim = simulate_observers(
        stims, participants=20, out_dir=out, screen=SCREEN, stimulus_scale=SCALE, seed=11,
        model=model,
    )  # fmt: skip
    recs = [read_asc(p) for p in sim.recordings]
    options = AlignOptions(
        screen=SCREEN, stimulus_scale=SCALE, placement="messages", correct_only=False
    )
    fixations, trials, quality = align_all(recs, _infos(stims), options)
    return sim, recs, fixations, trials, quality


@pytest.mark.slow
def test_recovery_of_aoi_shares_per_expression(recovery: tuple) -> None:
    sim, _, fixations, trials, _ = recovery
    regions = assign_regions(fixations["x_px"], fixations["y_px"], face_aois())
    shares = (
        pd.DataFrame({"label": fixations["label"], "region": regions})
        .groupby("label")["region"]
        .value_counts(normalize=True)
        .unstack(fill_value=0.0)
        .reindex(columns=list(REGIONS), fill_value=0.0)
    )
    params = pd.DataFrame(DEFAULT_AOI_PREFERENCES).T.loc[shares.index, list(REGIONS)]
    diff_pp = (shares - params).abs() * 100
    assert set(shares.index) == set(LABELS)
    assert diff_pp.max().max() < 5.0, diff_pp.round(1)
    # and the pipeline got exactly the simulator's own target regions back
    truth = sim.truth[sim.truth["after_onset"]]
    assert len(truth) == len(fixations) and trials["kept"].all()
    assert sorted(regions.tolist()) == sorted(truth["region"].tolist())


@pytest.mark.slow
@pytest.mark.parametrize("method", ["events", "ivt", "idt"])
def test_recovery_of_fixation_counts(recovery: tuple, method: str) -> None:
    sim, recs, *_ = recovery
    detected = sum(len(detect_fixations(r, SCREEN, method=method)) for r in recs)
    simulated = len(sim.truth)
    assert abs(detected / simulated - 1) < 0.10, (detected, simulated)


@pytest.mark.slow
def test_recovery_quality_table(recovery: tuple) -> None:
    _, _, fixations, _, quality = recovery
    assert len(quality) == 20
    assert (quality["trials"] == 56).all() and (quality["trials_kept"] == 56).all()
    assert quality["fixations_kept"].sum() == len(fixations)
    # blinks are the only lost samples: a few percent
    assert 0 < quality["samples_lost_share"].max() < 0.1
    assert (quality["fixations_before_onset"] == 56).all()  # the cross fixation, one per trial


def _shifted(name: str, label: str, rows: int) -> SimStimulus:
    return SimStimulus(name, label, {k: np.roll(v, rows, axis=0) for k, v in face_aois().items()})


def test_mean_region_layout_is_the_per_pixel_majority() -> None:
    stims = [_shifted("a", "happy", 0), _shifted("b", "happy", 0), _shifted("c", "happy", 12)]
    layout = mean_region_layout([*stims, _shifted("d", "sad", 3)])
    # two of three happy faces agree on every pixel: the layout is theirs
    majority = region_masks(stims[0].aois)
    for region in REGIONS:
        np.testing.assert_array_equal(layout["happy"][region], majority[region], err_msg=region)
    # a three-way tie goes to the first region of REGIONS
    three = mean_region_layout([*stims[:1], _shifted("e", "happy", 6), stims[2]])["happy"]
    eyes, brows = REGIONS.index("eyes"), REGIONS.index("brows")
    assert three["eyes" if eyes < brows else "brows"][52].any()
    np.testing.assert_array_equal(
        layout["sad"]["eyes"], region_masks(_shifted("", "", 3).aois)["eyes"]
    )
    with pytest.raises(DataError, match="differ in size"):
        mean_region_layout([stims[0], SimStimulus("x", "happy", face_aois(100, 80))])


@pytest.mark.parametrize("targets", ["image", "expression_mean"])
def test_fixations_land_in_the_regions_of_the_chosen_layout(tmp_path: Path, targets: str) -> None:
    stims = [_shifted("a", "happy", 0), _shifted("b", "happy", 0), _shifted("c", "happy", 12)]
    model = ObserverModel(fixation_targets=targets, participant_bias_sd=0.0)
    sim = simulate_observers(
        stims, participants=3, out_dir=tmp_path, screen=SCREEN, stimulus_scale=SCALE, seed=5,
        model=model,
    )  # fmt: skip
    layout = region_masks(stims[0].aois)  # the majority's
    place = Placement.centred(SCREEN, COLS, ROWS, SCALE)
    truth = sim.truth[sim.truth["after_onset"] & (sim.truth["region"] == "eyes")]
    assert len(truth) > 20
    x, y = place.screen_to_stimulus(truth["screen_x_px"], truth["screen_y_px"])
    for sid, in_layout, in_own in [
        (s.stimulus_id, layout["eyes"], region_masks(s.aois)["eyes"]) for s in stims
    ]:
        at = truth["stimulus_id"].to_numpy() == sid
        r, c = y[at].astype(int), x[at].astype(int)
        # image: each face's own eyes; expression_mean: the majority's eyes, for all three
        assert (in_own if targets == "image" else in_layout)[r, c].all(), sid
    with pytest.raises(DataError, match="fixation_targets"):
        ObserverModel(fixation_targets="nowhere").check()
