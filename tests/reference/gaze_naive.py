"""Naive per-sample reference implementations of fixation detection (slow, obvious, float64).

Straight from Salvucci & Goldberg (2000), "Identifying fixations and saccades in eye-tracking
protocols": I-VT thresholds point-to-point speed, I-DT grows a dispersion window. Speeds come
from a least-squares quadratic fitted in each window (what a Savitzky-Golay derivative is).
"""

from __future__ import annotations

import math

import numpy as np


def speed_naive(t_ms, x_deg, y_deg, interval_ms, window_ms):
    """Per-sample speed: the slope at the centre of a quadratic fitted over the window."""
    n = len(t_ms)
    w = max(3, round(window_ms / interval_ms) | 1)
    h = w // 2
    out = np.full(n, np.nan)
    seg = [0]
    for i in range(1, n):
        seg.append(seg[-1] + (1 if t_ms[i] - t_ms[i - 1] > 1.5 * interval_ms else 0))
    for i in range(n):
        members = [j for j in range(n) if seg[j] == seg[i]]
        lo, hi = members[0], members[-1] + 1
        if hi - lo < w:
            continue
        # window centred on i, shifted inside the segment at its edges (scipy mode="interp")
        a = min(max(i - h, lo), hi - w)
        idx = list(range(a, a + w))
        if any(not (math.isfinite(x_deg[j]) and math.isfinite(y_deg[j])) for j in idx):
            continue
        # and any NaN within the centred window also poisons the sample
        if any(
            0 <= j < n and not (math.isfinite(x_deg[j]) and math.isfinite(y_deg[j]))
            for j in range(i - h, i + h + 1)
        ):
            continue
        s = (np.array(idx, dtype=float) - i) * interval_ms / 1000.0
        vx = np.polyfit(s, np.array([x_deg[j] for j in idx]), 2)[1]
        vy = np.polyfit(s, np.array([y_deg[j] for j in idx]), 2)[1]
        out[i] = math.hypot(vx, vy)
    return out


def runs_naive(mask, t_ms, interval_ms):
    """[start, stop) runs of True not crossing a time gap."""
    out = []
    i = 0
    n = len(mask)
    while i < n:
        if not mask[i]:
            i += 1
            continue
        j = i + 1
        while j < n and mask[j] and t_ms[j] - t_ms[j - 1] <= 1.5 * interval_ms:
            j += 1
        out.append((i, j))
        i = j
    return out


def ivt_naive(t_ms, x_deg, y_deg, interval_ms, threshold, min_duration_ms, window_ms):
    speed = speed_naive(t_ms, x_deg, y_deg, interval_ms, window_ms)
    mask = [math.isfinite(v) and v < threshold for v in speed]
    return [
        (a, b)
        for a, b in runs_naive(mask, t_ms, interval_ms)
        if t_ms[b - 1] - t_ms[a] + interval_ms >= min_duration_ms - 1e-9
    ]


def idt_naive(t_ms, x_deg, y_deg, interval_ms, threshold, min_duration_ms):
    n = len(t_ms)
    k = max(1, math.ceil(min_duration_ms / interval_ms - 1e-9))

    def ok(a, b):  # window [a, b) valid, contiguous and compact
        xs, ys = x_deg[a:b], y_deg[a:b]
        if not all(math.isfinite(v) for v in list(xs) + list(ys)):
            return False
        if any(t_ms[j] - t_ms[j - 1] > 1.5 * interval_ms for j in range(a + 1, b)):
            return False
        return (max(xs) - min(xs)) + (max(ys) - min(ys)) <= threshold

    out = []
    i = 0
    while i + k <= n:
        if ok(i, i + k):
            j = i + k
            while j < n and ok(i, j + 1):
                j += 1
            out.append((i, j))
            i = j
        else:
            i += 1
    return out
