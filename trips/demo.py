"""Demo trips: the demo vehicles driving the approved demo roads, uploaded as CSV logs.

The traces are generated, not recorded: fixes every second along a road's centreline at
about 36 km/h with time-correlated noise of a metre or two (as real receivers have), a
manual stretch now and then (a takeover), and one trip that overlaps another of the same
vehicle, so the review queue has something in it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.conf import settings
from shapely.geometry import LineString, shape

from core.geo import to_metric, to_wgs84
from operators.models import Vehicle
from routes.models import RoadSegment

from .services import trip_upload

SPEED_MS = 10.0


def _csv(line_lonlat: LineString, start: dt.datetime, laps: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    lon, lat = np.asarray(line_lonlat.coords).T
    x, y = to_metric(lon, lat, settings.METRIC_CRS)
    road = LineString(np.column_stack([x, y]))
    out_and_back = np.concatenate(
        [np.arange(0, road.length, SPEED_MS), np.arange(road.length, 0, -SPEED_MS)]
    )
    along = np.tile(out_and_back, laps)
    points = np.array([road.interpolate(d).coords[0] for d in along])
    # AR(1) noise: each fix's error is mostly the previous one's, as with real receivers.
    noise = np.zeros_like(points)
    for i in range(1, len(points)):
        noise[i] = 0.95 * noise[i - 1] + rng.normal(0, 0.3, 2)
    px, py = (points + noise).T
    plon, plat = to_wgs84(px, py, settings.METRIC_CRS)
    manual = np.zeros(len(points), dtype=bool)
    takeover = int(rng.integers(len(points) // 3, len(points) // 2))
    manual[takeover : takeover + 40] = True  # a 40-second takeover
    rows = ["timestamp,lat,lon,mode,speed_kmh"]
    for i in range(len(points)):
        t = start + dt.timedelta(seconds=i)
        mode = "manual" if manual[i] else "auto"
        rows.append(f"{t.isoformat()},{plat[i]:.7f},{plon[i]:.7f},{mode},{SPEED_MS * 3.6:.1f}")
    return ("\n".join(rows) + "\n").encode()


def load() -> int:
    """Upload demo trips for every approved demo vehicle; returns how many."""
    roads = list(
        RoadSegment.objects.filter(kind=RoadSegment.Kind.ROAD, status="approved").order_by("pk")
    )
    vehicles = Vehicle.objects.filter(status=Vehicle.Status.APPROVED).order_by("pk")
    today = dt.date(2026, 11, 20)
    count = 0
    for v_index, vehicle in enumerate(vehicles):
        for day in range(6):
            road = roads[(v_index + day) % len(roads)]
            start = dt.datetime.combine(
                today - dt.timedelta(days=7 * day), dt.time(1 + v_index, 30), tzinfo=dt.UTC
            )
            data = _csv(shape(road.geometry), start, laps=3, seed=v_index * 100 + day)
            trip_upload(
                actor=None,
                vin=vehicle.vin,
                data=data,
                original_name=f"demo-{count + 1}.csv",
                external_id=f"DEMO-{vehicle.pk}-{day}",
            )
            count += 1
    # A second log of the first vehicle's latest trip, shifted by ten minutes: overlaps.
    first = vehicles.first()
    if first is not None:
        start = dt.datetime.combine(today, dt.time(1, 40), tzinfo=dt.UTC)
        trip_upload(
            actor=None,
            vin=first.vin,
            data=_csv(shape(roads[0].geometry), start, 1, seed=7),
            original_name="demo-overlap.csv",
            external_id="DEMO-OVERLAP",
        )
        count += 1
    return count
