"""Tiny hand-made CSV traces for the Django-side trip tests.

Each drive goes east along a parallel with a receiver's error on every fix, along the road
and across it: time-correlated noise (a second-order Gauss-Markov process, a metre or two
over seconds) plus a steady offset across the road (lane and bias), its own draw on every
call from fresh entropy, so two calls never share it whatever process or pytest worker
makes them. The error along the road is tied to zero at both ends and the fixes are placed
so that the steps add up to exactly `metres`: the measured length is `metres` (to the
centimetre the fixes' seven decimals allow), a trace is not "too smooth" to be a recording
(trips.replay.plausibility), and two calls are two honest drives, never near copies of each
other (trips.replay.match; measured: no copy among 1,937 pairs of 200-1,000 m drives on the
same road at the same speed). The same file twice is the same bytes reused.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets

import numpy as np

# WGS-84 ellipsoid: semi-major axis and first eccentricity squared.
A_M = 6_378_137.0
E2 = 0.00669437999014
# A receiver's error: its standard deviation along and across the road, its time constant,
# and the range of the steady offset across the road (lane position and bias). Along the
# road it stays small, so that where a drive is at a given second is known to a metre (the
# recorder and midnight tests cut drives by time).
ALONG_M = 0.5
ACROSS_M = 2.0
NOISE_TAU_S = 3.0
OFFSET_M = (-3.0, 3.0)


def metres_per_degree_lon(lat: float) -> float:
    """Length of one degree of longitude along the parallel `lat` (exact on the ellipsoid)."""
    phi = math.radians(lat)
    return math.radians(1) * A_M * math.cos(phi) / math.sqrt(1 - E2 * math.sin(phi) ** 2)


def metres_per_degree_lat(lat: float) -> float:
    """Length of one degree of latitude at `lat` (meridional radius of curvature)."""
    phi = math.radians(lat)
    return float(math.radians(1) * A_M * (1 - E2) / (1 - E2 * math.sin(phi) ** 2) ** 1.5)


def wander(seed: int, metres: float) -> tuple[np.ndarray, np.ndarray]:
    """(east, north) in metres of a smooth curve wandering 2-5 m about the x axis, sampled
    finely, with its arc length reaching `metres`: one fixed path for a given seed (the live
    tests' stream, tests/telemetry/live.py, replays it)."""
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


def receiver_noise(n: int, step_s: float, sigma_m: float, rng: np.random.Generator) -> np.ndarray:
    """`n` values, `step_s` apart, of a receiver's error along one axis in metres: white
    noise through two first-order low-passes (time constant NOISE_TAU_S), started in its
    steady state and scaled to `sigma_m`."""
    keep = math.exp(-step_s / NOISE_TAU_S)
    warm = int(10 * NOISE_TAU_S / step_s) + 1  # the filters forget their zero start
    white = rng.standard_normal(warm + n)
    first = np.empty_like(white)
    second = np.empty_like(white)
    a = b = 0.0
    for i, w in enumerate(white):
        a = keep * a + w
        b = keep * b + a
        first[i], second[i] = a, b
    tail = second[warm:]
    steady = second[warm // 2 :].std() or 1.0
    return np.asarray(tail / steady * sigma_m)


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
    """A drive east along a parallel: `metres` at `speed_ms`, one fix every 1/hz s, with a
    receiver's error on each fix (module docstring)."""
    m_per_deg_lon = metres_per_degree_lon(lat)
    m_per_deg_lat = metres_per_degree_lat(lat)
    steps = round(metres / speed_ms * hz)
    step_m = speed_ms / hz
    rng = np.random.default_rng(secrets.randbits(128))
    # The error along the road, tied to zero at both ends: the steps' lengths add up to
    # `metres`. Neither error moves by more than a third of a step between two fixes, so
    # every step goes forward and turns by less than 20° (it moves slower than the vehicle
    # at any driving speed).
    along = receiver_noise(steps + 1, 1 / hz, ALONG_M, rng)
    along -= along[0] + (along[-1] - along[0]) * np.arange(steps + 1) / max(steps, 1)
    step = step_m + np.clip(np.diff(along), -step_m / 3, step_m / 3)
    step *= steps * step_m / step.sum() if steps else 1.0
    north = receiver_noise(steps + 1, 1 / hz, ACROSS_M, rng) + rng.uniform(*OFFSET_M)
    across = np.clip(np.diff(north), -step_m / 3, step_m / 3)
    north = north[0] + np.concatenate(([0.0], np.cumsum(across)))
    east = np.concatenate(([0.0], np.cumsum(np.sqrt(step**2 - across**2))))
    lines = ["timestamp,lat,lon,mode"]
    for i in range(steps + 1):
        t = start + dt.timedelta(seconds=i / hz)
        lon = lon0 + float(east[i]) / m_per_deg_lon
        fix_lat = lat + float(north[i]) / m_per_deg_lat
        lines.append(f"{t.isoformat()},{fix_lat:.7f},{lon:.7f},{mode}")
    return ("\n".join(lines) + "\n").encode()
