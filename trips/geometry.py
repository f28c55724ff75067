"""Trace verification: parsed fixes + approved zones → verified metres and reasons.

Pure functions on numpy/shapely/pyproj; no Django (settings arrive as `VerifyParams`).
The rules, their order and every reason code are documented in docs/verification.md;
the short version, in order:

1. Refuse what cannot be measured: no fixes, sentinel or future times, time going
   backwards (never reordered), a trip longer than `max_duration_s`, no driving mode.
2. GCJ-02 → WGS-84 when declared, then the metric CRS.
3. Drop exact duplicate fixes, then speed outliers (implied speed from the last *kept*
   fix above `max_speed_kmh`).
4. Steps between kept fixes: a step longer in time than `max_gap_s` is a gap (no credit);
   a step between two stationary fixes is jitter (no credit); the rest are measured.
5. Autonomous steps (both ends) inside the permit, after the operator became eligible,
   are cut exactly by the union of the zones valid at the step's start.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache, wraps
from typing import Any, Literal, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import shapely

from core.geo import gcj02_to_wgs84, to_metric
from routes.zones import Zone, ZoneInterval
from trips.parsers import ParsedTrace
from trips.zonecut import (
    EdgeGrid,
    ZoneIndex,
    edge_grid,
    inside_fraction,
    pieces_by_zone,
    zone_index,
    zones_of,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

VERSION = "verify-1"

# One tag per step between consecutive kept fixes; `VerificationResult.step_tag` holds
# indexes into this tuple (uint8). Outliers are dropped fixes, returned separately.
STEP_TAGS: tuple[str, ...] = (
    "eligible",  # autonomous, permitted, inside an approved zone (at least half of it)
    "outside_zone",  # autonomous and permitted, but mostly outside the approved zones
    "manual",  # at least one end driven manually
    "gap",  # longer than max_gap_s between fixes: no credit
    "stationary",  # both ends stationary: jitter, no credit
    "not_permitted",  # autonomous, but outside the vehicle's permit window
    "operator_not_eligible",  # autonomous and permitted, before the operator was eligible
)
TAG = {name: i for i, name in enumerate(STEP_TAGS)}

# Reasons that make the trip rejected / needs_review; every other reason is information
# (metres or fixes that earned nothing, and why).
REJECT_CODES = frozenset(
    {"no_fixes", "too_few_fixes", "time_implausible", "time_backwards", "too_long", "mode_missing"}
)
REVIEW_CODES = frozenset(
    {
        "many_outliers",
        "implausible_jump",
        "long_gap",
        "many_gaps",
        "gap_jump",
        "odometer_disagreement",
        "permit_lapsed",
    }
)

_NS = 1_000_000_000
# Coarse cells of the per-segment zone index (a performance knob, not a rule).
ZONE_INDEX_CELL_M = 64.0
# Steps cut by the zones at a time (bounds the cut's memory; not a rule).
ZONE_CUT_CHUNK = 1 << 16


@dataclass(frozen=True)
class VerifyParams:
    """Every knob of verification; stored with each result (`asdict` is JSON-ready)."""

    max_speed_kmh: float = 150.0
    max_gap_s: float = 10.0
    metric_crs: str = "EPSG:4547"
    tz: str = "Asia/Shanghai"
    max_duration_s: float = 24 * 3600
    # Plausible times: none before 1 January of this year (UTC), none later than
    # `max_future_s` after the verification time (clock skew).
    earliest_year: int = 2000
    max_future_s: float = 600.0
    # Jitter: a fix is stationary when the fixes stop_window_s before and after it are
    # both within stop_radius_m of it; a step between two stationary fixes earns nothing.
    stop_window_s: float = 10.0
    stop_radius_m: float = 5.0
    # needs_review thresholds.
    review_outlier_share: float = 0.01
    review_outlier_run_s: float = 10.0
    review_gap_share: float = 0.10
    review_gap_s: float = 300.0
    review_gap_jump_m: float = 1000.0
    review_odometer_share: float = 0.05
    review_odometer_min_m: float = 200.0
    # Grid cell of the exact zone cut (a performance knob; results do not depend on it).
    edge_grid_m: float = 8.0


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    count: int = 0
    metres: float = 0.0
    line: int | None = None


@dataclass
class VerificationResult:
    outcome: str  # "accepted" | "needs_review" | "rejected"
    started_at: datetime | None
    ended_at: datetime | None
    points_total: int
    points_used: int
    total_m: float
    autonomous_m: float
    eligible_m: float
    disengagements: int
    segment_m: dict[int, float]
    day_m: dict[date, tuple[float, float]]
    reasons: list[Reason]
    lon: FloatArray
    lat: FloatArray
    step_tag: npt.NDArray[np.uint8]
    outlier_lon: FloatArray = field(default_factory=lambda: np.zeros(0))
    outlier_lat: FloatArray = field(default_factory=lambda: np.zeros(0))
    version: str = VERSION


def _empty(outcome: str, points_total: int, reasons: list[Reason]) -> VerificationResult:
    return VerificationResult(
        outcome=outcome,
        started_at=None,
        ended_at=None,
        points_total=points_total,
        points_used=0,
        total_m=0.0,
        autonomous_m=0.0,
        eligible_m=0.0,
        disengagements=0,
        segment_m={},
        day_m={},
        reasons=reasons,
        lon=np.zeros(0),
        lat=np.zeros(0),
        step_tag=np.zeros(0, dtype=np.uint8),
    )


def _ns(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("aware datetimes only")
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * _NS + delta.microseconds * 1000


def _dt(ns: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)


def _refusals(
    trace: ParsedTrace, default_auto: bool | None, params: VerifyParams, now: datetime
) -> list[Reason]:
    """The reasons that make the file unmeasurable; first found, with its line."""
    t = trace.t_ns
    earliest = _ns(datetime(params.earliest_year, 1, 1, tzinfo=UTC))
    latest = _ns(now) + int(params.max_future_s * _NS)
    bad = (t < earliest) | (t > latest)
    if bad.any():
        i = int(np.argmax(bad))
        return [
            Reason(
                "time_implausible",
                f"Fix time {_dt(int(t[i])).isoformat()} is before {params.earliest_year} or in "
                "the future: a receiver's placeholder, not a real time.",
                count=int(bad.sum()),
                line=trace.line_of(i),
            )
        ]
    back = np.flatnonzero(np.diff(t) < 0)
    if back.size:
        i = int(back[0]) + 1
        return [
            Reason(
                "time_backwards",
                "Time goes backwards; fixes are never reordered, so the log cannot be "
                "measured. Export it in recording order.",
                count=int(back.size),
                line=trace.line_of(i),
            )
        ]
    duration = (int(t[-1]) - int(t[0])) / _NS
    if duration > params.max_duration_s:
        return [
            Reason(
                "too_long",
                f"The trip lasts {duration / 3600:.1f} h; the limit is "
                f"{params.max_duration_s / 3600:.1f} h. Upload one file per trip.",
            )
        ]
    if trace.auto is None and default_auto is None:
        return [
            Reason(
                "mode_missing",
                "The file carries no driving mode and the upload declared none.",
            )
        ]
    return []


def _project(lon: FloatArray, lat: FloatArray, crs: str) -> tuple[FloatArray, FloatArray]:
    """`to_metric`, through a polynomial fitted on the trace's box for big traces.

    pyproj costs ~0.25 µs a point. Over a box of a few tenths of a degree the transverse
    Mercator is smooth enough that a cubic (quartic up to 2°) fitted on 9×9 exact points is
    within 0.1 mm; it is checked on a 17×17 grid of exact points and pyproj is used
    whenever the check exceeds 1 mm.
    """
    if lon.size < 20_000:
        return to_metric(lon, lat, crs)
    lo0, lo1 = float(lon.min()), float(lon.max())
    la0, la1 = float(lat.min()), float(lat.max())
    if lo1 - lo0 > 2 or la1 - la0 > 2:
        return to_metric(lon, lat, crs)
    sx, sy = max(lo1 - lo0, 1e-6), max(la1 - la0, 1e-6)
    g = np.linspace(0.0, 1.0, 9)
    fu, fv = (a.ravel() for a in np.meshgrid(g, g))
    fx, fy = to_metric(lo0 + fu * sx, la0 + fv * sy, crs)
    h = np.linspace(0.0, 1.0, 17)
    hu, hv = (a.ravel() for a in np.meshgrid(h, h))
    hx, hy = to_metric(lo0 + hu * sx, la0 + hv * sy, crs)
    for degree in (3, 4):
        terms = [(i, j) for i in range(degree + 1) for j in range(degree + 1 - i)]
        fit = np.stack([fu**i * fv**j for i, j in terms], axis=1)
        check = np.stack([hu**i * hv**j for i, j in terms], axis=1)
        cx = np.linalg.lstsq(fit, fx, rcond=None)[0]
        cy = np.linalg.lstsq(fit, fy, rcond=None)[0]
        if max(np.abs(check @ cx - hx).max(), np.abs(check @ cy - hy).max()) <= 1e-3:
            break
    else:
        return to_metric(lon, lat, crs)
    coef = {t: (float(a), float(b)) for t, a, b in zip(terms, cx, cy, strict=True)}
    x = np.empty_like(lon)
    y = np.empty_like(lon)
    # In blocks that stay in the CPU cache: a degree-4 Horner is ~60 passes over the
    # block, which over whole 8 MB arrays would each go to main memory.
    block = min(lon.size, _PROJECT_BLOCK)
    u = np.empty(block)
    v = np.empty(block)
    px = np.empty(block)
    py = np.empty(block)
    for lo in range(0, lon.size, block):
        k = min(block, lon.size - lo)
        bu, bv, bpx, bpy = u[:k], v[:k], px[:k], py[:k]
        bx, by = x[lo : lo + k], y[lo : lo + k]
        np.subtract(lon[lo : lo + k], lo0, out=bu)
        bu /= sx
        np.subtract(lat[lo : lo + k], la0, out=bv)
        bv /= sy
        # Horner in u, whose coefficients are polynomials in v (also Horner), in place.
        bx.fill(0.0)
        by.fill(0.0)
        for i in range(degree, -1, -1):
            bpx.fill(coef[(i, degree - i)][0])
            bpy.fill(coef[(i, degree - i)][1])
            for j in range(degree - i - 1, -1, -1):
                bpx *= bv
                bpx += coef[(i, j)][0]
                bpy *= bv
                bpy += coef[(i, j)][1]
            bx *= bu
            bx += bpx
            by *= bu
            by += bpy
    return x, y


_PROJECT_BLOCK = 1 << 14


def _step_lengths(x: FloatArray, y: FloatArray) -> FloatArray:
    """|p[i+1] - p[i]| (np.hypot is several times slower), with block-sized temporaries."""
    out = np.empty(max(x.size - 1, 0))
    for lo in range(0, out.size, _BLOCK):
        hi = min(out.size, lo + _BLOCK)
        dx = out[lo:hi]
        np.subtract(x[lo + 1 : hi + 1], x[lo:hi], out=dx)
        dy = np.diff(y[lo : hi + 1])
        dx *= dx
        dy *= dy
        dx += dy
        np.sqrt(dx, out=dx)
    return out


def _gaps(t_s: FloatArray, max_gap_s: float) -> tuple[BoolArray, IntArray, FloatArray]:
    """Steps longer in time than max_gap_s: mask, indexes and durations, without the
    time step of every step as an 8 MB temporary."""
    gap = np.empty(max(t_s.size - 1, 0), dtype=bool)
    for lo in range(0, gap.size, _BLOCK):
        hi = min(gap.size, lo + _BLOCK)
        np.greater(np.diff(t_s[lo : hi + 1]), max_gap_s, out=gap[lo:hi])
    at = np.flatnonzero(gap)
    return gap, at, t_s[at + 1] - t_s[at]


def speed_filter(t_s: FloatArray, x: FloatArray, y: FloatArray, max_speed_ms: float) -> BoolArray:
    """Keep mask of the sequential rule "implied speed from the last kept fix ≤ max".

    Sequentially, fix i is kept when dist(last kept, i) ≤ max·(t_i − t_last kept). While
    every fix is kept, "last kept" is simply the previous fix, so one vectorised pass over
    consecutive steps finds all fixes where the rule can first drop something. From each
    such fix the anchor (last kept fix) is fixed, and the next fix it accepts is found by
    testing growing blocks of following fixes against that anchor at once; from there the
    consecutive test holds again until the next failing step. The Python loop runs once per
    outlier episode, not per fix, and the answer is the sequential rule's, exactly.
    """
    n = t_s.size
    keep = np.ones(n, dtype=bool)
    if n < 2:
        return keep
    # Steps i → i+1 that fail (fix i is kept at that point), in blocks of fixes: the
    # temporaries stay small whatever the trace's length.
    failing: list[IntArray] = []
    for lo in range(0, n - 1, _BLOCK):
        hi = min(n, lo + _BLOCK + 1)
        reach = np.diff(t_s[lo:hi])
        reach *= max_speed_ms
        failing.append(np.flatnonzero(~(_step_lengths(x[lo:hi], y[lo:hi]) <= reach)) + lo)
    bad = np.concatenate(failing)
    pos = 0
    while pos < bad.size:
        a = int(bad[pos])
        start, size, found = a + 1, 64, -1
        while start < n:
            stop = min(n, start + size)
            d = np.hypot(x[start:stop] - x[a], y[start:stop] - y[a])
            good = d <= max_speed_ms * (t_s[start:stop] - t_s[a])
            if good.any():
                found = start + int(np.argmax(good))
                break
            start, size = stop, size * 4
        if found < 0:
            keep[a + 1 :] = False
            break
        keep[a + 1 : found] = False
        pos = int(np.searchsorted(bad, found))
    return keep


def stationary_fixes(
    t_s: FloatArray, x: FloatArray, y: FloatArray, window_s: float, radius_m: float
) -> BoolArray:
    """A fix is stationary when the fixes window_s before and after it are within radius_m.

    Precisely: with b the first fix at or after t − window and f the last at or before
    t + window, the fix is stationary when both |p − p_b| and |p_f − p| are below the
    radius. A parked vehicle's time-correlated noise wanders well under a metre in 10 s,
    while a 5 km/h crawl covers 13.9 m; a step earns nothing only when both its ends are
    stationary, so the first and last metres of a real movement always count.
    """
    r2 = radius_m * radius_m
    still = np.empty(t_s.size, dtype=bool)
    # In blocks of fixes, so that the temporaries stay small whatever the trace's length.
    for lo in range(0, t_s.size, _BLOCK):
        hi = min(t_s.size, lo + _BLOCK)
        t, px, py = t_s[lo:hi], x[lo:hi], y[lo:hi]
        b = _search_sorted(t_s, t - window_s, "left")
        back = _within(x, y, b, px=px, py=py, r2=r2)
        # The fix ahead only for fixes that passed the test behind: most fixes move.
        ahead = np.flatnonzero(back)
        f = _search_sorted(t_s, t[ahead] + window_s, "right")
        f -= 1
        back[ahead] = _within(x, y, f, px=px[ahead], py=py[ahead], r2=r2)
        still[lo:hi] = back
    return still


def _within(
    x: FloatArray, y: FloatArray, other: IntArray, *, px: FloatArray, py: FloatArray, r2: float
) -> BoolArray:
    """|p[other[i]] - (px, py)[i]|² < r2, with two temporaries (the squares are symmetric)."""
    dx = x[other]
    dx -= px
    dx *= dx
    dy = y[other]
    dy -= py
    dy *= dy
    dx += dy
    return dx < r2


_SEARCH_BLOCK = 4096
# Fixes per block of the speed rule's and the stationary windows' passes.
_BLOCK = 1 << 16


def _search_sorted(a: FloatArray, v: FloatArray, side: Literal["left", "right"]) -> IntArray:
    """`np.searchsorted(a, v, side)` for sorted `v`, about twice as fast for long arrays.

    The answers for a block of sorted values lie between the answers for its first and
    last value, so each block is searched in that short, cache-resident slice of `a`.
    """
    out = np.empty(v.size, dtype=np.int64)
    first = np.searchsorted(a, v[::_SEARCH_BLOCK], side=side)
    last = np.searchsorted(a, v[_SEARCH_BLOCK - 1 :: _SEARCH_BLOCK], side=side)
    for k, at in enumerate(range(0, v.size, _SEARCH_BLOCK)):
        lo = int(first[k])
        hi = int(last[k]) + 1 if k < last.size else a.size
        block = out[at : at + _SEARCH_BLOCK]
        block[:] = np.searchsorted(a[lo:hi], v[at : at + _SEARCH_BLOCK], side=side)
        block += lo
    return out


def _local_days(t_ns: IntArray, tz: str) -> tuple[list[date], npt.NDArray[np.integer[Any]]]:
    """Local calendar day of each time, via the day boundaries in `tz` (handles DST).

    The day numbers in the smallest integer type that holds them: a byte per step, not 8.
    """
    zone = ZoneInfo(tz)
    first = _dt(int(t_ns[0])).astimezone(zone).date()
    last = _dt(int(t_ns[-1])).astimezone(zone).date()
    days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    bounds = np.asarray(
        [_ns(datetime(d.year, d.month, d.day, tzinfo=zone)) for d in days[1:]], dtype=np.int64
    )
    index = np.searchsorted(bounds, t_ns, side="right")
    return days, index.astype(np.min_scalar_type(len(days)))


@dataclass
class _Pieces:
    """Steps cut into pieces no longer than the grid cell (most steps are one piece)."""

    step: IntArray
    px: FloatArray
    py: FloatArray
    qx: FloatArray
    qy: FloatArray
    length: FloatArray
    chain_start: BoolArray


def _pieces(
    steps: IntArray, x: FloatArray, y: FloatArray, length: FloatArray, cell_m: float
) -> _Pieces:
    count = np.maximum(np.ceil(length[steps] / cell_m), 1).astype(np.int64)
    if count.max() == 1:
        # The common case at 10 Hz: every step is one piece.
        chain_start = np.ones(steps.size, dtype=bool)
        chain_start[1:] = steps[1:] != steps[:-1] + 1
        return _Pieces(
            step=steps,
            px=x[steps],
            py=y[steps],
            qx=x[steps + 1],
            qy=y[steps + 1],
            length=length[steps],
            chain_start=chain_start,
        )
    step = np.repeat(steps, count)
    first = np.cumsum(count) - count
    k = (np.arange(step.size) - np.repeat(first, count)).astype(np.float64)
    c = np.repeat(count, count).astype(np.float64)
    x0, y0, dx, dy = x[step], y[step], x[step + 1] - x[step], y[step + 1] - y[step]
    a, b = k / c, (k + 1) / c
    chain_start = np.ones(step.size, dtype=bool)
    chain_start[1:] = (step[1:] != step[:-1] + 1) & (step[1:] != step[:-1])
    return _Pieces(
        step=step,
        px=x0 + a * dx,
        py=y0 + a * dy,
        qx=x0 + b * dx,
        qy=y0 + b * dy,
        length=length[step] / c,
        chain_start=chain_start,
    )


# The approved zones change rarely and every trip of a period is cut by the same ones, so
# their indexes are kept between trips (keyed by value: a corrected approval is a new key).
@lru_cache(maxsize=4)  # each holds a network's edge index: megabytes to tens of MB
def _zone_set(zones: tuple[Zone, ...], cell_m: float) -> tuple[EdgeGrid, ZoneIndex]:
    polygons = [z.polygon for z in zones]
    return (
        edge_grid(shapely.union_all(polygons), cell_m),
        zone_index(polygons, cell_m=ZONE_INDEX_CELL_M, reach_m=cell_m),
    )


@lru_cache(maxsize=128)
def _zone_grid(zone: Zone, cell_m: float) -> EdgeGrid:
    return edge_grid(zone.polygon, cell_m)


def _cut_chunk(
    steps: IntArray,
    *,
    x: FloatArray,
    y: FloatArray,
    length: FloatArray,
    zones: tuple[Zone, ...],
    union_grid: EdgeGrid,
    index: ZoneIndex,
    cell_m: float,
    inside_m: FloatArray,
    per_zone: FloatArray,
) -> None:
    """Cut ascending `steps`; adds into `inside_m` (per step) and `per_zone` (per zone)."""
    p = _pieces(steps, x, y, length, cell_m)
    frac = inside_fraction(
        union_grid,
        px=p.px,
        py=p.py,
        qx=p.qx,
        qy=p.qy,
        chain_start=p.chain_start,
    )
    piece_m = frac * p.length
    first, last = int(steps[0]), int(steps[-1])
    inside_m[first : last + 1] += np.bincount(
        p.step - first, weights=piece_m, minlength=last - first + 1
    )
    hit = np.flatnonzero(frac > 0)
    count, only = zones_of(index, p.px[hit], p.py[hit])
    single = count == 1
    per_zone += np.bincount(only[single], weights=piece_m[hit][single], minlength=len(zones))
    for z, idx in pieces_by_zone(index, hit[count > 1], p.px, p.py).items():
        chain = np.ones(idx.size, dtype=bool)
        chain[1:] = (idx[1:] != idx[:-1] + 1) | p.chain_start[idx[1:]]
        zf = inside_fraction(
            _zone_grid(zones[z], cell_m),
            px=p.px[idx],
            py=p.py[idx],
            qx=p.qx[idx],
            qy=p.qy[idx],
            chain_start=chain,
        )
        per_zone[z] += float(np.dot(zf, p.length[idx]))


def _prepare_zones(
    zones: Sequence[ZoneInterval], first_ns: int, last_ns: int, cell_m: float
) -> None:
    """Build (or find cached) the indexes of the zone sets the trip's time overlaps.

    Done before the trace's own arrays exist: a first build allocates tens of MB of
    temporaries, which during the zone cut would add to the trip's memory peak.
    """
    for interval in zones:
        lo = _ns(interval.start) if interval.start is not None else first_ns
        hi = _ns(interval.end) if interval.end is not None else last_ns + 1
        if interval.zones and lo <= last_ns and hi > first_ns:
            _zone_set(interval.zones, cell_m)


def _steps_by_interval(
    candidates: IntArray, step_t: IntArray, zones: Sequence[ZoneInterval]
) -> list[tuple[tuple[Zone, ...], IntArray]]:
    """The candidate steps of each zone interval, by the step's start time.

    Split before the zone cut so that the step times need not live through it; the usual
    single unbounded interval takes the candidates as they are, without a copy.
    """
    out = []
    ct: IntArray | None = None
    for interval in zones:
        if not interval.zones:
            continue
        if interval.start is None and interval.end is None:
            steps = candidates
        else:
            if ct is None:
                ct = step_t[candidates]
            lo = _ns(interval.start) if interval.start is not None else np.iinfo(np.int64).min
            hi = _ns(interval.end) if interval.end is not None else np.iinfo(np.int64).max
            steps = candidates[(ct >= lo) & (ct < hi)]
        if steps.size:
            out.append((interval.zones, steps))
    return out


def _zone_metres(
    *,
    intervals: list[tuple[tuple[Zone, ...], IntArray]],
    x: FloatArray,
    y: FloatArray,
    length: FloatArray,
    cell_m: float,
) -> tuple[FloatArray, dict[int, float]]:
    """Metres of each candidate step inside the zones valid at its start; per segment too.

    Per segment: a piece near one zone only takes the union's answer; where several zones
    come near (overlaps, crossings), each cuts the piece itself, so a piece inside two
    overlapping corridors credits both segments (the union, counted once, is what pays).
    """
    inside_m = np.zeros(length.size)
    segment_m: dict[int, float] = {}
    for zones, steps in intervals:
        union_grid, index = _zone_set(zones, cell_m)
        per_zone = np.zeros(len(zones))
        # In chunks of steps: the pieces and the cut's temporaries are a few MB whatever the
        # trace's length (each chunk's first chain is anchored exactly, like any other).
        for at in range(0, steps.size, ZONE_CUT_CHUNK):
            _cut_chunk(
                steps[at : at + ZONE_CUT_CHUNK],
                x=x,
                y=y,
                length=length,
                zones=zones,
                union_grid=union_grid,
                index=index,
                cell_m=cell_m,
                inside_m=inside_m,
                per_zone=per_zone,
            )
        for zone, metres in zip(zones, per_zone.tolist(), strict=True):
            if metres > 0:
                segment_m[zone.segment_id] = segment_m.get(zone.segment_id, 0.0) + metres
    return inside_m, segment_m


# glibc's malloc keeps the pages of freed blocks in the process: after a million-fix trip,
# ~100 MB of its released arrays stay resident, and the next trip's file comes on top of
# them (a worker's peak 300+ MB instead of ~270). malloc_trim hands them back; the next
# trip faults fresh pages in (~25 ms a million fixes). Other C libraries: nothing to do.
_MALLOC_TRIM = getattr(ctypes.CDLL(None), "malloc_trim", None) if sys.platform == "linux" else None
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _then_release_free_memory(func: Callable[_P, _R]) -> Callable[_P, _R]:
    @wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return func(*args, **kwargs)
        finally:
            if _MALLOC_TRIM is not None:
                _MALLOC_TRIM(0)

    return wrapper


@_then_release_free_memory
def verify(  # noqa: PLR0915 - the rules read top to bottom in the order they apply
    trace: ParsedTrace,
    *,
    crs: str,
    default_auto: bool | None,
    zones: Sequence[ZoneInterval],
    permit: tuple[datetime, datetime] | None,
    eligible_from: datetime | None,
    params: VerifyParams,
    now: datetime | None = None,
) -> VerificationResult:
    """Measure a parsed trace. `crs` is "wgs84" or "gcj02"; see docs/verification.md.

    `permit` None means no valid permit, `eligible_from` None an operator not (yet)
    eligible: the trip is still measured, but nothing is eligible.
    """
    n = len(trace)
    reasons = [
        Reason(note.code, note.message, count=note.count, line=note.line) for note in trace.notes
    ]
    if n == 0:
        return _empty(
            "rejected", 0, [*reasons, Reason("no_fixes", "The file has no usable fixes.")]
        )
    refusals = _refusals(trace, default_auto, params, now or datetime.now(UTC))
    if refusals:
        return _empty("rejected", n, reasons + refusals)

    lon, lat = trace.lon, trace.lat
    if crs == "gcj02":
        lon, lat = gcj02_to_wgs84(lon, lat)
    elif crs != "wgs84":
        raise ValueError(f"unknown crs {crs!r}")
    auto_all = trace.auto if trace.auto is not None else np.full(n, bool(default_auto))
    if permit is not None and eligible_from is not None:
        _prepare_zones(zones, int(trace.t_ns[0]), int(trace.t_ns[-1]), params.edge_grid_m)

    # Duplicates: a fix identical in time and place to the one before it.
    t_all = trace.t_ns
    dup = np.zeros(n, dtype=bool)
    dup[1:] = (t_all[1:] == t_all[:-1]) & (lon[1:] == lon[:-1]) & (lat[1:] == lat[:-1])
    if dup.any():
        reasons.append(
            Reason(
                "duplicate",
                "Exact duplicate fixes (same time and place as the previous one) were dropped.",
                count=int(dup.sum()),
                line=trace.line_of(int(np.argmax(dup))),
            )
        )
    # A million fixes make every array 8 MB: where nothing was dropped, views stand in for
    # copies, and pre-filter arrays are released early.
    idx = np.flatnonzero(~dup) if dup.any() else None
    first = slice(None) if idx is None else idx
    x_all, y_all = _project(lon[first], lat[first], params.metric_crs)
    t0 = int(t_all[0])
    t_rel = t_all[first] - t0
    # Divided in place (same 8 bytes per element): a second 8 MB array saved, same values.
    t_s_all = np.divide(t_rel, _NS, out=t_rel.view(np.float64))
    del t_rel, dup, first
    keep = speed_filter(t_s_all, x_all, y_all, params.max_speed_kmh / 3.6)
    outliers = np.flatnonzero(~keep) if idx is None else idx[~keep]
    kept = np.flatnonzero(keep) if idx is None else idx[keep]
    m = kept.size
    flags: list[Reason] = []
    if outliers.size:
        reasons.append(
            Reason(
                "speed_outlier",
                f"Fixes implying more than {params.max_speed_kmh:g} km/h from the last kept "
                "fix were dropped.",
                count=int(outliers.size),
                line=trace.line_of(int(outliers[0])),
            )
        )
        _outlier_flags(
            flags,
            outliers=outliers,
            idx=idx,
            keep=keep,
            t_s=t_s_all,
            n=n,
            params=params,
            trace=trace,
        )
    # Kept fixes copied one array at a time, each original released as its copy is made.
    x, y, t_s = x_all, y_all, t_s_all
    del x_all, y_all, t_s_all, idx
    if m < keep.size:
        x = x[keep]
        y = y[keep]
        t_s = t_s[keep]
    del keep
    if m < 2:
        return _empty(
            "rejected",
            n,
            [*reasons, Reason("too_few_fixes", "Fewer than two usable fixes remain.", count=m)],
        )

    length = _step_lengths(x, y)
    gap, gap_at, gap_dt = _gaps(t_s, params.max_gap_s)
    # Flags in their order (outliers, gaps, permit, odometer); done here so that the
    # per-fix times can go before the zone cut, the trip's memory peak.
    _gap_flags(
        flags,
        gap_at=gap_at,
        gap_dt=gap_dt,
        length=length,
        t_s=t_s,
        params=params,
        trace=trace,
        kept=kept,
    )
    del gap_at, gap_dt
    still = stationary_fixes(t_s, x, y, params.stop_window_s, params.stop_radius_m)
    del t_s
    stopped = still[:-1] & still[1:] & ~gap
    del still
    gap_m = float(length[gap].sum())
    stopped_m = float(length[stopped].sum())
    # The step lengths become the measured metres in place: one 8 MB array fewer.
    measured = length
    del length
    measured[gap | stopped] = 0.0
    auto = auto_all[kept]
    auto_step = auto[:-1] & auto[1:]
    step_t = t_all[kept[:-1]] if m < n else t_all[:-1]
    started_at, ended_at = _dt(int(t_all[kept[0]])), _dt(int(t_all[kept[-1]]))

    permit_ok = np.zeros(m - 1, dtype=bool)
    if permit is not None:
        permit_ok = (step_t >= _ns(permit[0])) & (step_t < _ns(permit[1]))
    operator_ok = (
        step_t >= _ns(eligible_from) if eligible_from is not None else np.zeros(m - 1, dtype=bool)
    )
    moving_auto = auto_step & (measured > 0)
    candidates = np.flatnonzero(moving_auto & permit_ok & operator_ok)
    day_names, day_index = _local_days(step_t, params.tz)
    intervals = _steps_by_interval(candidates, step_t, zones)
    del step_t, candidates
    inside_m, segment_m = _zone_metres(
        intervals=intervals,
        x=x,
        y=y,
        length=measured,
        cell_m=params.edge_grid_m,
    )
    del x, y, intervals, moving_auto

    total_m = float(measured.sum())
    autonomous_m = float(measured[auto_step].sum())
    eligible_m = float(inside_m.sum())

    tag = np.full(m - 1, TAG["eligible"], dtype=np.uint8)
    tag[inside_m < 0.5 * measured] = TAG["outside_zone"]
    tag[~operator_ok] = TAG["operator_not_eligible"]
    tag[~permit_ok] = TAG["not_permitted"]
    tag[~auto_step] = TAG["manual"]
    tag[stopped] = TAG["stationary"]
    tag[gap] = TAG["gap"]

    _metre_reasons(
        reasons,
        gap=gap,
        stopped=stopped,
        gap_m=gap_m,
        stopped_m=stopped_m,
        measured=measured,
        auto_step=auto_step,
        permit_ok=permit_ok,
        operator_ok=operator_ok,
        inside_m=inside_m,
        permit=permit,
        eligible_from=eligible_from,
        trace=trace,
        kept=kept,
    )
    if permit is not None and permit_ok.any() and not permit_ok.all():
        flags.append(
            Reason(
                "permit_lapsed",
                "The vehicle's permit starts or ends during the trip.",
                metres=float(measured[auto_step & ~permit_ok].sum()),
            )
        )
    if trace.odometer_km is not None:
        _odometer_flag(flags, trace.odometer_km[kept], total_m + gap_m, params)

    day_auto = np.bincount(
        day_index, weights=np.where(auto_step, measured, 0.0), minlength=len(day_names)
    )
    day_elig = np.bincount(day_index, weights=inside_m, minlength=len(day_names))
    day_m = {
        d: (float(day_auto[k]), float(day_elig[k]))
        for k, d in enumerate(day_names)
        if day_auto[k] > 0 or day_elig[k] > 0
    }
    disengagements = int(np.count_nonzero(auto_all[:-1] & ~auto_all[1:]))

    w_lon, w_lat = lon[kept], lat[kept]
    outcome = "needs_review" if flags else "accepted"
    return VerificationResult(
        outcome=outcome,
        started_at=started_at,
        ended_at=ended_at,
        points_total=n,
        points_used=m,
        total_m=total_m,
        autonomous_m=autonomous_m,
        eligible_m=eligible_m,
        disengagements=disengagements,
        segment_m=segment_m,
        day_m=day_m,
        reasons=reasons + flags,
        lon=np.ascontiguousarray(w_lon),
        lat=np.ascontiguousarray(w_lat),
        step_tag=tag,
        outlier_lon=np.ascontiguousarray(lon[outliers]),
        outlier_lat=np.ascontiguousarray(lat[outliers]),
    )


def _outlier_flags(
    flags: list[Reason],
    *,
    outliers: IntArray,
    idx: IntArray | None,
    keep: BoolArray,
    t_s: FloatArray,
    n: int,
    params: VerifyParams,
    trace: ParsedTrace,
) -> None:
    if outliers.size > params.review_outlier_share * n:
        flags.append(
            Reason(
                "many_outliers",
                f"{outliers.size} of {n} fixes were speed outliers (review above "
                f"{params.review_outlier_share:.0%}).",
                count=int(outliers.size),
            )
        )
    # A run of dropped fixes lasting long is a jump the trace stayed on: the receiver or
    # the kept part is wrong, and a person should look.
    padded = np.zeros(keep.size + 2, dtype=np.int8)  # int8: a byte per fix, not 8
    np.logical_not(keep, out=padded[1:-1], casting="unsafe")
    edges = np.diff(padded)
    run_start, run_end = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    span = t_s[run_end] - t_s[run_start]
    long_runs = np.flatnonzero(span > params.review_outlier_run_s)
    if long_runs.size:
        first = int(run_start[long_runs[0]])
        flags.append(
            Reason(
                "implausible_jump",
                f"The trace jumped away and stayed there for more than "
                f"{params.review_outlier_run_s:g} s.",
                count=int(long_runs.size),
                line=trace.line_of(first if idx is None else int(idx[first])),
            )
        )


def _metre_reasons(
    reasons: list[Reason],
    *,
    gap: BoolArray,
    stopped: BoolArray,
    gap_m: float,
    stopped_m: float,
    measured: FloatArray,
    auto_step: BoolArray,
    permit_ok: BoolArray,
    operator_ok: BoolArray,
    inside_m: FloatArray,
    permit: tuple[datetime, datetime] | None,
    eligible_from: datetime | None,
    trace: ParsedTrace,
    kept: IntArray,
) -> None:
    """Why metres earned nothing, one reason per cause, in the order the rules apply."""
    if gap.any():
        first = int(np.argmax(gap))
        reasons.append(
            Reason(
                "gap",
                "Time gaps between fixes: the straight line across a gap is a guess and earns "
                "nothing.",
                count=int(gap.sum()),
                metres=gap_m,
                line=trace.line_of(int(kept[first + 1])),
            )
        )
    if stopped.any():
        reasons.append(
            Reason(
                "stationary_jitter",
                "Position noise while the vehicle stood still was not counted.",
                count=int(stopped.sum()),
                metres=stopped_m,
            )
        )
    manual = ~auto_step & (measured > 0)
    if manual.any():
        reasons.append(
            Reason(
                "manual",
                "Driven manually (at least one end of the step).",
                count=int(manual.sum()),
                metres=float(measured[manual].sum()),
            )
        )
    auto_m = np.where(auto_step, measured, 0.0)
    no_permit = auto_m[~permit_ok].sum()
    if no_permit > 0:
        reasons.append(
            Reason(
                "not_permitted",
                "Driven while the vehicle had no valid permit."
                if permit is None
                else "Driven outside the vehicle's permit window.",
                metres=float(no_permit),
            )
        )
    not_eligible = auto_m[permit_ok & ~operator_ok].sum()
    if not_eligible > 0:
        reasons.append(
            Reason(
                "operator_not_eligible",
                "Driven before the company was both settled in Yangquan and admitted to the pilot."
                if eligible_from is not None
                else "The company is not (yet) eligible for the pilot.",
                metres=float(not_eligible),
            )
        )
    outside = auto_m[permit_ok & operator_ok].sum() - inside_m.sum()
    if outside > 1e-6:
        reasons.append(
            Reason(
                "outside_zone",
                "Driven outside the road segments and zones approved at that time.",
                metres=float(outside),
            )
        )


def _gap_flags(
    flags: list[Reason],
    *,
    gap_at: IntArray,
    gap_dt: FloatArray,
    length: FloatArray,
    t_s: FloatArray,
    params: VerifyParams,
    trace: ParsedTrace,
    kept: IntArray,
) -> None:
    """Review flags for gaps; `gap_at` are the gap steps, `gap_dt` their durations."""
    if not gap_at.size:
        return
    duration = float(t_s[-1] - t_s[0])
    long_gap = gap_at[gap_dt > params.review_gap_s]
    if long_gap.size:
        first = int(long_gap[0])
        flags.append(
            Reason(
                "long_gap",
                f"The log stops for more than {params.review_gap_s:g} s "
                f"(longest {float(gap_dt.max()):.0f} s).",
                count=int(long_gap.size),
                metres=float(length[long_gap].sum()),
                line=trace.line_of(int(kept[first + 1])),
            )
        )
    gap_time = float(gap_dt.sum())
    if duration > 0 and gap_time > params.review_gap_share * duration:
        flags.append(
            Reason(
                "many_gaps",
                f"{gap_time / duration:.0%} of the trip's time is in gaps (review above "
                f"{params.review_gap_share:.0%}).",
                count=int(gap_at.size),
            )
        )
    jump = gap_at[length[gap_at] > params.review_gap_jump_m]
    if jump.size:
        first = int(jump[0])
        flags.append(
            Reason(
                "gap_jump",
                f"The vehicle reappeared more than {params.review_gap_jump_m:g} m away "
                "after a gap.",
                count=int(jump.size),
                metres=float(length[jump].sum()),
                line=trace.line_of(int(kept[first + 1])),
            )
        )


def _odometer_flag(
    flags: list[Reason], odometer_km: FloatArray, trace_m: float, params: VerifyParams
) -> None:
    """Compare the odometer's advance with the trace (measured metres + gap chords)."""
    known = odometer_km[np.isfinite(odometer_km)]
    if known.size < 2:
        return
    odometer_m = float(known[-1] - known[0]) * 1000.0
    tolerance = max(
        params.review_odometer_share * max(odometer_m, trace_m), params.review_odometer_min_m
    )
    if abs(odometer_m - trace_m) > tolerance:
        flags.append(
            Reason(
                "odometer_disagreement",
                f"The odometer advanced {odometer_m:.0f} m but the trace measures {trace_m:.0f} m.",
                metres=abs(odometer_m - trace_m),
            )
        )


def trace_geojson(result: VerificationResult) -> dict[str, Any]:
    """The trace for a map: runs of equal-tag steps as LineStrings, outliers as Points."""
    features: list[dict[str, Any]] = []
    tags = result.step_tag
    if tags.size:
        change = np.flatnonzero(tags[1:] != tags[:-1]) + 1
        starts = np.concatenate(([0], change))
        ends = np.concatenate((change, [tags.size]))
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            coords = np.stack([result.lon[a : b + 1], result.lat[a : b + 1]], axis=1)
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": coords.round(7).tolist()},
                    "properties": {"tag": STEP_TAGS[int(tags[a])], "steps": b - a},
                }
            )
    for lon, lat in zip(result.outlier_lon.tolist(), result.outlier_lat.tolist(), strict=True):
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
                "properties": {"tag": "outlier"},
            }
        )
    return {"type": "FeatureCollection", "features": features}
