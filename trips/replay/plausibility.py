"""Is this a recording of a road vehicle by a GNSS receiver? Figures, and flags from them.

Pure functions on the fixes verification kept (outliers dropped), in a metric CRS:

- `acceleration`: the largest change of speed over `accel_window_s`, speed taken from
  positions on a 1 s grid (central differences over 2 s, running median over 5 s), on
  runs sampled at least every `accel_max_step_s` (sparser fixes say nothing about it).
  A road vehicle does not gain more than ~5 m/s² for seconds on end (0–72 km/h in 4 s is
  a sports car, not a bus, taxi or vending van), nor lose more than ~9 m/s² (the tyres'
  limit, about 1 g).
- `speed_disagreement`: median |speed column − speed from positions| over the fixes where
  both exist; a receiver's Doppler speed and its positions agree to well under 1 m/s.
- `straightness`: the share of `line_window_s` windows whose fixes lie on one straight
  line at constant velocity to within `min_line_residual_m` (RMS). A receiver's noise
  wanders by centimetres over a minute even on a straight road at a steady speed; a
  generated trace (waypoints joined at constant speed, a parked vehicle that never
  moves by a millimetre) does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from core.geo import to_metric
from trips.replay.params import ReplayParams

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Flag:
    code: str  # "implausible_acceleration" | "speed_disagreement" | "too_smooth"
    figures: dict[str, float]


@dataclass(frozen=True)
class Acceleration:
    max_accel_mps2: float
    max_decel_mps2: float
    at_s: float  # seconds from the first fix to the start of the worst window


@dataclass(frozen=True)
class SpeedDisagreement:
    median_abs_diff_mps: float
    median_ratio: float  # speed column / speed from positions, where moving (> 2 m/s)
    samples: int


@dataclass(frozen=True)
class Straightness:
    straight_share: float
    median_residual_m: float
    windows: int


def _runs(t_s: FloatArray, max_gap_s: float) -> tuple[IntArray, list[tuple[int, int]]]:
    """Indices of fixes strictly later than all before them, and its runs between gaps."""
    keep = np.flatnonzero(t_s > np.concatenate(([-np.inf], np.maximum.accumulate(t_s)[:-1])))
    cut = np.flatnonzero(np.diff(t_s[keep]) > max_gap_s) + 1
    bounds = np.concatenate(([0], cut, [keep.size]))
    return keep, [(int(a), int(b)) for a, b in pairwise(bounds.tolist())]


def _grid_velocity(
    t: FloatArray, x: FloatArray, y: FloatArray, *, median: bool = False
) -> tuple[FloatArray, FloatArray] | None:
    """Speed from positions on a 1 s grid over one run (central differences over 2 s).

    With `median`, a running median over 5 s follows: one wrong fix spoils two speeds
    two seconds apart, which the median of five drops, while a real change of speed that
    lasts survives it.
    """
    grid = np.arange(t[0], t[-1] + 1e-9, 1.0)
    if grid.size < 3 + 4 * median:
        return None
    gx, gy = np.interp(grid, t, x - x[0]), np.interp(grid, t, y - y[0])
    speed = np.hypot(gx[2:] - gx[:-2], gy[2:] - gy[:-2]) / 2.0
    if median:
        return grid[3:-3], np.median(sliding_window_view(speed, 5), axis=1)
    return grid[1:-1], speed


def acceleration(
    t_s: FloatArray, x: FloatArray, y: FloatArray, *, params: ReplayParams
) -> Acceleration | None:
    """The largest sustained gain and loss of speed; None when no run is long enough."""
    keep, runs = _runs(t_s, params.accel_max_step_s)
    w = round(params.accel_window_s)
    best = (0.0, 0.0, 0.0)
    found = False
    for a, b in runs:
        idx = keep[a:b]
        got = _grid_velocity(t_s[idx], x[idx], y[idx], median=True)
        if got is None or got[1].size <= w:
            continue
        grid, speed = got
        change = (speed[w:] - speed[:-w]) / w
        found = True
        up, down = int(np.argmax(change)), int(np.argmin(change))
        if change[up] > best[0]:
            best = (float(change[up]), best[1], float(grid[up] - t_s[0]))
        if -change[down] > best[1]:
            best = (best[0], float(-change[down]), best[2])
    return Acceleration(*best) if found else None


def speed_disagreement(
    t_s: FloatArray, x: FloatArray, y: FloatArray, speed_mps: FloatArray, *, params: ReplayParams
) -> SpeedDisagreement | None:
    """Speed column against speed from positions; None with too few fixes to compare."""
    keep, runs = _runs(t_s, params.max_gap_s)
    column: list[FloatArray] = []
    positional: list[FloatArray] = []
    for a, b in runs:
        idx = keep[a:b]
        got = _grid_velocity(t_s[idx], x[idx], y[idx])
        if got is None:
            continue
        grid, speed = got
        inside = idx[(t_s[idx] >= grid[0]) & (t_s[idx] <= grid[-1])]
        ok = inside[np.isfinite(speed_mps[inside])]
        column.append(speed_mps[ok])
        positional.append(np.interp(t_s[ok], grid, speed))
    if not column or sum(c.size for c in column) < params.min_speed_samples:
        return None
    col, pos = np.concatenate(column), np.concatenate(positional)
    moving = pos > 2.0
    ratio = float(np.median(col[moving] / pos[moving])) if moving.any() else float("nan")
    return SpeedDisagreement(float(np.median(np.abs(col - pos))), ratio, int(col.size))


def straightness(
    t_s: FloatArray, x: FloatArray, y: FloatArray, *, params: ReplayParams
) -> Straightness | None:
    """How much of the trace is a machine-straight line; None with too few windows."""
    keep, runs = _runs(t_s, params.max_gap_s)
    residuals: list[float] = []
    for a, b in runs:
        idx = keep[a:b]
        t = t_s[idx]
        window = np.floor((t - t[0]) / params.line_window_s).astype(np.int64)
        starts = np.flatnonzero(np.concatenate(([True], window[1:] != window[:-1])))
        ends = np.concatenate((starts[1:], [idx.size]))
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            # A window counts with 5 fixes or more spanning at least half its length.
            if e - s >= 5 and t[e - 1] - t[s] >= params.line_window_s / 2:
                residuals.append(_line_residual(t[s:e], x[idx[s:e]], y[idx[s:e]]))
    if len(residuals) < params.min_line_windows:
        return None
    res = np.array(residuals)
    return Straightness(
        float((res < params.min_line_residual_m).mean()), float(np.median(res)), res.size
    )


def _line_residual(t: FloatArray, x: FloatArray, y: FloatArray) -> float:
    """RMS distance of the fixes from the least-squares line x(t), y(t) (constant velocity)."""
    dt = t - t.mean()
    stt = float(dt @ dt)
    total = 0.0
    for v in (x, y):
        dv = v - v.mean()
        total += float(dv @ dv) - float(dt @ dv) ** 2 / stt
    return float(np.sqrt(max(total, 0.0) / t.size))


def plausibility_flags(
    lon: FloatArray,
    lat: FloatArray,
    t_ns: IntArray,
    *,
    speed_mps: FloatArray | None,
    params: ReplayParams,
) -> list[Flag]:
    """The flags a trace raises, each with its figures (none: plausible)."""
    t_s = (np.asarray(t_ns, dtype=np.int64) - int(t_ns[0])) / 1e9
    x, y = to_metric(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64), params.metric_crs
    )
    flags = []
    acc = acceleration(t_s, x, y, params=params)
    if acc is not None and (
        acc.max_accel_mps2 > params.max_accel_mps2 or acc.max_decel_mps2 > params.max_decel_mps2
    ):
        flags.append(Flag("implausible_acceleration", _figures(acc)))
    if speed_mps is not None:
        speed = speed_disagreement(t_s, x, y, speed_mps, params=params)
        if speed is not None and speed.median_abs_diff_mps > params.max_speed_diff_mps:
            flags.append(Flag("speed_disagreement", _figures(speed)))
    line = straightness(t_s, x, y, params=params)
    if line is not None and line.straight_share > params.max_straight_share:
        flags.append(Flag("too_smooth", _figures(line)))
    return flags


def _figures(obj: Acceleration | SpeedDisagreement | Straightness) -> dict[str, float]:
    return {k: float(v) for k, v in vars(obj).items()}
