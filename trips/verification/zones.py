"""Eligible metres: candidate steps cut exactly by the zones valid at their start, and
the zone indexes, cached between trips. The cut itself is `zonecut`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import shapely

from routes.zones import Zone, ZoneInterval

from .times import epoch_ns
from .zonecut import (
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

# Coarse cells of the per-segment zone index (a performance knob, not a rule).
ZONE_INDEX_CELL_M = 64.0
# Steps cut by the zones at a time (bounds the cut's memory; not a rule).
ZONE_CUT_CHUNK = 1 << 16


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
@lru_cache(maxsize=4)  # each holds a network's edge index (its size: bench/README.md)
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


def prepare_zones(
    zones: Sequence[ZoneInterval], first_ns: int, last_ns: int, cell_m: float
) -> None:
    """Build (or find cached) the indexes of the zone sets the trip's time overlaps.

    Done before the trace's own arrays exist: a first build's temporaries (bench/README.md)
    would otherwise add to the trip's memory peak during the zone cut.
    """
    for interval in zones:
        lo = epoch_ns(interval.start) if interval.start is not None else first_ns
        hi = epoch_ns(interval.end) if interval.end is not None else last_ns + 1
        if interval.zones and lo <= last_ns and hi > first_ns:
            _zone_set(interval.zones, cell_m)


def steps_by_interval(
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
            lo = epoch_ns(interval.start) if interval.start is not None else np.iinfo(np.int64).min
            hi = epoch_ns(interval.end) if interval.end is not None else np.iinfo(np.int64).max
            steps = candidates[(ct >= lo) & (ct < hi)]
        if steps.size:
            out.append((interval.zones, steps))
    return out


def zone_metres(
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
