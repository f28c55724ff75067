"""Confirm a candidate: is the new trip the same recording as a stored one?

Two signals, both from the stored polylines (`ShapeSignature.points()`):

1. Where: each point of the new path is projected onto the other path (nearest segment
   within `search_m`; a grid of `search_m + step_m` cells finds it without a loop). That
   gives the overlap and, from the projection, the other trip's relative time there.
2. When: a copy keeps the recording's relative timing, so the time offset between the
   two (median over the overlap) is one number. The other trip's position at each point's
   time minus that offset is compared with the point: a copy sits within its nudges (well
   under a metre); an honest repeat is off by its own speed profile (tens of metres) and,
   even at the same speed, by the difference of two receivers' noise (metres).

A copy is held when, over the overlap, the median time-aligned distance is at most
`max_median_m`, the difference vectors stay within `max_spread_m` of their median (a copy
differs by a rigid shift plus nudges; two receivers' noise wanders, so an honest repeat
that happens to be close for a while is not close in this sense), and at least
`min_matched_share` and `min_matched_m` of the new path are within `copy_distance_m`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from trips.replay.index import ReplayIndex
from trips.replay.params import ReplayParams
from trips.replay.signature import ShapeSignature

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Match:
    """How closely a new trip follows a stored one (plain numbers, ready for a reason)."""

    median_distance_m: float
    """Median time-aligned distance over the overlap (a copy: under a metre)."""
    matched_share: float
    """Share of the new trip's length within `copy_distance_m`, time-aligned."""
    matched_m: float
    """The same in metres."""
    overlap_share: float
    """Share of the new trip's length within `search_m` of the other path, any time."""
    spread_m: float
    """Median distance from the median difference (A − B, time-aligned) over the overlap:
    what is left once the best rigid shift is taken off. A copy's difference is a shift
    plus nudges that the smoothing averages out; two receivers' noise wanders."""
    path_median_m: float
    """Median distance to the other path over the overlap, whatever the timing."""
    time_offset_s: float
    """New trip's relative time minus the other's, at the same place (median)."""


def measure(a: ShapeSignature, b: ShapeSignature, *, params: ReplayParams) -> Match | None:
    """The figures of new trip `a` against stored trip `b`; None when they do not overlap."""
    ax, ay, at = a.points()
    bx, by, bt = b.points()
    if ax.size < 2 or bx.size < 2:
        return None
    dist, seg, u = _nearest_segment(ax, ay, bx, by, params.search_m + params.step_m)
    near = dist <= params.search_m
    if not near.any():
        return None
    t_there = bt[seg[near]] + u[near] * (bt[seg[near] + 1] - bt[seg[near]])
    offset = float(np.median(at[near] - t_there))
    when = at - offset
    inside = (when >= bt[0]) & (when <= bt[-1])
    dx = ax[inside] - np.interp(when[inside], bt, bx)
    dy = ay[inside] - np.interp(when[inside], bt, by)
    aligned = np.full(ax.size, np.inf)
    aligned[inside] = np.hypot(dx, dy)
    matched = aligned <= params.copy_distance_m
    both = near[inside]
    spread = (
        float(np.median(np.hypot(dx[both] - np.median(dx[both]), dy[both] - np.median(dy[both]))))
        if both.any()
        else float("inf")
    )
    step = a.length_m / ax.size
    return Match(
        median_distance_m=float(np.median(aligned[near])),
        matched_share=float(matched.mean()),
        matched_m=float(matched.sum() * step),
        overlap_share=float(near.mean()),
        spread_m=spread,
        path_median_m=float(np.median(dist[near])),
        time_offset_s=offset,
    )


def is_copy(match: Match, *, params: ReplayParams) -> bool:
    return (
        match.median_distance_m <= params.max_median_m
        and match.spread_m <= params.max_spread_m
        and match.matched_share >= params.min_matched_share
        and match.matched_m >= params.min_matched_m
    )


