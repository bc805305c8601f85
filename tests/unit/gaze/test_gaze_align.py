"""Trials from messages, placement, screen -> stimulus mapping, drops and quality counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gazealign.coords import Placement, ScreenGeometry
from gazealign.errors import DataError
from gazealign.gaze.align import (
    AlignOptions,
    StimulusInfo,
    align_recording,
    placement_from_message,
    trial_counts,
)
from gazealign.gaze.asc import read_asc
from gazealign.gaze.trials import ImageLoad, TrialRules, segment_trials

SCREEN = ScreenGeometry(1000, 800, 40.0, 32.0, 60.0)
STIMULI = {
    "AF01HAS": StimulusInfo("AF01HAS", "happy", 100, 80),
    "AM02AFS": StimulusInfo("AM02AFS", "afraid", 100, 80),
}


def _trial(
    n: int, t0: int, stim: str | None, response: str | None, fixes: list[tuple], extra: str = ""
) -> str:
    """A trial as Experiment Builder writes it: TRIAL_VARs after END (out of the block)."""
    lines = [f"MSG\t{t0} TRIALID {n}", f"START\t{t0} \tLEFT\tSAMPLES\tEVENTS"]
    lines.append("SAMPLES\tGAZE\tLEFT\tRATE\t1000.00\tTRACKING\tCR\tFILTER\t2")
    for t in range(t0, t0 + 1000):
        if t == t0 + 100:
            lines.append(f"MSG\t{t} STIMULUS_ONSET")
        lines.append(f"{t}\t500.0\t400.0\t900.0\t..." if t % 50 else f"{t}\t.\t.\t0.0\t...")
    for start, end, x, y in fixes:
        lines.append(f"EFIX L   {start}\t{end}\t{end - start + 1}\t{x:.1f}\t{y:.1f}\t900")
    lines.append(f"MSG\t{t0 + 900} STIMULUS_OFFSET")
    lines.append(f"END\t{t0 + 1000} \tSAMPLES\tEVENTS")
    if extra:
        lines.append(extra)
    if stim:
        lines.append(f"MSG\t{t0 + 1200} !V TRIAL_VAR stimulus {stim}")
    if response:
        lines.append(f"MSG\t{t0 + 1200} !V TRIAL_VAR response {response}")
    lines.append(f"MSG\t{t0 + 1201} TRIAL_RESULT 1")
    return "\n".join(lines) + "\n"


def _recording(tmp_path: Path, *trials: str, header: str = "MSG\t1 DISPLAY_COORDS 0 0 999 799\n"):
    path = tmp_path / "s07.asc"
    path.write_text(header + "".join(trials))
    return read_asc(path)


# placement centred at scale 2: the 80x100 image covers x 420..580, y 300..500 on screen
CENTRE = (500.0, 400.0)


def test_trials_fixations_and_drops(tmp_path: Path) -> None:
    rec = _recording(
        tmp_path,
        _trial(
            1,
            10_000,
            "AF01HAS",
            "happy",
            [
                (10_000, 10_150, 500.0, 400.0),  # started before onset (10_100): counted, left out
                (10_160, 10_400, 440.0, 320.0),  # on the image: stimulus (10, 10)
                (10_420, 10_700, 900.0, 100.0),  # off the image: counted, dropped
                (10_710, 10_950, 579.0, 499.0),  # runs past the offset (10_900): cut there
            ],
        ),
        _trial(2, 20_000, "AM02AFS", "surprised", [(20_200, 20_400, 500.0, 400.0)]),
        _trial(3, 30_000, "NOPE", "happy", [(30_200, 30_400, 500.0, 400.0)]),
        _trial(4, 40_000, "AF01HAS", "glad", [(40_200, 40_400, 500.0, 400.0)]),
        _trial(5, 50_000, "AF01HAS", None, [(50_200, 50_400, 500.0, 400.0)]),
        _trial(6, 60_000, None, "happy", [(60_200, 60_400, 500.0, 400.0)]),
        _trial(7, 70_000, "AF01HAS", "happy", [(70_300, 70_400, 5.0, 5.0)]),
    )
    options = AlignOptions(screen=SCREEN, stimulus_scale=2.0)
    out = align_recording(rec, STIMULI, options)
    t = out.trials.set_index("trial")
    assert t["drop_reason"].isna().tolist() == [True] + [False] * 6
    assert t["drop_reason"].tolist()[1:] == [
        "incorrect", "unknown_stimulus", "unknown_response", "no_response", "no_stimulus",
        "no_fixations",
    ]  # fmt: skip
    row = t.loc[1]
    assert (row["fixations_before_onset"], row["fixations_in_window"]) == (1, 3)
    assert (row["fixations_off_stimulus"], row["fixations_kept"]) == (1, 2)
    assert row["samples"] == 800 and row["samples_lost"] == 16  # every 50th sample is missing
    assert bool(row["correct"]) and t.loc[2, "correct"] is not None and not t.loc[2, "correct"]
    f = out.fixations
    assert len(f) == 2 and (f["frame"] == "stimulus").all()
    np.testing.assert_allclose(f["x_px"], [10.0, 79.5])
    np.testing.assert_allclose(f["y_px"], [10.0, 99.5])
    np.testing.assert_allclose(f["onset_ms"], [60.0, 610.0])
    np.testing.assert_allclose(f["duration_ms"], [241.0, 190.0])  # the second cut at the offset
    q = out.quality
    assert q["trials"] == 7 and q["trials_kept"] == 1 and q["fixations_kept"] == 2
    assert q["dropped_incorrect"] == 1 and q["dropped_unknown_response"] == 1
    assert q["fixations_before_onset"] == 1 and q["fixations_off_stimulus"] == 2
    counts = trial_counts(out.trials).set_index("label")
    assert counts.loc["happy", "trials"] == 4 and counts.loc["happy", "kept"] == 1
    assert counts.loc["afraid", "correct"] == 0


def test_response_labels_and_keeping_incorrect_trials(tmp_path: Path) -> None:
    rec = _recording(
        tmp_path,
        _trial(1, 10_000, "AF01HAS", "J", [(10_200, 10_300, 500.0, 400.0)]),
        _trial(2, 20_000, "AM02AFS", "K", [(20_200, 20_300, 500.0, 400.0)]),
    )
    options = AlignOptions(
        screen=SCREEN, stimulus_scale=2.0, correct_only=False,
        response_labels={"J": "Happy", "K": "surprised"},
    )  # fmt: skip
    out = align_recording(rec, STIMULI, options)
    assert out.trials["kept"].all()
    assert out.trials["response"].tolist() == ["happy", "surprised"]
    assert out.fixations["correct"].tolist() == [True, False]


def test_placement_from_imgload_messages(tmp_path: Path) -> None:
    load = "MSG\t10150 !V IMGLOAD TOP_LEFT C:\\exp\\faces\\AF01HAS.bmp 100 50 240 300"
    rec = _recording(
        tmp_path, _trial(1, 10_000, None, "happy", [(10_200, 10_300, 220.0, 200.0)], load)
    )
    options = AlignOptions(screen=SCREEN, placement="messages")
    out = align_recording(rec, STIMULI, options)
    # the stimulus id came from the IMGLOAD file name; scale 3 from its drawn size
    assert out.trials["stimulus_id"].tolist() == ["AF01HAS"]
    np.testing.assert_allclose(out.fixations[["x_px", "y_px"]].to_numpy(), [[40.0, 50.0]])
    rec2 = _recording(tmp_path, _trial(1, 10_000, "AF01HAS", "happy", [(10_200, 10_300, 1.0, 1.0)]))
    assert align_recording(rec2, STIMULI, options).trials["drop_reason"].tolist() == [
        "no_placement"
    ]


def test_placement_message_geometry() -> None:
    info = STIMULI["AF01HAS"]
    centre = placement_from_message(ImageLoad("a.png", "CENTER", 500, 400, 160, 200), info, "f")
    assert centre == Placement(420.0, 300.0, 2.0, 80, 100)
    native = placement_from_message(ImageLoad("a.png", "TOP_LEFT", 7, 9, None, None), info, "f")
    assert native == Placement(7.0, 9.0, 1.0, 80, 100)
    with pytest.raises(DataError, match="aspect"):
        placement_from_message(ImageLoad("a.png", "CENTER", 500, 400, 160, 400), info, "f")


def test_screen_mismatch_is_an_error(tmp_path: Path) -> None:
    rec = _recording(tmp_path, _trial(1, 10_000, "AF01HAS", "happy", []),
                     header="MSG\t1 DISPLAY_COORDS 0 0 1279 1023\n")  # fmt: skip
    with pytest.raises(DataError, match=r"1280x1024 px.*1000x800"):
        align_recording(rec, STIMULI, AlignOptions(screen=SCREEN))


def test_custom_trial_rules_and_out_of_order_messages(tmp_path: Path) -> None:
    text = (
        "MSG\t100 BEGIN block=1 trial=a1\n"
        "START\t100 \tLEFT\tSAMPLES\tEVENTS\n"
        "100\t1.0\t1.0\t1.0\t...\n"
        "MSG\t101 -49 FACE_ON\n"  # at 150, written early
        "200\t1.0\t1.0\t1.0\t...\n"
        "MSG\t300 ANSWER=fear\n"
        "END\t300\n"
        "MSG\t90 BEGIN block=1 trial=a0\n"  # out of order: an earlier trial, written late
    )
    path = tmp_path / "x.asc"
    path.write_text(text)
    rules = TrialRules(
        start=r"^BEGIN .*trial=(?P<trial>\w+)", onset=r"^FACE_ON", offset="",
        response_message=r"^ANSWER=(?P<response>\w+)",
    )  # fmt: skip
    trials = segment_trials(read_asc(path), rules)
    assert [t.trial_id for t in trials] == ["a0", "a1"]
    a1 = trials[1]
    assert a1.onset_ms == 150.0 and a1.response == "fear"
    assert a1.offset_ms == 300.0  # no offset message: the last sample + one interval (100 ms)
    assert trials[0].onset_ms is None
