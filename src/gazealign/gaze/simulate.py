"""Simulated observers: EyeLink ASC recordings of people viewing faces (built-in data).

Each simulated participant views every stimulus once, in a random order. A trial:

1. ``TRIALID``, a recording block starts; the participant looks at a fixation cross at the
   screen centre (which is also the face centre: stimuli are centred) for ``cross_ms``.
2. ``STIMULUS_ONSET`` and ``!V IMGLOAD CENTER``: the face appears. After a saccade latency the
   eyes move from region to region for ``viewing_ms`` (uniform in the range); each fixation
   target is a region drawn from the participant's preferences for the face's expression, then
   a position uniform over the region's interior (``target_margin_px`` from its border): the
   region of this image, or with ``fixation_targets = "expression_mean"`` the region of the
   expression's mean layout (:func:`mean_region_layout`), as if the observers knew the
   expression but not the face. A
   re-draw keeps saccades at least ``min_saccade_deg`` long, as small steps would be invisible to
   any velocity-based parser. Fixation durations are gamma distributed.
3. Saccades follow the main sequence (duration ``21 + 2.2 * amplitude_deg`` ms, Carpenter 1988)
   with a minimum-jerk position profile (peak velocity 1.875 x mean velocity). Some saccades
   hold a blink (samples missing, pupil 0), reported as EyeLink does: SBLINK/EBLINK inside an
   SSACC/ESACC pair.
4. ``STIMULUS_OFFSET``, the block ends; the response (drawn from a confusion matrix) is written
   as ``!V TRIAL_VAR response`` with the stimulus id, then ``TRIAL_RESULT``.

Samples carry white measurement noise (``noise_deg`` RMS) and a slow drift within fixations.
Fixation (EFIX) events report the mean of the samples written, as the EyeLink parser does.

Every number below marked *assumption* is a parameter of :class:`ObserverModel`; the defaults
follow the qualitative findings of Eisenbarth & Alpers (2011), Schurgin et al. (2014) and
Calvo et al. (2018) (eyes dominate; sad and angry faces draw more to the eyes; happy to the
mouth; disgust to the nose; fear and surprise balance eyes and mouth; fear is often taken for
surprise) but the proportions themselves are not published numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import ndimage

from gazealign.config.base import section_default
from gazealign.config.gaze import SimulationSection
from gazealign.coords import Placement, ScreenGeometry
from gazealign.errors import DataError
from gazealign.gaze.aoi import REGIONS, region_masks
from gazealign.pipeline.store import write_text
from gazealign.types import LABELS

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
#: ``map``-like: ``mapper(fn, args)`` yields ``fn(arg)`` for each of ``args``, in their order.
Mapper = Callable[[Callable[[Any], Any], Sequence[Any]], Iterable[Any]]

#: Assumption: share of fixations per region for each expression (rows sum to 1).
DEFAULT_AOI_PREFERENCES: dict[str, dict[str, float]] = {
    "neutral": {"eyes": 0.45, "brows": 0.05, "nose": 0.20, "mouth": 0.15, "face_other": 0.10, "background": 0.05},
    "angry": {"eyes": 0.52, "brows": 0.10, "nose": 0.15, "mouth": 0.11, "face_other": 0.08, "background": 0.04},
    "sad": {"eyes": 0.55, "brows": 0.08, "nose": 0.15, "mouth": 0.10, "face_other": 0.08, "background": 0.04},
    "happy": {"eyes": 0.30, "brows": 0.03, "nose": 0.17, "mouth": 0.35, "face_other": 0.10, "background": 0.05},
    "disgusted": {"eyes": 0.35, "brows": 0.05, "nose": 0.30, "mouth": 0.15, "face_other": 0.10, "background": 0.05},
    "afraid": {"eyes": 0.38, "brows": 0.05, "nose": 0.15, "mouth": 0.32, "face_other": 0.06, "background": 0.04},
    "surprised": {"eyes": 0.38, "brows": 0.05, "nose": 0.15, "mouth": 0.32, "face_other": 0.06, "background": 0.04},
}  # fmt: skip

#: Assumption: P(response | true label). Happy is recognised best and fear worst, and fear is
#: mostly mistaken for surprise (Calvo & Lundqvist 2008 report the ordering, not these values).
DEFAULT_ACCURACY: dict[str, float] = {
    "afraid": 0.72,
    "angry": 0.86,
    "disgusted": 0.85,
    "happy": 0.97,
    "neutral": 0.90,
    "sad": 0.84,
    "surprised": 0.88,
}
#: Assumption: where the errors go, beyond an even spread over the other labels.
DEFAULT_CONFUSIONS: dict[str, dict[str, float]] = {
    "afraid": {"surprised": 0.75},
    "surprised": {"afraid": 0.6},
    "disgusted": {"angry": 0.6},
    "angry": {"disgusted": 0.5},
    "sad": {"neutral": 0.5},
}


def default_confusion() -> dict[str, dict[str, float]]:
    """The default confusion matrix P(response | label) from the accuracy and confusion maps."""
    out: dict[str, dict[str, float]] = {}
    for label in LABELS:
        err = 1.0 - DEFAULT_ACCURACY[label]
        targeted = DEFAULT_CONFUSIONS.get(label, {})
        rest = [x for x in LABELS if x != label and x not in targeted]
        spread = err * (1.0 - sum(targeted.values())) / len(rest)
        row = {x: spread for x in rest}
        row.update({x: err * share for x, share in targeted.items()})
        row[label] = DEFAULT_ACCURACY[label]
        out[label] = {x: row[x] for x in LABELS}
    return out


@dataclass(frozen=True)
class ObserverModel:
    """Parameters of the simulated observers (all *assumptions* unless a source is named)."""

    aoi_preferences: Mapping[str, Mapping[str, float]] = field(
        default_factory=lambda: DEFAULT_AOI_PREFERENCES
    )
    confusion: Mapping[str, Mapping[str, float]] = field(default_factory=default_confusion)
    # log-scale SD of a participant's per-region preference
    participant_bias_sd: float = section_default(SimulationSection, "participant_bias_sd")
    fixation_duration_ms: tuple[float, float] = (275.0, 90.0)  # gamma mean, SD (200-350 typical)
    min_fixation_ms: float = 90.0
    # uniform range per trial
    viewing_ms: tuple[float, float] = section_default(SimulationSection, "viewing_ms")
    cross_ms: float = 500.0  # fixation cross before stimulus onset
    latency_ms: tuple[float, float] = (180.0, 40.0)  # first-saccade latency, normal mean, SD
    min_saccade_deg: float = 1.0
    target_margin_px: float = 2.0  # stimulus px between a target and its region's border
    # per saccade
    blink_probability: float = section_default(SimulationSection, "blink_probability")
    blink_ms: tuple[float, float] = (80.0, 160.0)
    noise_deg: float = 0.01  # white measurement noise, RMS per axis (EyeLink 1000: < 0.01 deg)
    drift_deg_s: float = 0.1  # slow drift speed within a fixation
    sampling_rate_hz: float = float(section_default(SimulationSection, "sampling_rate_hz"))
    eyes: str = "L"  # "L", "R" or "LR" (binocular)
    # "image": targets in the image's own regions; "expression_mean": in the expression's
    # mean region layout over the simulated stimuli
    fixation_targets: str = section_default(SimulationSection, "fixation_targets")

    def check(self) -> None:
        for label, prefs in self.aoi_preferences.items():
            if label not in LABELS:
                raise DataError(f"aoi_preferences: unknown label {label!r}; expected {LABELS}")
            bad = set(prefs) - set(REGIONS)
            if bad:
                raise DataError(
                    f"aoi_preferences[{label!r}]: unknown regions {sorted(bad)}; expected {REGIONS}"
                )
            if any(v < 0 for v in prefs.values()) or not sum(prefs.values()) > 0:
                raise DataError(f"aoi_preferences[{label!r}]: shares must be >= 0 and not all 0")
        for label, row in self.confusion.items():
            total = sum(row.values())
            if not math.isclose(total, 1.0, abs_tol=1e-6):
                raise DataError(f"confusion[{label!r}] sums to {total}, not 1")
        if self.sampling_rate_hz not in (250.0, 500.0, 1000.0, 2000.0):
            raise DataError(
                f"sampling_rate_hz must be 250, 500, 1000 or 2000, got {self.sampling_rate_hz}"
            )
        if self.eyes not in ("L", "R", "LR"):
            raise DataError(f"eyes must be 'L', 'R' or 'LR', got {self.eyes!r}")
        if self.fixation_targets not in ("image", "expression_mean"):
            raise DataError(
                "fixation_targets must be 'image' or 'expression_mean', "
                f"got {self.fixation_targets!r}"
            )

    def preferences(self, label: str) -> FloatArray:
        prefs = self.aoi_preferences.get(label)
        if prefs is None:
            raise DataError(f"no AOI preferences for label {label!r}")
        v = np.array([float(prefs.get(r, 0.0)) for r in REGIONS])
        return v / v.sum()


@dataclass(frozen=True)
class SimStimulus:
    """What the simulator needs of a stimulus: id, label and AOI masks (stimulus frame)."""

    stimulus_id: str
    label: str
    aois: Mapping[str, BoolArray]

    @property
    def shape(self) -> tuple[int, int]:
        rows, cols = np.asarray(self.aois["face"]).shape
        return int(rows), int(cols)


@dataclass
class _Targets:
    """Candidate target pixels per region: (k, 2) x, y pixel corners, inside the margin."""

    xy: dict[str, npt.NDArray[np.int64]]


def mean_region_layout(stimuli: Sequence[SimStimulus]) -> dict[str, dict[str, BoolArray]]:
    """Per expression, the mean region layout of ``stimuli``: disjoint masks of
    :data:`REGIONS`, each pixel in the region that most of the expression's images put it in
    (ties to the first of :data:`REGIONS`).

    Raises
    ------
    DataError
        Images of one expression differ in size (the layout is per pixel).
    """
    votes: dict[str, npt.NDArray[np.int64]] = {}
    for stim in stimuli:
        masks = region_masks(stim.aois)
        count = np.stack([masks[r] for r in REGIONS]).astype(np.int64)
        if stim.label in votes and votes[stim.label].shape != count.shape:
            raise DataError(
                f"fixation_targets = 'expression_mean': the {stim.label!r} images differ in size "
                f"({votes[stim.label].shape[1:]} and {count.shape[1:]})"
            )
        votes[stim.label] = votes.get(stim.label, np.zeros_like(count)) + count
    out: dict[str, dict[str, BoolArray]] = {}
    for label, count in votes.items():
        winner = count.argmax(axis=0)
        out[label] = {r: winner == k for k, r in enumerate(REGIONS)}
    return out


def _targets(regions: Mapping[str, BoolArray], margin_px: float) -> _Targets:
    out: dict[str, npt.NDArray[np.int64]] = {}
    for name, mask in regions.items():
        inner = mask
        if margin_px > 0 and mask.any():
            # distance to the nearest pixel outside the region (edge of image counts as outside)
            dist = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
            deep = dist > margin_px
            inner = deep if deep.any() else mask
        r, c = np.nonzero(inner)
        out[name] = np.stack([c, r], axis=1).astype(np.int64)
    return _Targets(out)


@dataclass
class _Trial:
    """Samples and event/message lines of one trial, on the tracker clock."""

    time_ms: FloatArray
    x: FloatArray
    y: FloatArray
    pupil: FloatArray
    lines: list[tuple[float, int, str]]  # (time, order: 0 before samples at time, 2 after, text)
    truth: list[dict[str, Any]]
    next_ms: float


def _min_jerk(n: int) -> FloatArray:
    tau = (np.arange(n) + 1) / (n + 1)
    return np.asarray(10 * tau**3 - 15 * tau**4 + 6 * tau**5, dtype=np.float64)


class _Simulator:
    def __init__(
        self,
        stimuli: Sequence[SimStimulus],
        screen: ScreenGeometry,
        scale: float,
        model: ObserverModel,
    ) -> None:
        model.check()
        self.stimuli = stimuli
        self.screen = screen
        self.scale = scale
        self.model = model
        self.dt = 1000.0 / model.sampling_rate_hz
        if model.fixation_targets == "expression_mean":
            layout = mean_region_layout(stimuli)
            by_label = {k: _targets(v, model.target_margin_px) for k, v in layout.items()}
            self.targets = {s.stimulus_id: by_label[s.label] for s in stimuli}
        else:
            self.targets = {
                s.stimulus_id: _targets(region_masks(s.aois), model.target_margin_px)
                for s in stimuli
            }
        self.ppd = screen.px_per_deg

    def placement(self, stim: SimStimulus) -> Placement:
        rows, cols = stim.shape
        return Placement.centred(self.screen, cols, rows, self.scale)

    def fixation_ms(self, rng: np.random.Generator, speed: float) -> float:
        mean, sd = self.model.fixation_duration_ms
        mean *= speed
        shape = (mean / sd) ** 2
        d = float(rng.gamma(shape, mean / shape))
        return max(self.model.min_fixation_ms, d)

    def pick_target(
        self,
        rng: np.random.Generator,
        stim: SimStimulus,
        place: Placement,
        region: str,
        here: tuple[float, float],
    ) -> tuple[float, float]:
        cand = self.targets[stim.stimulus_id].xy[region]
        best: tuple[float, float] | None = None
        best_d = -1.0
        for _ in range(20):
            k = int(rng.integers(cand.shape[0]))
            sx = cand[k, 0] + float(rng.random())
            sy = cand[k, 1] + float(rng.random())
            x, y = place.stimulus_to_screen(sx, sy)
            d = math.hypot(float(x) - here[0], float(y) - here[1]) / self.ppd
            if d >= self.model.min_saccade_deg:
                return float(x), float(y)
            if d > best_d:
                best, best_d = (float(x), float(y)), d
        assert best is not None
        return best

    def trial(
        self,
        rng: np.random.Generator,
        stim: SimStimulus,
        subject: str,
        trial_no: int,
        t0: float,
        prefs: FloatArray,
        speed: float,
        cross_xy: tuple[float, float],
        response: str,
    ) -> _Trial:
        m = self.model
        dt = self.dt
        place = self.placement(stim)
        segs_t: list[FloatArray] = []
        segs_x: list[FloatArray] = []
        segs_y: list[FloatArray] = []
        segs_p: list[FloatArray] = []
        lines: list[tuple[float, int, str]] = []
        truth: list[dict[str, Any]] = []
        t = t0 + 2 * dt
        lines.append((t0, 0, f"MSG\t{_fmt_t(t0)} TRIALID {trial_no}"))
        block_start = t
        eye_word = {"L": "LEFT", "R": "RIGHT", "LR": "LEFT\tRIGHT"}[m.eyes]
        rate = f"{m.sampling_rate_hz:.2f}"
        for k, text in enumerate(
            (
                f"START\t{_fmt_t(t)} \t{eye_word}\tSAMPLES\tEVENTS",
                "PRESCALER\t1",
                "VPRESCALER\t1",
                "PUPIL\tAREA",
                f"EVENTS\tGAZE\t{eye_word}\tRATE\t{rate}\tTRACKING\tCR\tFILTER\t2",
                f"SAMPLES\tGAZE\t{eye_word}\tRATE\t{rate}\tTRACKING\tCR\tFILTER\t2",
            )
        ):
            lines.append((t, -10 + k, text))
        lines.append((t, 0, f"MSG\t{_fmt_t(t)} FIXATION_CROSS"))
        onset = block_start + _snap(m.cross_ms, dt)
        latency = max(80.0, float(rng.normal(*m.latency_ms)))
        viewing = float(rng.uniform(*m.viewing_ms))
        offset = onset + _snap(viewing, dt)
        rows, cols = stim.shape
        w, h = cols * self.scale, rows * self.scale
        cx, cy = self.screen.width_px / 2, self.screen.height_px / 2
        lines.append((onset, 0, f"MSG\t{_fmt_t(onset)} STIMULUS_ONSET"))
        lines.append(
            (onset, 1, f"MSG\t{_fmt_t(onset)} !V IMGLOAD CENTER stimuli/{stim.stimulus_id}.png "
             f"{cx:g} {cy:g} {w:g} {h:g}")
        )  # fmt: skip
        # first fixation: the cross, lasting until onset + latency
        pos = cross_xy
        fix_end = onset + _snap(latency, dt)
        region = "cross"
        while True:
            # plan the next saccade first: if it and a shortest fixation do not fit before the
            # offset, this fixation lasts until the offset instead
            nxt = None
            if fix_end < offset:
                next_region = REGIONS[int(rng.choice(len(REGIONS), p=prefs))]
                if self.targets[stim.stimulus_id].xy[next_region].shape[0] == 0:
                    next_region = "face_other"
                new = self.pick_target(rng, stim, place, next_region, pos)
                plan = self.plan_saccade(rng, pos, new)
                if fix_end + plan.duration_ms + m.min_fixation_ms <= offset:
                    nxt = (next_region, new, plan)
                else:
                    fix_end = offset
            else:
                fix_end = offset
            start = t
            n = max(1, round((fix_end - start) / dt))
            ts = _times(start, dt, n)
            drift = rng.normal(0, 1, 2)
            drift *= m.drift_deg_s * self.ppd / 1000.0 / max(float(np.hypot(*drift)), 1e-12)
            segs_t.append(ts)
            segs_x.append(pos[0] + drift[0] * (ts - start))
            segs_y.append(pos[1] + drift[1] * (ts - start))
            segs_p.append(np.full(n, 1000.0) + rng.normal(0, 5, n))
            lines.append((start, 0, f"SFIX {m.eyes[0]}   {_fmt_t(start)}"))
            # EFIX values are filled in after noise is added (mean of the written samples)
            lines.append((float(ts[-1]), 2, f"@EFIX {len(segs_t) - 1}"))
            truth.append(
                {
                    "subject": subject,
                    "trial": trial_no,
                    "stimulus_id": stim.stimulus_id,
                    "label": stim.label,
                    "region": region,
                    "start_ms": start,
                    "end_ms": float(ts[-1]),
                    "duration_ms": float(ts[-1] - start + dt),
                    "screen_x_px": pos[0],
                    "screen_y_px": pos[1],
                    "after_onset": start >= onset,
                }
            )
            t = float(ts[-1]) + dt
            if nxt is None:
                break
            region, new, plan = nxt
            t = self.add_saccade(t, plan, segs_t, segs_x, segs_y, segs_p, lines)
            pos = new
            fix_end = t + _snap(self.fixation_ms(rng, speed), dt)
        time_ms = np.concatenate(segs_t)
        x = np.concatenate(segs_x)
        y = np.concatenate(segs_y)
        pupil = np.concatenate(segs_p)
        keep = time_ms < offset + dt / 2
        noise = m.noise_deg * self.ppd
        x = x + rng.normal(0, noise, x.shape)
        y = y + rng.normal(0, noise, y.shape)
        blink = np.isnan(pupil)
        pupil[blink] = 0.0
        # fixation events report the mean of the samples written (as the EyeLink parser)
        seg_of = np.repeat(np.arange(len(segs_t)), [s.shape[0] for s in segs_t])
        out_lines: list[tuple[float, int, str]] = []
        for tl, order, text in lines:
            if text.startswith("@EFIX"):
                s = int(text.split()[1])
                sel = seg_of == s
                ts = time_ms[sel]
                ok = sel & keep
                if not ok.any():
                    continue
                text = (
                    f"EFIX {m.eyes[0]}   {_fmt_t(ts[0])}\t{_fmt_t(min(ts[-1], offset))}\t"
                    f"{_fmt_dur(min(ts[-1], offset) - ts[0] + dt)}\t{x[ok].mean():7.1f}\t"
                    f"{y[ok].mean():7.1f}\t{pupil[ok].mean():7.0f}"
                )
                tl = min(tl, offset)
            if tl > offset and not text.startswith("MSG"):
                continue
            out_lines.append((tl, order, text))
        time_ms, x, y, pupil = time_ms[keep], x[keep], y[keep], pupil[keep]
        out_lines.append((offset, 3, f"MSG\t{_fmt_t(offset)} STIMULUS_OFFSET"))
        end_t = float(time_ms[-1]) + dt
        out_lines.append(
            (end_t, 4, f"END\t{_fmt_t(end_t)} \tSAMPLES\tEVENTS\tRES\t  38.54\t  31.12")
        )
        after = end_t + 500 + float(rng.uniform(300, 1500))
        rt = after - end_t
        for k, text in enumerate(
            (
                f"!V TRIAL_VAR stimulus {stim.stimulus_id}",
                f"!V TRIAL_VAR label {stim.label}",
                f"!V TRIAL_VAR response {response}",
                f"!V TRIAL_VAR rt_ms {rt:.0f}",
                "TRIAL_RESULT 1",
            )
        ):
            out_lines.append((after, 5 + k, f"MSG\t{_fmt_t(after)} {text}"))
        for row in truth:
            row["response"] = response
            row["onset_ms"] = onset
            row["offset_ms"] = offset
        return _Trial(time_ms, x, y, pupil, out_lines, truth, after + 200.0)

    def plan_saccade(
        self, rng: np.random.Generator, a: tuple[float, float], b: tuple[float, float]
    ) -> _Saccade:
        """A saccade from a to b (screen px), maybe holding a blink; times relative to 0."""
        m = self.model
        dt = self.dt
        amp = math.hypot(b[0] - a[0], b[1] - a[1]) / self.ppd
        dur = 21.0 + 2.2 * amp  # main sequence (Carpenter 1988)
        n = max(2, round(dur / dt))
        frac = _min_jerk(n)
        xs = a[0] + (b[0] - a[0]) * frac
        ys = a[1] + (b[1] - a[1]) * frac
        blink_at: tuple[int, int] | None = None
        if rng.random() < m.blink_probability:
            nb = max(1, round(float(rng.uniform(*m.blink_ms)) / dt))
            k = n // 2
            xs = np.concatenate([xs[:k], np.full(nb, np.nan), xs[k:]])
            ys = np.concatenate([ys[:k], np.full(nb, np.nan), ys[k:]])
            blink_at = (k, k + nb - 1)
        peak = 1.875 * amp / (dur / 1000.0)  # minimum-jerk peak / mean velocity = 1.875
        return _Saccade(a, b, xs, ys, amp, peak, blink_at, xs.shape[0] * dt)

    def add_saccade(
        self,
        t: float,
        sac: _Saccade,
        segs_t: list[FloatArray],
        segs_x: list[FloatArray],
        segs_y: list[FloatArray],
        segs_p: list[FloatArray],
        lines: list[tuple[float, int, str]],
    ) -> float:
        """Append a planned saccade starting at t; return the time of the next sample."""
        dt = self.dt
        eye = self.model.eyes[0]
        n = sac.x.shape[0]
        ts = _times(t, dt, n)
        pupil = np.where(np.isnan(sac.x), np.nan, 1000.0)
        if sac.blink_at is not None:
            b0, b1 = float(ts[sac.blink_at[0]]), float(ts[sac.blink_at[1]])
            lines.append((b0, 0, f"SBLINK {eye} {_fmt_t(b0)}"))
            lines.append(
                (b1, 2, f"EBLINK {eye} {_fmt_t(b0)}\t{_fmt_t(b1)}\t{_fmt_dur(b1 - b0 + dt)}")
            )
        segs_t.append(ts)
        segs_x.append(sac.x)
        segs_y.append(sac.y)
        segs_p.append(pupil)
        end = float(ts[-1])
        a, b = sac.start, sac.end
        lines.append((t, 0, f"SSACC {eye}  {_fmt_t(t)}"))
        lines.append(
            (
                end,
                2,
                f"ESACC {eye}  {_fmt_t(t)}\t{_fmt_t(end)}\t{_fmt_dur(end - t + dt)}\t"
                f"{a[0]:7.1f}\t{a[1]:7.1f}\t{b[0]:7.1f}\t{b[1]:7.1f}\t{sac.amplitude_deg:6.2f}\t"
                f"{sac.peak_velocity_deg_s:7.0f}",
            )
        )
        return end + dt


@dataclass(frozen=True)
class _Saccade:
    start: tuple[float, float]
    end: tuple[float, float]
    x: FloatArray  # screen px per sample, NaN during a blink
    y: FloatArray
    amplitude_deg: float
    peak_velocity_deg_s: float
    blink_at: tuple[int, int] | None  # first and last sample index of the blink
    duration_ms: float


def _times(start: float, dt: float, n: int) -> FloatArray:
    return np.asarray(start + dt * np.arange(n), dtype=np.float64)


def _snap(ms: float, dt: float) -> float:
    return max(1, round(ms / dt)) * dt


def _fmt_t(t: float) -> str:
    return f"{t:.1f}" if t != int(t) else f"{int(t)}"


def _fmt_dur(d: float) -> str:
    return _fmt_t(round(d * 2) / 2)


def _sample_lines(tr: _Trial, eyes: str) -> list[str]:
    """EyeLink sample lines: time, x, y, pupil per eye, ``.`` for missing, then flags."""
    # %-formatting of tuples is the fastest pure-Python path (about 1 us per line); this is
    # the simulator's hot loop.
    if np.all(tr.time_ms == np.round(tr.time_ms)):
        times: list[str] = [str(v) for v in tr.time_ms.astype(np.int64).tolist()]
    else:  # 2000 Hz: half-millisecond stamps, written as EyeLink does (100, 100.5, 101)
        times = [_fmt_t(v) for v in tr.time_ms.tolist()]
    miss = np.isnan(tr.x).tolist()
    xs, ys, ps = tr.x.tolist(), tr.y.tolist(), tr.pupil.tolist()
    if eyes == "LR":
        # the second eye: a small constant vergence offset
        fmt = "%s\t%7.1f\t%7.1f\t%7.1f\t%7.1f\t%7.1f\t%7.1f\t....."
        gap = "%s\t   .\t   .\t    0.0\t   .\t   .\t    0.0\t....."
        return [
            gap % t if m else fmt % (t, x, y, p, x + 3.0, y - 2.0, p)
            for t, x, y, p, m in zip(times, xs, ys, ps, miss, strict=True)
        ]
    fmt = "%s\t%7.1f\t%7.1f\t%7.1f\t..."
    gap = "%s\t   .\t   .\t    0.0\t..."
    return [
        gap % t if m else fmt % (t, x, y, p)
        for t, x, y, p, m in zip(times, xs, ys, ps, miss, strict=True)
    ]


def _merge(tr: _Trial, sample_lines: list[str]) -> list[str]:
    """Interleave samples with event/message lines by time (events at a sample's time go
    before it when ``order < 1``, after it otherwise)."""
    extra = sorted(tr.lines, key=lambda r: (r[0], r[1]))
    keys = np.array([r[0] + (0.0 if r[1] < 1 else 1e-6) for r in extra])
    pos = np.searchsorted(tr.time_ms, keys, side="left")
    out: list[str] = []
    prev = 0
    for p, (_, _, text) in zip(pos.tolist(), extra, strict=True):
        out.extend(sample_lines[prev:p])
        out.append(text)
        prev = max(prev, p)
    out.extend(sample_lines[prev:])
    return out


@dataclass(frozen=True)
class SimulatedStudy:
    """What :func:`simulate_observers` wrote: the ASC files and the ground truth."""

    recordings: tuple[Path, ...]
    truth: pd.DataFrame  # one row per simulated fixation (incl. the cross fixation)
    trials: pd.DataFrame  # one row per trial: subject, trial, stimulus_id, label, response
    preferences: pd.DataFrame  # per subject x label x region: the participant's shares


def _header(
    screen: ScreenGeometry, model: ObserverModel, subject: str, rng: np.random.Generator
) -> list[str]:
    w, h = screen.width_px - 1, screen.height_px - 1
    eye = {"L": "L", "R": "R", "LR": "LR"}[model.eyes]
    rate = int(model.sampling_rate_hz)
    err = float(rng.uniform(0.2, 0.5))
    t = 1000
    return [
        f"** CONVERTED FROM {subject}.edf using gazealign simulated observers",
        "** DATE: Mon Jan  1 00:00:00 2024",
        "** TYPE: EDF_FILE BINARY EVENT SAMPLE TAGGED",
        "** VERSION: EYELINK II 1",
        "** SOURCE: EYELINK CL",
        "** EYELINK II CL v6.12 Feb  1 2018 (EyeLink Portable Duo)",
        "** RECORDED BY gazealign simulate (SIMULATED DATA, not a person)",
        "**",
        "",
        f"MSG\t{t} DISPLAY_COORDS 0 0 {w} {h}",
        f"MSG\t{t} RETRACE_INTERVAL  16.666666",
        f"MSG\t{t + 1} RECCFG CR {rate} 2 1 {eye}",
        f"MSG\t{t + 1} ELCLCFG BTABLER",
        f"MSG\t{t + 1} GAZE_COORDS 0.00 0.00 {w}.00 {h}.00",
        f"MSG\t{t + 2} !CAL ",
        ">>>>>>> CALIBRATION (HV9,P-CR) FOR LEFT: <<<<<<<<<",
        f"MSG\t{t + 3} !CAL VALIDATION HV9 L LEFT  GOOD ERROR {err:.2f} avg. {2 * err:.2f} max  "
        f"OFFSET {err / 2:.2f} deg. 5.1,-3.2 pix.",
        f"MSG\t{t + 4} !MODE RECORD CR {rate} 2 1 {eye}",
    ]


def simulate_observers(
    stimuli: Sequence[SimStimulus],
    *,
    participants: int,
    out_dir: Path,
    screen: ScreenGeometry,
    stimulus_scale: float,
    seed: int,
    model: ObserverModel | None = None,
    map_fn: Mapper | None = None,
) -> SimulatedStudy:
    """Simulate ``participants`` observers viewing every stimulus; write one ASC each.

    Files: ``out_dir/p01.asc ...``. Returns the ground truth (every simulated fixation, its
    region and screen target) so that readers and detectors can be checked against it.

    Each participant draws from its own child of ``SeedSequence(seed)``, so participants are
    independent: ``map_fn`` (``map``-like, results in the order of its arguments; the pipeline
    passes its worker processes' map) may simulate them in parallel, with the same files.
    """
    model = model or ObserverModel()
    model.check()
    if participants < 1:
        raise DataError("participants must be >= 1")
    if not stimuli:
        raise DataError("no stimuli to simulate viewing")
    for s in stimuli:
        if s.label not in model.aoi_preferences:
            raise DataError(f"stimulus {s.stimulus_id!r}: no AOI preferences for label {s.label!r}")
        if s.label not in model.confusion:
            raise DataError(f"stimulus {s.stimulus_id!r}: no confusion row for label {s.label!r}")
    sim = _Simulator(stimuli, screen, stimulus_scale, model)
    width = max(2, len(str(participants)))
    jobs = [
        _Participant(sim, f"p{p + 1:0{width}d}", child, out_dir)
        for p, child in enumerate(np.random.SeedSequence(seed).spawn(participants))
    ]
    done = list((map_fn or map)(_simulate_participant, jobs))
    return SimulatedStudy(
        recordings=tuple(d.path for d in done),
        truth=pd.DataFrame([row for d in done for row in d.truth]),
        trials=pd.DataFrame([row for d in done for row in d.trials]),
        preferences=pd.DataFrame([row for d in done for row in d.preferences]),
    )


@dataclass(frozen=True)
class _Participant:
    """One simulated participant's job: the shared simulator, its name and seed, its folder."""

    sim: _Simulator
    subject: str
    seed: np.random.SeedSequence
    out_dir: Path


@dataclass(frozen=True)
class _Simulated:
    """What one participant's simulation wrote (its ASC file) and its ground-truth rows."""

    path: Path
    truth: list[dict[str, Any]]
    trials: list[dict[str, Any]]
    preferences: list[dict[str, Any]]


def _simulate_participant(job: _Participant) -> _Simulated:
    """Simulate one participant viewing every stimulus once (in a random order); write its
    ASC file."""
    sim, subject, model = job.sim, job.subject, job.sim.model
    screen, stimuli = sim.screen, sim.stimuli
    rng = np.random.default_rng(job.seed)
    truth: list[dict[str, Any]] = []
    trials: list[dict[str, Any]] = []
    prefs_rows: list[dict[str, Any]] = []
    bias = rng.normal(0.0, model.participant_bias_sd, len(REGIONS))
    prefs = {}
    for label in sorted({s.label for s in stimuli}):
        v = model.preferences(label) * np.exp(bias)
        prefs[label] = v / v.sum()
        for r, share in zip(REGIONS, prefs[label], strict=True):
            prefs_rows.append({"subject": subject, "label": label, "region": r, "share": share})
    speed = float(np.exp(rng.normal(0, 0.1)))
    cross = (
        screen.width_px / 2 + float(rng.normal(0, 0.2)) * screen.px_per_deg,
        screen.height_px / 2 + float(rng.normal(0, 0.2)) * screen.px_per_deg,
    )
    lines = _header(screen, model, subject, rng)
    t = 10_000.0 + float(rng.integers(0, 1000)) * sim.dt
    for trial_no, i in enumerate(rng.permutation(len(stimuli)), start=1):
        stim = stimuli[int(i)]
        row = model.confusion[stim.label]
        names = list(row)
        probs = np.array([row[n] for n in names], dtype=np.float64)
        response = names[int(rng.choice(len(names), p=probs / probs.sum()))]
        tr = sim.trial(rng, stim, subject, trial_no, t, prefs[stim.label], speed, cross, response)
        lines.extend(_merge(tr, _sample_lines(tr, model.eyes)))
        truth.extend(tr.truth)
        trials.append(
            {
                "subject": subject,
                "trial": trial_no,
                "stimulus_id": stim.stimulus_id,
                "label": stim.label,
                "response": response,
            }
        )
        t = _snap(tr.next_ms, sim.dt)
    path = job.out_dir / f"{subject}.asc"
    write_text(path, "\n".join(lines) + "\n")
    return _Simulated(path, truth, trials, prefs_rows)