def confirm(a: ShapeSignature, b: ShapeSignature, *, params: ReplayParams) -> Match | None:
    """The figures when new trip `a` is a copy of stored trip `b`, else None."""
    match = measure(a, b, params=params)
    return match if match is not None and is_copy(match, params=params) else None


def find_copy(
    signature: ShapeSignature,
    index: ReplayIndex,
    load: Callable[[int], ShapeSignature | None],
    *,
    params: ReplayParams,
) -> tuple[int, Match] | None:
    """The stored trip the new one copies (the closest if several), with the figures.

    `load(trip_id)` reads a stored signature (None if gone); candidates come from `index`.
    """
    best: tuple[int, Match] | None = None
    for trip_id in index.candidates(signature, limit=params.max_candidates):
        other = load(trip_id)
        if other is None:
            continue
        match = confirm(signature, other, params=params)
        if match is not None and (best is None or _better(match, best[1])):
            best = (trip_id, match)
    return best


def _better(m: Match, than: Match) -> bool:
    return (m.matched_share, -m.median_distance_m) > (than.matched_share, -than.median_distance_m)


def _nearest_segment(
    px: FloatArray, py: FloatArray, bx: FloatArray, by: FloatArray, cell: float
) -> tuple[FloatArray, IntArray, FloatArray]:
    """For each point, the nearest segment of polyline b (its index, distance, position u).

    Segment j runs from vertex j to j + 1 and is filed under the cell of vertex j. With
    cells of `cell` ≥ reach + longest segment, every segment within reach of a point
    starts in the point's cell or one of its 8 neighbours. Points with nothing there get
    distance inf (segment 0, u 0).
    """
    n = px.size
    sx, sy = bx[:-1], by[:-1]
    ex, ey = bx[1:] - sx, by[1:] - sy
    seg_cells = _cell_key(np.floor(sx / cell), np.floor(sy / cell))
    order = np.argsort(seg_cells, kind="stable")
    sorted_cells = seg_cells[order]
    qx, qy = np.floor(px / cell), np.floor(py / cell)
    pairs_p: list[IntArray] = []
    pairs_s: list[IntArray] = []
    for dx in (-1.0, 0.0, 1.0):
        for dy in (-1.0, 0.0, 1.0):
            key = _cell_key(qx + dx, qy + dy)
            lo = np.searchsorted(sorted_cells, key, side="left")
            count = np.searchsorted(sorted_cells, key, side="right") - lo
            total = int(count.sum())
            if total == 0:
                continue
            point = np.repeat(np.arange(n), count)
            first = np.repeat(lo - (np.cumsum(count) - count), count)
            pairs_p.append(point)
            pairs_s.append(order[first + np.arange(total)])
    dist = np.full(n, np.inf)
    best_seg = np.zeros(n, dtype=np.int64)
    best_u = np.zeros(n)
    if not pairs_p:
        return dist, best_seg, best_u
    p, s = np.concatenate(pairs_p), np.concatenate(pairs_s)
    length2 = ex[s] ** 2 + ey[s] ** 2
    safe = np.where(length2 > 0, length2, 1.0)
    u = np.clip(((px[p] - sx[s]) * ex[s] + (py[p] - sy[s]) * ey[s]) / safe, 0.0, 1.0)
    d = np.hypot(px[p] - (sx[s] + u * ex[s]), py[p] - (sy[s] + u * ey[s]))
    pick = np.lexsort((d, p))
    first = np.concatenate(([True], p[pick][1:] != p[pick][:-1]))
    chosen = pick[first]
    dist[p[chosen]] = d[chosen]
    best_seg[p[chosen]] = s[chosen]
    best_u[p[chosen]] = u[chosen]
    return dist, best_seg, best_u


def _cell_key(cx: FloatArray, cy: FloatArray) -> IntArray:
    return (cx.astype(np.int64) << 32) + (cy.astype(np.int64) & 0xFFFFFFFF)
