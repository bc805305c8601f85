"""``gazealign gaze simulate | fixations``: simulated observers and a quick look at recordings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import typer
from rich.console import Console

from gazealign.config.gaze import ScreenSection
from gazealign.errors import DataError
from gazealign.gaze.recording import Recording

console = Console()

#: Screen defaults of the commands: those of the study file's [gaze.screen].
_SCREEN = ScreenSection()


def _recording(path: Path) -> Recording:
    """The recording in a sample file, read by the registered format of its suffix."""
    from gazealign.gaze.format_registry import ReadContext, format_for_file

    entry = format_for_file(path)
    assert entry.read is not None
    recordings = entry.read(path, ReadContext())
    if len(recordings) != 1:
        raise DataError(f"{path}: holds {len(recordings)} recordings; expected one")
    return recordings[0]


def quick_fixations(
    paths: list[Path],
    *,
    method: str,
    width_px: int,
    height_px: int,
    width_cm: float,
    height_cm: float,
    distance_cm: float,
) -> tuple[pd.DataFrame, list[str]]:
    """Screen-frame fixations of each file, with subject, trial and stimulus; and a summary."""
    from gazealign.coords import ScreenGeometry
    from gazealign.gaze.align import check_display, require_fixation_events
    from gazealign.gaze.events import detect_fixations
    from gazealign.gaze.quality import drop_impossible
    from gazealign.gaze.trials import segment_trials

    screen = ScreenGeometry(width_px, height_px, width_cm, height_cm, distance_cm)
    tables = []
    lines = []
    for path in paths:
        rec = _recording(path)
        check_display(rec, screen, "--screen-width-px x --screen-height-px")
        if method == "events":
            require_fixation_events(rec, rec.pick_eye(), "--method")
        rec, impossible = drop_impossible(rec, screen)
        fix = detect_fixations(rec, screen, method=method)
        trials = segment_trials(rec)
        starts = np.array([t.start_ms for t in trials], dtype=np.float64)
        k = np.searchsorted(starts, fix["start_ms"].to_numpy(dtype=np.float64), side="right") - 1
        trial_id = [trials[i].trial_id if i >= 0 else pd.NA for i in k.tolist()]
        stim = [trials[i].stimulus_id if i >= 0 else pd.NA for i in k.tolist()]
        table = fix.assign(
            subject=rec.subject,
            trial_id=pd.array(trial_id, dtype="string"),
            stimulus_id=pd.array(stim, dtype="string"),
            frame="screen",
        )
        tables.append(table)
        warn = ", ".join(f"{w}={n}" for w, n in sorted(rec.warnings.items())) or "none"
        lost = (
            float(np.mean(~np.isfinite(rec.gaze(rec.pick_eye())[:, 0]))) if rec.n_samples else 0.0
        )
        lines.append(
            f"{path.name}: {rec.n_samples} samples ({lost:.1%} missing), {len(trials)} trials, "
            f"{len(fix)} fixations ({method}); skipped lines: {warn}; impossible positions "
            f"set aside: {impossible.samples} samples, {impossible.fixation_events} fixation events"
        )
    columns = [
        "subject",
        "trial_id",
        "stimulus_id",
        "eye",
        "start_ms",
        "end_ms",
        "duration_ms",
        "x_px",
        "y_px",
        "frame",
    ]
    return pd.concat(tables, ignore_index=True)[columns], lines


#: Names ``--method`` accepts.
def _method(value: str) -> str:
    from gazealign.gaze.events import DETECTORS

    if value not in DETECTORS:
        raise typer.BadParameter(DETECTORS.unknown_message(value))
    return value


def _positive(value: float) -> float:
    if not value > 0:  # also refuses NaN
        raise typer.BadParameter(f"must be > 0, got {value:g}")
    return value


def register(app: typer.Typer) -> None:
    gaze = typer.Typer(
        help="Eye-tracking recordings: simulated observers, fixations.", no_args_is_help=True
    )
    app.add_typer(gaze, name="gaze")

    @gaze.command()
    def simulate(
        stimuli: Path = typer.Option(
            ...,
            "--stimuli",
            help="A finished stimuli stage folder (stimuli.parquet + items/ with AOI masks).",
        ),
        participants: int = typer.Option(8, "--participants", help="Number of observers."),
        out: Path = typer.Option(..., "--out", help="Folder for p01.asc ... and screen.json."),
        seed: int = typer.Option(0, "--seed", help="Seed: the same seed gives the same files."),
        scale: float = typer.Option(
            4.0, "--scale", help="Screen px per stimulus px (stimuli are centred)."
        ),
        split: str = typer.Option(
            "test", "--split", help="Which stimuli to show: test, val, train or all."
        ),
        rate: int = typer.Option(1000, "--rate", help="Sampling rate in Hz (250/500/1000/2000)."),
    ) -> None:
        """Simulate observers viewing faces; write one EyeLink ASC file per observer.

        The observers' region preferences, biases and confusions are assumptions (see
        docs/gaze.md); the files are marked as simulated in their header.
        """
        from gazealign.gaze.simulate import ObserverModel, SimStimulus, simulate_observers
        from gazealign.pipeline.store import write_json, write_table
        from gazealign.stimuli.artifacts import read_item, read_stimuli_table

        table = read_stimuli_table(stimuli)
        if split != "all":
            table = table[table["split"] == split]
        if table.empty:
            raise DataError(f"{stimuli}: no stimuli in split {split!r}")
        stims = [
            SimStimulus(str(sid), str(label), read_item(stimuli, str(sid)).aois)
            for sid, label in zip(table["stimulus_id"], table["label"], strict=True)
        ]
        screen = ScreenSection().geometry()
        model = ObserverModel(sampling_rate_hz=float(rate))
        result = simulate_observers(
            stims,
            participants=participants,
            out_dir=out,
            screen=screen,
            stimulus_scale=scale,
            seed=seed,
            model=model,
        )
        write_table(out / "truth.parquet", result.truth)
        write_table(out / "truth_trials.parquet", result.trials)
        write_json(
            out / "screen.json",
            {
                "screen": screen.as_dict(),
                "px_per_deg": screen.px_per_deg,
                "stimulus_scale": scale,
                "placement": "centred (also in each trial's !V IMGLOAD message)",
                "sampling_rate_hz": rate,
                "synthetic": True,
            },
        )
        console.print(
            f"{len(result.recordings)} recordings, {len(stims)} stimuli each -> {out} "
            "(simulated observers: not data about people)"
        )

    @gaze.command()
    def fixations(
        files: list[Path] = typer.Argument(..., help="Recordings: .asc, .edf or sample .csv."),
        out: Path = typer.Option(Path("fixations.csv"), "--out", help="CSV file to write."),
        method: str = typer.Option(
            "events", "--method", help="events (the tracker's), ivt or idt.", callback=_method
        ),
        width_px: int = typer.Option(_SCREEN.width_px, "--screen-width-px", callback=_positive),
        height_px: int = typer.Option(_SCREEN.height_px, "--screen-height-px", callback=_positive),
        width_cm: float = typer.Option(_SCREEN.width_cm, "--screen-width-cm", callback=_positive),
        height_cm: float = typer.Option(
            _SCREEN.height_cm, "--screen-height-cm", callback=_positive
        ),
        distance_cm: float = typer.Option(_SCREEN.distance_cm, "--distance-cm", callback=_positive),
    ) -> None:
        """Fixations of one or more recordings (screen frame) as a CSV, with a summary."""
        from gazealign.pipeline.store import write_text

        table, lines = quick_fixations(
            files,
            method=method,
            width_px=width_px,
            height_px=height_px,
            width_cm=width_cm,
            height_cm=height_cm,
            distance_cm=distance_cm,
        )
        write_text(out, table.to_csv(index=False, lineterminator="\n"))
        for line in lines:
            console.print(line, highlight=False)
        console.print(f"{len(table)} fixations -> {out}")
