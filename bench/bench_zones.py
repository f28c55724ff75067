"""How fast is "which zones were approved and valid at time t" for 500 segment versions?

Run by hand: `.venv/bin/python bench/bench_zones.py [segments]`. It builds its own SQLite
database in a temporary directory (never var/db.sqlite3), fills it with 500 approved road
and area versions around Yangquan with staggered validity windows (some already ended),
then prints milliseconds per lookup: cold (the first call builds and prepares every
polygon), and warm (target < 5 ms), plus `zone_timeline` over an hour, a day and a year.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = tempfile.mkdtemp(prefix="bench-zones-")
os.environ["VAR_DIR"] = TMP
os.environ["DATABASE_URL"] = f"sqlite:///{TMP}/bench.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yangquan_av.settings")

import django  # noqa: E402 - settings come from the environment set above

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from operators.models import User  # noqa: E402
from routes.geometry import clean_geometry  # noqa: E402
from routes.models import RoadSegment  # noqa: E402
from routes.selectors import zone_timeline, zones_cache_clear, zones_valid_at  # noqa: E402

BBOX = (112.9, 37.5, 114.1, 38.4)
T0 = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
SPAN_DAYS = 3 * 365


def make_segments(count: int, rng: random.Random) -> None:
    bureau = User.objects.create(username="bench-bureau", role="bureau")
    rows = []
    for i in range(count):
        lon, lat = 113.45 + rng.random() * 0.25, 37.80 + rng.random() * 0.12
        geometry: dict[str, Any]
        if i % 5 == 4:  # every fifth an area of 300-800 m a side
            size = 0.003 + rng.random() * 0.006
            ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size]]
            geometry = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
            kind = "area"
        else:  # a road of 5-15 vertices wandering 0.5-3 km
            points = [[lon, lat]]
            for _ in range(rng.randint(4, 14)):
                lon += (rng.random() - 0.3) * 0.004
                lat += (rng.random() - 0.5) * 0.003
                points.append([lon, lat])
            geometry = {"type": "LineString", "coordinates": points}
            kind = "road"
        clean = clean_geometry(geometry, kind=kind, bbox=BBOX)
        start = T0 + dt.timedelta(days=rng.randrange(SPAN_DAYS), hours=rng.randrange(24))
        end = start + dt.timedelta(days=rng.randint(30, 700)) if rng.random() < 0.4 else None
        rows.append(
            RoadSegment(
                kind=kind,
                name=f"bench {i}",
                geometry=clean.geojson,
                corridor_half_width_m=15 if kind == "road" else None,
                length_m=clean.length_m,
                area_m2=clean.area_m2,
                status="approved",
                valid_from=start,
                valid_to=end,
                approval_ref=f"BENCH-{i}",
                approved_by=bureau,
                approved_at=timezone.now(),
                window_revision=1,
            )
        )
    # Bulk-created for speed: the services' validation and audit are not what is measured.
    RoadSegment.objects.bulk_create(rows)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    rng = random.Random(20261127)  # noqa: S311 - reproducible test data, not secrets
    call_command("migrate", verbosity=0)
    make_segments(count, rng)
    instants = [T0 + dt.timedelta(seconds=rng.randrange(SPAN_DAYS * 86400)) for _ in range(2000)]

    zones_cache_clear()
    started = time.perf_counter()
    zones_valid_at(at=instants[0])
    cold = time.perf_counter() - started

    for at in instants:  # warm: every polygon built and every interval seen once
        zones_valid_at(at=at)
    timings = []
    sizes = []
    for at in instants:
        started = time.perf_counter()
        zones = zones_valid_at(at=at)
        timings.append(time.perf_counter() - started)
        sizes.append(len(zones))
    timings.sort()

    fresh = [T0 + dt.timedelta(seconds=rng.randrange(SPAN_DAYS * 86400)) for _ in range(500)]
    started = time.perf_counter()
    for at in fresh:
        zones_valid_at(at=at)
    fresh_mean = (time.perf_counter() - started) / len(fresh)

    windows = {"1 hour": dt.timedelta(hours=1), "1 day": dt.timedelta(days=1)}
    windows["1 year"] = dt.timedelta(days=365)
    timeline_figures = []
    for label, length in windows.items():
        start = T0 + dt.timedelta(days=400)
        timeline = zone_timeline(start=start, end=start + length)
        started = time.perf_counter()
        for _ in range(50):
            timeline = zone_timeline(start=start, end=start + length)
        timeline_figures.append((label, (time.perf_counter() - started) / 50, len(timeline)))

    print(f"segments: {count} approved versions over {SPAN_DAYS} days; database: SQLite (temp)")
    print(f"zones per lookup: mean {statistics.mean(sizes):.0f}, max {max(sizes)}")
    print(f"cold first lookup (builds and prepares polygons): {ms(cold)}")
    print(
        f"warm zones_valid_at: mean {ms(statistics.mean(timings))}, "
        f"median {ms(timings[len(timings) // 2])}, p95 {ms(timings[int(len(timings) * 0.95)])}"
        "  (target < 5 ms)"
    )
    print(f"zones_valid_at at unseen instants (polygons warm): mean {ms(fresh_mean)}")
    for label, seconds, pieces in timeline_figures:
        print(f"zone_timeline over {label}: {ms(seconds)} ({pieces} intervals)")


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
