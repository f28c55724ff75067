"""Physical plausibility, wired into verification: flagged trips are held with figures."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tests.conftest import World
from tests.trips.csvtrace import metres_per_degree_lon, straight_east
from tests.trips.replaygen import drive_legs, winding_road
from tests.trips.tracegen import START, generate, to_csv
from trips import services
from trips.models import Trip

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def process(world: World, data: bytes) -> Trip:
    trip, _ = services.trip_upload(actor=world.staff_a, vin=world.vehicle_a.vin, data=data)
    return services.trip_process(trip_id=trip.pk)


def reason(trip: Trip, code: str) -> dict[str, object]:
    return next(r for r in trip.reasons if r["code"] == code)


def ruler_straight(metres: float, speed_ms: float = 10.0) -> bytes:
    """Waypoints joined at a constant speed, with no receiver noise at all: generated."""
    lines = ["timestamp,lat,lon,mode"]
    for i in range(round(metres / speed_ms) + 1):
        lon = 113.55 + i * speed_ms / metres_per_degree_lon(37.86)
        lines.append(f"{(T0 + dt.timedelta(seconds=i)).isoformat()},37.8600000,{lon:.7f},auto")
    return ("\n".join(lines) + "\n").encode()


def test_a_trace_without_any_receiver_noise_is_held_as_too_smooth(world: World) -> None:
    trip = process(world, ruler_straight(2000))
    assert trip.status == Trip.Status.NEEDS_REVIEW
    figures = reason(trip, "too_smooth")["figures"]
    assert isinstance(figures, dict)
    # 200 s in 60 s windows: 3 full and one of 20 s (too short to count); all on the line.
    assert figures["straight_share"] == 1.0
    assert figures["windows"] == 3


def test_a_wandering_hand_made_trace_is_not_too_smooth(world: World) -> None:
    trip = process(world, straight_east(start=T0, metres=2000))
    assert trip.status == Trip.Status.ACCEPTED, trip.reasons


def with_speed(data: bytes, factor: float) -> bytes:
    """The CSV with a speed_kmh column: the speed from positions times `factor`."""
    rows = data.decode().splitlines()
    header, body = rows[0], rows[1:]
    lon = np.array([float(r.split(",")[2]) for r in body])
    lat = np.array([float(r.split(",")[1]) for r in body])
    step = np.hypot(np.diff(lon) * metres_per_degree_lon(37.86), np.diff(lat) * 111_000)
    kmh = np.concatenate(([step[0]], step)) * 3.6 * factor
    out = [f"{header},speed_kmh"] + [f"{r},{v:.2f}" for r, v in zip(body, kmh, strict=True)]
    return ("\n".join(out) + "\n").encode()


def test_a_speed_column_that_agrees_with_the_positions_raises_nothing(world: World) -> None:
    trip = process(world, with_speed(straight_east(start=T0, metres=2000), 1.0))
    assert trip.status == Trip.Status.ACCEPTED, trip.reasons


def test_a_doubled_speed_column_is_held_with_its_figures(world: World) -> None:
    trip = process(world, with_speed(straight_east(start=T0, metres=2000), 2.0))
    figures = reason(trip, "speed_disagreement")["figures"]
    assert isinstance(figures, dict)
    # 10 m/s from positions, 20 m/s in the column: 10 m/s apart, ratio 2.
    assert figures["median_abs_diff_mps"] == pytest.approx(10.0, abs=0.3)
    assert figures["median_ratio"] == pytest.approx(2.0, abs=0.05)


def test_a_launch_beyond_a_road_vehicle_is_held_as_implausible_acceleration(
    world: World,
) -> None:
    # 0 → 108 km/h in 3 s (10 m/s², about 1 g) along a straight line, 1 Hz, then cruising.
    lines = ["timestamp,lat,lon,mode"]
    x, v = 0.0, 0.0
    rng = np.random.default_rng(3)
    for i in range(121):
        lon = 113.55 + x / metres_per_degree_lon(37.86)
        lat = 37.86 + rng.normal(0, 0.5) / 111_000
        lines.append(f"{(T0 + dt.timedelta(seconds=i)).isoformat()},{lat:.7f},{lon:.7f},auto")
        v = min(v + 10.0, 30.0) if i >= 10 else 0.0
        x += v
    trip = process(world, ("\n".join(lines) + "\n").encode())
    figures = reason(trip, "implausible_acceleration")["figures"]
    assert isinstance(figures, dict)
    assert figures["max_accel_mps2"] > 5.0


def test_an_honest_generated_drive_raises_no_plausibility_flag(world: World) -> None:
    road = winding_road(np.random.default_rng(31))
    legs = drive_legs(np.random.default_rng(32), road.length)
    trace = generate(road, legs, start=START, hz=10, noise_m=3.0, noise_tau_s=30, seed=4)
    trip = process(world, to_csv(trace))
    assert trip.status == Trip.Status.ACCEPTED, trip.reasons
