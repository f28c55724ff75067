"""Tiny hand-made CSV traces for the Django-side trip tests (exact, noise-free)."""

from __future__ import annotations

import datetime as dt
import math

# WGS-84 ellipsoid: semi-major axis and first eccentricity squared.
A_M = 6_378_137.0
E2 = 0.00669437999014


def metres_per_degree_lon(lat: float) -> float:
    """Length of one degree of longitude along the parallel `lat` (exact on the ellipsoid)."""
    phi = math.radians(lat)
    return math.radians(1) * A_M * math.cos(phi) / math.sqrt(1 - E2 * math.sin(phi) ** 2)


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
    """A drive due east along a parallel: `metres` at `speed_ms`, one fix every 1/hz s."""
    m_per_deg_lon = metres_per_degree_lon(lat)
    steps = round(metres / speed_ms * hz)
    lines = ["timestamp,lat,lon,mode"]
    for i in range(steps + 1):
        t = start + dt.timedelta(seconds=i / hz)
        lon = lon0 + (i * speed_ms / hz) / m_per_deg_lon
        lines.append(f"{t.isoformat()},{lat:.7f},{lon:.7f},{mode}")
    return ("\n".join(lines) + "\n").encode()
