"""The ``gaze`` stage: recordings (or simulated observers) -> fixations in the stimulus frame.

Writes ``fixations.parquet`` (kept trials only: every fixation in the stimulus frame with
subject, trial, stimulus_id, label, response, correct), ``trials.parquet`` (every trial with its
counts and ``drop_reason``), ``quality.parquet`` (per subject), ``trial_counts.parquet`` (per
subject and class: trials, correct, kept) and ``screen.json``. With ``gaze.source = "simulated"``
it first writes one EyeLink ASC file per simulated observer into ``recordings/`` (plus the
simulator's ground truth) and reads them back through the same ASC reader as real data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gazealign.coords import Placement
from gazealign.errors import StudyFileError
from gazealign.gaze.align import AlignOptions, StimulusInfo, trial_counts
from gazealign.gaze.simulate import (
    DEFAULT_AOI_PREFERENCES,
    ObserverModel,
    SimStimulus,
    simulate_observers,
)
from gazealign.gaze.study import align_all, find_recordings, read_recordings
from gazealign.gaze.trials import TrialRules
from gazealign.pipeline.artifacts import other, table
from gazealign.pipeline.registry import stage
from gazealign.pipeline.stage import StageContext
from gazealign.pipeline.store import write_json, write_table
from gazealign.stages.common import compared_splits, screen_of
from gazealign.stimuli.artifacts import read_item, read_stimuli_table


def align_options(ctx: StageContext) -> AlignOptions:
    g = ctx.config.gaze
    return AlignOptions(
        screen=screen_of(ctx),
        stimulus_scale=g.stimulus_scale,
        placement=g.placement,
        fixations=g.fixations,
        eye=g.eye,
        correct_only=g.correct_only,
        response_labels=dict(g.response_labels),
        rules=TrialRules(**g.trials.model_dump()),  # the same fields, one home per default
        detection=g.detection,
    )


def observer_model(ctx: StageContext) -> ObserverModel:
    sim = ctx.config.gaze.simulation
    prefs = {**DEFAULT_AOI_PREFERENCES, **sim.aoi_preferences}
    return ObserverModel(
        aoi_preferences=prefs,
        participant_bias_sd=sim.participant_bias_sd,
        viewing_ms=(float(sim.viewing_ms[0]), float(sim.viewing_ms[1])),
        blink_probability=sim.blink_probability,
        sampling_rate_hz=float(sim.sampling_rate_hz),
        fixation_targets=sim.fixation_targets,
    )


def simulate(
    ctx: StageContext, stim_dir: Path, test_ids: list[str], labels: dict[str, str]
) -> list[Path]:
    """Simulated observers for the given stimuli; ASC files in ``recordings/``."""
    g = ctx.config.gaze
    stimuli = []
    for sid in ctx.track(test_ids, total=len(test_ids), description="gaze: load AOIs"):
        item = read_item(stim_dir, sid)
        stimuli.append(SimStimulus(sid, labels[sid], item.aois))
    study = simulate_observers(
        stimuli,
        participants=g.simulation.participants,
        out_dir=ctx.out_dir / "recordings",
        screen=screen_of(ctx),
        stimulus_scale=g.stimulus_scale,
        seed=ctx.seed("observers"),
        model=observer_model(ctx),
        map_fn=ctx.map,  # participants in the study's worker processes
    )
    write_table(ctx.out_dir / "recordings" / "truth.parquet", study.truth)
    write_table(ctx.out_dir / "recordings" / "truth_trials.parquet", study.trials)
    write_table(ctx.out_dir / "recordings" / "truth_preferences.parquet", study.preferences)
    ctx.note("gaze_simulated_participants", g.simulation.participants)
    return list(study.recordings)


WRITES = (
    table(
        "fixations",
        "every fixation of a kept trial, stimulus frame",
        {
            "subject": "",
            "trial": "",
            "stimulus_id": "",
            "x_px": "stimulus frame",
            "y_px": "stimulus frame",
            "duration_ms": "",
            "frame": "always 'stimulus'",
            "label": "",
            "response": "",
            "correct": "bool or missing",
            "scale": "stimulus px -> screen px",
        },
        frame="stimulus",
    ),
    table(
        "trials",
        "every trial with its counts and why it was dropped",
        {
            "subject": "",
            "stimulus_id": "",
            "label": "",
            "response": "",
            "correct": "",
            "kept": "bool",
            "drop_reason": "",
            "data_loss_share": "lost / expected samples in the viewing window",
            "rms_s2s_deg": "median over the trial's fixations of RMS sample-to-sample",
            "bcea_deg2": "median over the trial's fixations of BCEA (68.27 %)",
            "validation_error_avg_deg": "last !CAL VALIDATION before the trial: mean error",
            "validation_error_max_deg": "and its max error",
        },
    ),
    table(
        "quality",
        "per subject: trials, kept trials, samples lost, one dropped_<reason> count per reason, "
        "impossible samples and fixation events set aside, and data quality as eye-tracking "
        "studies report it (pymovements' measures)",
        {
            "subject": "",
            "trials": "",
            "trials_kept": "",
            "dropped_<reason>": "trials dropped",
            "samples_impossible": "samples set to missing: infinite or a screen size off-screen",
            "fixation_events_impossible": "EFIX events dropped for the same reason",
            "data_loss_share": "lost / expected samples in the viewing windows",
            "rms_s2s_deg": "median over trials of the median RMS sample-to-sample within fixations",
            "bcea_deg2": "median over trials of the median BCEA (68.27 %) within fixations",
            "validation_error_deg": "mean error of the last !CAL VALIDATION",
            "validation_error_max_deg": "max error of the last !CAL VALIDATION",
        },
    ),
    table(
        "trial_counts",
        "per subject and class",
        {"subject": "", "label": "", "trials": "", "correct": "", "kept": ""},
    ),
    other("screen", "screen.json", "json", "screen geometry, px per degree, placement"),
    other(
        "recordings",
        "recordings",
        "folder",
        "simulated observers only: one ASC file each, plus the simulator's ground truth",
        optional=True,
    ),
)


@stage(
    "gaze",
    description="Read eye-tracking recordings (or simulate observers) into stimulus-frame fixations.",
    reads=("gaze", "comparison.split", "alignment.lambdas"),
    needs=("stimuli",),
    writes=WRITES,
)
def run(ctx: StageContext) -> None:
    g = ctx.config.gaze
    stim_dir = ctx.input("stimuli")
    table = read_stimuli_table(stim_dir)
    infos = {
        str(sid): StimulusInfo(str(sid), str(label), int(rows), int(cols))
        for sid, label, rows, cols in zip(
            table["stimulus_id"].tolist(),
            table["label"].tolist(),
            table["rows"].to_numpy(dtype=np.int64).tolist(),
            table["cols"].to_numpy(dtype=np.int64).tolist(),
            strict=True,
        )
    }
    labels = {sid: info.label for sid, info in infos.items()}
    # simulated observers view the stimuli of the compared split(s), and the training faces
    # too for an alignment sweep (it trains on their human maps)
    viewed = compared_splits(ctx)
    if ctx.config.alignment.enabled and "train" not in viewed:
        viewed = (*viewed, "train")
    test_ids = [str(s) for s in table.loc[table["split"].isin(viewed), "stimulus_id"]]
    options = align_options(ctx)
    if g.source == "simulated":
        paths = simulate(ctx, stim_dir, test_ids, labels)
        source = "asc"
    else:
        if g.path is None:
            raise StudyFileError(f"gaze.path is required for gaze.source = {g.source!r}")
        paths = find_recordings(ctx.config.resolve(g.path), g.source)
        source = g.source
    placements = {
        sid: Placement.centred(options.screen, info.cols, info.rows, g.stimulus_scale)
        for sid, info in infos.items()
    }
    recordings = read_recordings(
        ctx.track(paths, total=len(paths), description="gaze: read recordings"),
        source,
        placements=placements,
        options=options,
    )
    fixations, trials, quality = align_all(recordings, infos, options)
    write_table(ctx.out_dir / "fixations.parquet", fixations)
    write_table(ctx.out_dir / "trials.parquet", trials)
    write_table(ctx.out_dir / "quality.parquet", quality)
    write_table(ctx.out_dir / "trial_counts.parquet", trial_counts(trials))
    write_json(
        ctx.out_dir / "screen.json",
        {
            "screen": options.screen.as_dict(),
            "px_per_deg": options.screen.px_per_deg,
            "stimulus_scale": g.stimulus_scale,
            "placement": g.placement,
            "source": g.source,
            "fixations": g.fixations,
            "synthetic": g.source == "simulated",
        },
    )
    ctx.note("gaze_subjects", len(recordings))
    ctx.note("gaze_trials", len(trials))
    ctx.note("gaze_trials_kept", int(trials["kept"].sum()))
    reasons = trials.loc[~trials["kept"], "drop_reason"].value_counts()
    ctx.note("gaze_trials_dropped", {str(k): int(v) for k, v in reasons.items()})
    ctx.note("gaze_fixations_kept", len(fixations))
    ctx.note("gaze_samples_impossible", int(quality["samples_impossible"].sum()))
    ctx.note("gaze_fixation_events_impossible", int(quality["fixation_events_impossible"].sum()))
    ctx.note("gaze_fixations_off_stimulus", int(trials["fixations_off_stimulus"].sum()))
