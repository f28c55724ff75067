"""Routes, honest repeats and copies for the copy-detection tests and bench.

Honest drives come from tracegen (time-correlated noise); a copy is an existing trace
re-timed, nudged, shifted, thinned or written in another format.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt
from shapely import LineString

from core.geo import to_metric
from tests.trips.tracegen import FloatArray, Leg, Trace

CRS = "EPSG:4547"
DAY_NS = 86_400 * 1_000_000_000
# Yangquan (113.58°E, 37.86°N) in the metric CRS.
ORIGIN = tuple(float(v[0]) for v in to_metric(np.array([113.58]), np.array([37.86]), CRS))


def winding_road(
    rng: np.random.Generator,
    *,
    start: tuple[float, float] = (ORIGIN[0], ORIGIN[1]),
    segments: int = 60,
    step_m: float = 50.0,
    turn_sd: float = 0.08,
) -> LineString:
    """A road of `segments` × `step_m` whose heading wanders by `turn_sd` rad per step."""
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, turn_sd, segments))
    x = start[0] + np.concatenate(([0.0], np.cumsum(step_m * np.cos(heading))))
    y = start[1] + np.concatenate(([0.0], np.cumsum(step_m * np.sin(heading))))
    return LineString(np.column_stack([x, y]))


def drive_legs(
    rng: np.random.Generator,
    length_m: float,
    *,
    speed_kmh: tuple[float, float] = (20.0, 60.0),
    stop_chance: float = 0.3,
) -> list[Leg]:
    """Own speed profile: legs of 300–1,200 m at random speeds, stops of 10–60 s between."""
    legs: list[Leg] = []
    done = 0.0
    while done < length_m - 1:
        metres = min(length_m - done, float(rng.uniform(300, 1200)))
        legs.append(Leg(metres=metres, speed_kmh=float(rng.uniform(*speed_kmh))))
        done += metres
        if rng.random() < stop_chance:
            legs.append(Leg(seconds=float(rng.uniform(10, 60))))
    return legs


def retimed(trace: Trace, seconds: float) -> Trace:
    return dataclasses.replace(trace, t_ns=trace.t_ns + round(seconds * 1e9))


def nudged(trace: Trace, rng: np.random.Generator, radius_m: float) -> Trace:
    """Each fix moved independently, uniformly within a disc of `radius_m`."""
    n = trace.x.size
    r = radius_m * np.sqrt(rng.uniform(0, 1, n))
    angle = rng.uniform(0, 2 * np.pi, n)
    return dataclasses.replace(trace, x=trace.x + r * np.cos(angle), y=trace.y + r * np.sin(angle))


def shifted(trace: Trace, dx: float, dy: float) -> Trace:
    return dataclasses.replace(trace, x=trace.x + dx, y=trace.y + dy)


def thinned(trace: Trace, every: int, first: int = 0) -> Trace:
    """Every `every`-th fix from `first` (10 Hz → 1 Hz is every=10)."""
    k = slice(first, None, every)
    return dataclasses.replace(
        trace,
        t_ns=trace.t_ns[k],
        x=trace.x[k],
        y=trace.y[k],
        auto=trace.auto[k],
        true_x=trace.true_x[k],
        true_y=trace.true_y[k],
    )


def to_gpx(lon: FloatArray, lat: FloatArray, t_ns: npt.NDArray[np.int64]) -> bytes:
    """GPX 1.1, one track segment, 7 decimals and UTC times to the millisecond."""
    times = np.datetime_as_string(np.asarray(t_ns, dtype="datetime64[ns]"), unit="ms")
    points = "".join(
        f'<trkpt lat="{b:.7f}" lon="{a:.7f}"><time>{s}Z</time></trkpt>\n'
        for a, b, s in zip(lon.tolist(), lat.tolist(), times.tolist(), strict=True)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="replaygen" xmlns="http://www.topografix.com/GPX/1/1">\n'
        f"<trk><trkseg>\n{points}</trkseg></trk>\n</gpx>\n"
    ).encode()
