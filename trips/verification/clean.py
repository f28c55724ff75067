"""Cleaning the fixes: the metric projection, speed outliers, step lengths, gaps, and
stationary jitter. Vectorised, in blocks whose temporaries do not grow with the trace."""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from core.geo import to_metric

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def project(lon: FloatArray, lat: FloatArray, crs: str) -> tuple[FloatArray, FloatArray]:
    """`to_metric`, through a polynomial fitted on the trace's box for big traces.

    pyproj is slow per point (bench/README.md). Over a box of a few tenths of a degree the
    transverse Mercator is smooth enough that a cubic (quartic up to 2°) fitted on 9×9 exact
    points is within 0.1 mm; it is checked on a 17×17 grid of exact points and pyproj is
    used whenever the check exceeds 1 mm.
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


def step_lengths(x: FloatArray, y: FloatArray) -> FloatArray:
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


def gaps(t_s: FloatArray, max_gap_s: float) -> tuple[BoolArray, IntArray, FloatArray]:
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
        failing.append(np.flatnonzero(~(step_lengths(x[lo:hi], y[lo:hi]) <= reach)) + lo)
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
        b = search_sorted(t_s, t - window_s, "left")
        back = within(x, y, b, px=px, py=py, r2=r2)
        # The fix ahead only for fixes that passed the test behind: most fixes move.
        ahead = np.flatnonzero(back)
        f = search_sorted(t_s, t[ahead] + window_s, "right")
        f -= 1
        back[ahead] = within(x, y, f, px=px[ahead], py=py[ahead], r2=r2)
        still[lo:hi] = back
    return still


def within(
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


def search_sorted(a: FloatArray, v: FloatArray, side: Literal["left", "right"]) -> IntArray:
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
