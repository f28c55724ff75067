"""Exact length of many short line segments inside polygons, vectorised.

Shapely's `intersection` of a step with a road-network polygon overlays the whole polygon,
and `contains_xy` tests a point at a time: both far too slow for a million fixes (figures
in bench/README.md). Instead:

1. The polygon's boundary is cut into edges no longer than `cell_m` and each edge is
   registered in a uniform grid, in every cell within `cell_m` of it (a sparse grid: only
   the cells near the boundary exist). A piece of trace no longer than `cell_m` can then
   only cross edges registered in the cell where it starts; pieces starting in a cell with
   no edges cross nothing, nor do pieces shorter than the clearance (a lower bound of the
   distance to the boundary) of the sub-cell where they start.
2. Each piece is tested against those few edges with the closed-form segment
   intersection (in chunks, to bound memory); the crossing parameters, sorted, cut the
   piece into alternately inside and outside intervals.
3. Whether a piece starts inside follows from the previous piece of the same chain (the
   trace is connected): it flips once per crossing. Chains start with an exact
   `contains_xy`, and again every `ANCHOR_EVERY` pieces so that a degenerate touch (a
   piece exactly through a vertex, which has measure zero in real data) cannot spread.

`ZoneIndex` answers, for per-segment attribution, which zones can touch a piece at all:
most pieces lie near a single corridor and take the union's answer directly; only those
where corridors meet are cut by each zone on its own.

Pure numpy and shapely; no Django.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

ANCHOR_EVERY = 4096
CHUNK = 1 << 14  # pieces per batch of (piece, edge) pairs: ~15 MB of temporaries
LOOKUP_CHUNK = 1 << 16  # pieces per batch of cell lookups: ~4 MB of temporaries
# Each grid cell keeps a clearance per SUB × SUB sub-cell: a lower bound of the distance
# from any point of the sub-cell to the boundary. A piece shorter than its start's
# clearance crosses nothing and is never paired with an edge: a trace driving along the
# middle of a 20–30 m corridor is near edges by cell, but metres away from them.
SUB = 2
# Taken off every clearance, so that rounding (float32 storage) can only make it smaller.
CLEARANCE_MARGIN_M = 1e-3


def _edges(polygon: BaseGeometry, max_m: float) -> tuple[FloatArray, ...]:
    boundary = shapely.segmentize(shapely.boundary(polygon), max_m)
    coords, part = shapely.get_coordinates(shapely.get_parts(boundary), return_index=True)
    same = part[1:] == part[:-1]
    return coords[:-1, 0][same], coords[:-1, 1][same], coords[1:, 0][same], coords[1:, 1][same]


def _cells_near(
    ax: FloatArray, ay: FloatArray, bx: FloatArray, by: FloatArray, *, cell_m: float, reach_m: float
) -> tuple[IntArray, IntArray]:
    """(cell id, edge) for every grid cell within reach_m of each edge's bounding box."""
    cx0 = np.floor((np.minimum(ax, bx) - reach_m) / cell_m).astype(np.int64)
    cx1 = np.floor((np.maximum(ax, bx) + reach_m) / cell_m).astype(np.int64)
    cy0 = np.floor((np.minimum(ay, by) - reach_m) / cell_m).astype(np.int64)
    cy1 = np.floor((np.maximum(ay, by) + reach_m) / cell_m).astype(np.int64)
    wx = cx1 - cx0 + 1
    count = wx * (cy1 - cy0 + 1)
    edge = np.repeat(np.arange(ax.size, dtype=np.int64), count)
    k = np.arange(edge.size, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    return _cell_id(cx0[edge] + k % wx[edge], cy0[edge] + k // wx[edge]), edge


def _cell_id(cx: IntArray, cy: IntArray) -> IntArray:
    # Cells are unbounded in both directions; 2^31 cells of a metre or more span any CRS.
    return np.asarray((cy + (1 << 31)) * (1 << 32) + (cx + (1 << 31)), dtype=np.int64)


def _cell_of(x: FloatArray, y: FloatArray, cell_m: float) -> IntArray:
    return _cell_id(np.floor(x / cell_m).astype(np.int64), np.floor(y / cell_m).astype(np.int64))


@dataclass(frozen=True)
class EdgeGrid:
    """A polygon's boundary edges, indexed by the grid cells a short piece may start in."""

    polygon: BaseGeometry
    cell_m: float
    # Sparse CSR: the edges registered in cell cells[i] are edge_index[start[i]:start[i+1]].
    cells: IntArray
    start: IntArray
    edge_index: IntArray
    ax: FloatArray
    ay: FloatArray
    bx: FloatArray
    by: FloatArray
    # clearance[i * SUB * SUB + sub-cell] for cell cells[i], in metres (see SUB).
    clearance: npt.NDArray[np.float32]


def _clearance(
    cells: IntArray,
    start: IntArray,
    edge_index: IntArray,
    edges: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    *,
    cell_m: float,
) -> npt.NDArray[np.float32]:
    """Lower bound of the distance from each sub-cell to the boundary (see SUB).

    For a sub-cell with centre c and half-diagonal h, every point p in it is at least
    dist(c, edge) - h from an edge (triangle inequality). Edges not registered in the cell
    are farther than `cell_m` from it, so `cell_m` caps the bound.
    """
    ax, ay, bx, by = edges
    cell = np.repeat(np.arange(cells.size, dtype=np.int64), np.diff(start))
    # Inverse of _cell_id (whose products wrap around the int64 sign bit: mask, do not shift).
    cx = ((cells & 0xFFFFFFFF) - (1 << 31))[cell]
    cy = (((cells >> 32) & 0xFFFFFFFF) - (1 << 31))[cell]
    half_diagonal = cell_m / SUB * np.sqrt(0.5)
    ex, ey = bx[edge_index] - ax[edge_index], by[edge_index] - ay[edge_index]
    e2 = ex * ex + ey * ey
    out = np.empty((cells.size, SUB * SUB), dtype=np.float32)
    for k in range(SUB * SUB):
        px = (cx + (k % SUB + 0.5) / SUB) * cell_m - ax[edge_index]
        py = (cy + (k // SUB + 0.5) / SUB) * cell_m - ay[edge_index]
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.clip((px * ex + py * ey) / e2, 0.0, 1.0)
        s[e2 == 0] = 0.0
        d = np.hypot(px - s * ex, py - s * ey)
        nearest = np.minimum.reduceat(d, start[:-1]) if d.size else np.zeros(0)
        out[:, k] = np.clip(nearest - half_diagonal - CLEARANCE_MARGIN_M, 0.0, cell_m)
    return out.ravel()


def edge_grid(polygon: BaseGeometry, cell_m: float) -> EdgeGrid:
    """Index `polygon`'s boundary for pieces no longer than `cell_m`."""
    shapely.prepare(polygon)
    ax, ay, bx, by = _edges(polygon, cell_m)
    cell, edge = _cells_near(ax, ay, bx, by, cell_m=cell_m, reach_m=cell_m)
    order = np.argsort(cell, kind="stable")
    cell, edge = cell[order], edge[order]
    first = np.flatnonzero(np.concatenate(([True], cell[1:] != cell[:-1])))
    cells = cell[first]
    start = np.concatenate((first, [cell.size])).astype(np.int64)
    return EdgeGrid(
        polygon=polygon,
        cell_m=cell_m,
        cells=cells,
        start=start,
        edge_index=edge,
        ax=ax,
        ay=ay,
        bx=bx,
        by=by,
        clearance=_clearance(cells, start, edge, (ax, ay, bx, by), cell_m=cell_m),
    )


def _lookup(keys: IntArray, wanted: IntArray) -> tuple[IntArray, BoolArray]:
    """Position of each wanted key in the sorted `keys`, and whether it is there.

    A trace stays in a cell for several consecutive pieces (8 in 10 on the bench's trace),
    so each run of equal keys is searched once: half the time of searching every key.
    """
    if keys.size == 0 or wanted.size == 0:
        return np.zeros(wanted.size, dtype=np.int64), np.zeros(wanted.size, dtype=bool)
    change = np.empty(wanted.size, dtype=bool)
    change[0] = True
    np.not_equal(wanted[1:], wanted[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    first = wanted[starts]
    pos = np.minimum(np.searchsorted(keys, first), keys.size - 1).astype(np.int64)
    found = keys[pos] == first
    counts = np.diff(starts, append=wanted.size)
    return np.repeat(pos, counts), np.repeat(found, counts)


def _near_pieces(
    grid: EdgeGrid, px: FloatArray, py: FloatArray, qx: FloatArray, qy: FloatArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Pieces that may cross an edge, with the range of edges of their start cell.

    Only pieces at least as long as the clearance of the sub-cell where they start qualify.
    Done in chunks so that the lookup's temporaries stay small whatever the trace's size.
    """
    near_parts: list[IntArray] = []
    start_parts: list[IntArray] = []
    count_parts: list[IntArray] = []
    for lo in range(0, px.size, LOOKUP_CHUNK):
        hi = min(px.size, lo + LOOKUP_CHUNK)
        fx = px[lo:hi] / grid.cell_m
        fy = py[lo:hi] / grid.cell_m
        cx = np.floor(fx).astype(np.int64)
        cy = np.floor(fy).astype(np.int64)
        pos, found = _lookup(grid.cells, _cell_id(cx, cy))
        fx -= cx
        fy -= cy
        sub = np.minimum(fx * SUB, SUB - 1).astype(np.int64)
        sub += SUB * np.minimum(fy * SUB, SUB - 1).astype(np.int64)
        sub += pos * (SUB * SUB)
        # Squared lengths against squared clearances: the margin in the clearance dwarfs
        # any rounding, and np.hypot costs more than the rest of the lookup.
        dx = qx[lo:hi] - px[lo:hi]
        dx *= dx
        dy = qy[lo:hi] - py[lo:hi]
        dy *= dy
        dx += dy
        clear = grid.clearance[sub].astype(np.float64)
        clear *= clear
        near = np.flatnonzero(found & (dx >= clear))
        start = grid.start[pos[near]]
        near_parts.append(near + lo)
        start_parts.append(start)
        count_parts.append(grid.start[pos[near] + 1] - start)
    if not near_parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(near_parts), np.concatenate(start_parts), np.concatenate(count_parts)


def _crossings(
    grid: EdgeGrid, px: FloatArray, py: FloatArray, qx: FloatArray, qy: FloatArray
) -> tuple[IntArray, FloatArray]:
    """(piece, t) of every crossing of a piece with a boundary edge, t in (0, 1]."""
    near, start, count = _near_pieces(grid, px, py, qx, qy)
    pieces: list[IntArray] = []
    params: list[FloatArray] = []
    # Chunks of pieces keep the (piece, edge) pair arrays small.
    for lo in range(0, near.size, CHUNK):
        sel = near[lo : lo + CHUNK]
        c = count[lo : lo + CHUNK]
        piece = np.repeat(sel, c)
        k = np.arange(piece.size, dtype=np.int64) - np.repeat(np.cumsum(c) - c, c)
        edge = grid.edge_index[np.repeat(start[lo : lo + CHUNK], c) + k]
        rx, ry = qx[piece] - px[piece], qy[piece] - py[piece]
        sx, sy = grid.bx[edge] - grid.ax[edge], grid.by[edge] - grid.ay[edge]
        wx, wy = grid.ax[edge] - px[piece], grid.ay[edge] - py[piece]
        denom = rx * sy - ry * sx
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (wx * sy - wy * sx) / denom
            u = (wx * ry - wy * rx) / denom
        # Half-open on both: a crossing exactly at a piece's start belongs to the piece
        # before, one exactly at an edge's end to the next edge, so none counts twice.
        hit = (denom != 0) & (t > 0) & (t <= 1) & (u >= 0) & (u < 1)
        pieces.append(piece[hit])
        params.append(t[hit])
    if not pieces:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(pieces), np.concatenate(params)


def inside_fraction(
    grid: EdgeGrid,
    *,
    px: FloatArray,
    py: FloatArray,
    qx: FloatArray,
    qy: FloatArray,
    chain_start: BoolArray,
) -> FloatArray:
    """Share of each piece P→Q inside the polygon, exactly (to floating point).

    Pieces must be no longer than `grid.cell_m`. `chain_start[i]` is False only where
    piece i starts exactly where piece i-1 ended.
    """
    n = px.size
    if n == 0:
        return np.zeros(0)
    crossing_piece, crossing_t = _crossings(grid, px, py, qx, qy)
    crossings = np.bincount(crossing_piece, minlength=n)
    order = np.lexsort((crossing_t, crossing_piece))
    cp, ct = crossing_piece[order], crossing_t[order]
    first = np.cumsum(crossings) - crossings
    # Inside-at-start along each chain: anchored exactly, then flipped per crossing. The
    # anchor is tested halfway to the piece's first crossing, never on the boundary itself
    # (a fix exactly on a zone's edge is common in hand-made and snapped data).
    anchor = chain_start.copy()
    anchor[0] = True
    anchor[::ANCHOR_EVERY] = True
    anchor_idx = np.flatnonzero(anchor)
    t_first = np.ones(n)
    has = crossings > 0
    t_first[has] = ct[first[has]]
    half = 0.5 * t_first[anchor_idx]
    anchor_inside = shapely.contains_xy(
        grid.polygon,
        px[anchor_idx] + half * (qx[anchor_idx] - px[anchor_idx]),
        py[anchor_idx] + half * (qy[anchor_idx] - py[anchor_idx]),
    )
    odd = crossings & 1
    flips = np.cumsum(odd) - odd
    chain = np.cumsum(anchor) - 1
    inside = anchor_inside[chain] ^ ((flips - flips[anchor_idx][chain]) & 1).astype(bool)
    fraction = inside.astype(np.float64)
    if cp.size:
        rank = np.arange(cp.size) - first[cp]
        # Crossing k leaves the polygon when the piece was inside just before it.
        was_inside = inside[cp] ^ (rank & 1).astype(bool)
        sign = np.where(was_inside, -1.0, 1.0)
        fraction += np.bincount(cp, weights=sign * (1.0 - ct), minlength=n)
    return np.asarray(np.clip(fraction, 0.0, 1.0), dtype=np.float64)


@dataclass(frozen=True)
class ZoneIndex:
    """Which zones can touch a piece starting in each coarse cell (conservatively)."""

    cell_m: float
    cells: IntArray  # sorted, unique
    first_zone: IntArray  # one zone of the cell (the only one when count is 1)
    count: IntArray
    # (cell, zone) pairs sorted by cell, for cells with several zones.
    pair_cell: IntArray
    pair_zone: IntArray


def zone_index(polygons: Sequence[BaseGeometry], *, cell_m: float, reach_m: float) -> ZoneIndex:
    """A zone claims every cell within reach_m of its boundary, and the cells inside it.

    A cell that no boundary edge comes near is wholly inside or wholly outside the zone,
    so one `contains_xy` of its centre decides. A piece no longer than reach_m that starts
    in a cell claimed by one zone only can touch no other zone.
    """
    cells: list[IntArray] = []
    zones: list[IntArray] = []
    for z, polygon in enumerate(polygons):
        ax, ay, bx, by = _edges(polygon, cell_m)
        near = np.unique(_cells_near(ax, ay, bx, by, cell_m=cell_m, reach_m=reach_m)[0])
        x0, y0, x1, y1 = polygon.bounds
        gx = np.arange(np.floor(x0 / cell_m), np.floor(x1 / cell_m) + 1)
        gy = np.arange(np.floor(y0 / cell_m), np.floor(y1 / cell_m) + 1)
        mx, my = (a.ravel() for a in np.meshgrid(gx, gy))
        inner = shapely.contains_xy(polygon, (mx + 0.5) * cell_m, (my + 0.5) * cell_m)
        inside = _cell_id(mx[inner].astype(np.int64), my[inner].astype(np.int64))
        claimed = np.union1d(near, inside)
        cells.append(claimed)
        zones.append(np.full(claimed.size, z, dtype=np.int64))
    all_cells = np.concatenate(cells) if cells else np.zeros(0, dtype=np.int64)
    all_zones = np.concatenate(zones) if zones else np.zeros(0, dtype=np.int64)
    order = np.lexsort((all_zones, all_cells))
    all_cells, all_zones = all_cells[order], all_zones[order]
    unique, first, count = np.unique(all_cells, return_index=True, return_counts=True)
    multi = np.repeat(count > 1, count)
    return ZoneIndex(
        cell_m=cell_m,
        cells=unique,
        first_zone=all_zones[first],
        count=count.astype(np.int64),
        pair_cell=all_cells[multi],
        pair_zone=all_zones[multi],
    )


def zones_of(index: ZoneIndex, px: FloatArray, py: FloatArray) -> tuple[IntArray, IntArray]:
    """For each piece start: how many zones may touch it, and one of them (-1 if none)."""
    pos, found = _lookup(index.cells, _cell_of(px, py, index.cell_m))
    return np.where(found, index.count[pos], 0), np.where(found, index.first_zone[pos], -1)


def pieces_by_zone(
    index: ZoneIndex, pieces: IntArray, px: FloatArray, py: FloatArray
) -> dict[int, IntArray]:
    """For pieces in cells several zones claim: the pieces each zone must cut itself."""
    cell = _cell_of(px[pieces], py[pieces], index.cell_m)
    lo = np.searchsorted(index.pair_cell, cell, side="left")
    hi = np.searchsorted(index.pair_cell, cell, side="right")
    count = hi - lo
    piece = np.repeat(pieces, count)
    k = np.arange(piece.size) - np.repeat(np.cumsum(count) - count, count)
    zone = index.pair_zone[np.repeat(lo, count) + k]
    order = np.argsort(zone, kind="stable")
    piece, zone = piece[order], zone[order]
    split = np.flatnonzero(np.diff(zone)) + 1
    return {
        int(z[0]): p
        for z, p in zip(np.split(zone, split), np.split(piece, split), strict=True)
        if z.size
    }
