"""Tiny hand-made CSV traces for the Django-side trip tests.

Each drive wanders a few metres either side of its parallel, as a receiver's slow noise
does (two sinusoids, drawn afresh for every call), and its fixes sit at exact arc lengths
along that curve: the measured length is `metres` to well under a millimetre, a trace is
not "too smooth" to be a recording (trips.replay.plausibility), and two calls are two
honest drives, never copies of each other. The same file twice is the same bytes reused.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math

import numpy as np

# WGS-84 ellipsoid: semi-major axis and first eccentricity squared.
A_M = 6_378_137.0
E2 = 0.00669437999014
_drives = itertools.count(1)


def metres_per_degree_lon(lat: float) -> float:
    """Length of one degree of longitude along the parallel `lat` (exact on the ellipsoid)."""
    phi = math.radians(lat)
    return math.radians(1) * A_M * math.cos(phi) / math.sqrt(1 - E2 * math.sin(phi) ** 2)


def metres_per_degree_lat(lat: float) -> float:
    """Length of one degree of latitude at `lat` (meridional radius of curvature)."""
    phi = math.radians(lat)
    return float(math.radians(1) * A_M * (1 - E2) / (1 - E2 * math.sin(phi) ** 2) ** 1.5)


def wander(seed: int, metres: float) -> tuple[np.ndarray, np.ndarray]:
    """(east, north) in metres of a curve wandering 2-5 m about the x axis, sampled finely,
    with its arc length reaching `metres`."""
    rng = np.random.default_rng(seed)
    wavelengths = rng.uniform([300.0, 150.0], [800.0, 400.0])
    amplitudes = rng.uniform([1.5, 0.5], [3.0, 1.5])
    phases = rng.uniform(0.0, 2 * math.pi, 2)
    east = np.linspace(0.0, metres * 1.01 + 10.0, int(metres * 20) + 200)
    north = sum(
        a * np.sin(2 * math.pi * east / w + p)
        for a, w, p in zip(amplitudes, wavelengths, phases, strict=True)
    )
    return east, np.asarray(north)


def straight_east(
    *,
    start: dt.datetime,
    lon0: float = 113.5500,
    lat: float = 37.8600,
    metres: float = 1000.0,
    speed_ms: float = 10.0,
    hz: float = 1.0,
    mode: str = "auto",
) -> bytes:
    """A drive east along a parallel: `metres` at `speed_ms`, one fix every 1/hz s."""
    m_per_deg_lon = metres_per_degree_lon(lat)
    m_per_deg_lat = metres_per_degree_lat(lat)
    steps = round(metres / speed_ms * hz)
    east, north = wander(next(_drives), metres)
    arc = np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(east), np.diff(north)))))
    at = np.arange(steps + 1) * (speed_ms / hz)
    x, y = np.interp(at, arc, east), np.interp(at, arc, north)
    lines = ["timestamp,lat,lon,mode"]
    for i in range(steps + 1):
        t = start + dt.timedelta(seconds=i / hz)
        lon = lon0 + float(x[i]) / m_per_deg_lon
        fix_lat = lat + float(y[i]) / m_per_deg_lat
        lines.append(f"{t.isoformat()},{fix_lat:.7f},{lon:.7f},{mode}")
    return ("\n".join(lines) + "\n").encode()
