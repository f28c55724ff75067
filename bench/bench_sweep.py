"""How long does one pass of the live-trip closing sweep take at fleet scale?

Run by hand: `.venv/bin/python bench/bench_sweep.py [vehicles] [seconds] [due_percent]`
(default 5,000 vehicles with 300 fixes each at 1 Hz, 2 % of them due: half silent for
400 s, half parked for the last 300 s after 100 s of driving). SQLite in a temporary
directory, never the app's; BENCH_DATABASE_URL=postgres://… to use PostgreSQL (that
database is dropped and made anew). Fixes go in through `telemetry.services.fixes_store`
(the gateway's and the ingest's write). Celery is eager (the embedded default, where the
gateway and the ingest run the sweep themselves), so the first pass includes verifying
the trips it closes. It then times:

1. a pass with the due vehicles: those close into trips, the others stay open;
2. 30 s later, with 30 more fixes of every moving vehicle stored, a pass with nothing due
   (the steady state between closes): target < 1 s at 5,000 vehicles. It reads the
   terminals' heads (kept by `fixes_store`, one row per terminal), not the fixes, so its
   cost does not grow with the fix table.

Each with wall time, this process's CPU time and the load average.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VEHICLES = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
SECONDS = int(sys.argv[2]) if len(sys.argv) > 2 else 300
DUE_PERCENT = float(sys.argv[3]) if len(sys.argv) > 3 else 2.0

_tmp = tempfile.mkdtemp(prefix="bench-sweep-")
atexit.register(shutil.rmtree, _tmp, ignore_errors=True)
os.environ["VAR_DIR"] = _tmp
if os.environ.get("BENCH_DATABASE_URL"):
    import psycopg

    _url = os.environ["BENCH_DATABASE_URL"]
    _name = _url.rsplit("/", 1)[1]
    with psycopg.connect(_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as _conn:
        _conn.execute(f'DROP DATABASE IF EXISTS "{_name}" WITH (FORCE)')
        _conn.execute(f'CREATE DATABASE "{_name}"')
    os.environ["DATABASE_URL"] = _url
else:
    os.environ["DATABASE_URL"] = f"sqlite:///{_tmp}/bench.sqlite3"
os.environ.pop("REDIS_URL", None)
os.environ.pop("CELERY_BROKER_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yangquan_av.settings")

import django  # noqa: E402 - settings come from the environment set above

django.setup()

import logging  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from operators.models import Operator, Vehicle  # noqa: E402
from telemetry.models import Terminal  # noqa: E402
from telemetry.partitions import ensure_fix_partitions  # noqa: E402
from telemetry.services import FixRow, fixes_store  # noqa: E402
from tests.telemetry.live import drive_positions  # noqa: E402
from trips.live import close_live_trips  # noqa: E402

BATCH = 50_000  # fixes per fixes_store call


def fleet() -> list[tuple[int, int]]:
    """(vehicle pk, terminal pk) of N vehicles with an MQTT terminal each."""
    call_command("migrate", verbosity=0)
    operator = Operator.objects.create(credit_code="91140300MABENCH002", name="基准测试公司")
    Vehicle.objects.bulk_create(
        Vehicle(
            operator=operator,
            vin=f"LSWEEP{n:011d}",
            plate=f"晋C{n:06d}",
            category=Vehicle.Category.TAXI,
        )
        for n in range(VEHICLES)
    )
    cars = list(Vehicle.objects.order_by("pk"))
    Terminal.objects.bulk_create(
        Terminal(
            vehicle=car,
            protocol=Terminal.Protocol.MQTT,
            terminal_id=car.vin,
            auth_code_sha256=hashlib.sha256(b"bench").hexdigest(),
        )
        for car in cars
    )
    return list(Terminal.objects.order_by("vehicle_id").values_list("vehicle_id", "pk"))


def store(rows: list[FixRow]) -> None:
    for i in range(0, len(rows), BATCH):
        fixes_store(rows=rows[i : i + BATCH])


def fixes(
    cars: list[tuple[int, int]], start: datetime, seconds: int, parked_after: int | None
) -> list[FixRow]:
    """One fix a second from `start` for each car, driving east at 10 m/s (standing still
    after `parked_after` seconds), received 0.3 s after its time."""
    positions = drive_positions(seconds + 400)
    rows = []
    for vehicle_pk, terminal_pk in cars:
        offset = (vehicle_pk * 7) % 400  # not all on the same road
        for i in range(seconds):
            k = i if parked_after is None else min(i, parked_after)
            lat, lon = positions[offset + k]
            t = start + timedelta(seconds=i)
            rows.append(
                FixRow(terminal_pk, vehicle_pk, t, t + timedelta(milliseconds=300), lat, lon, True)
            )
    return rows


def timed(label: str, now: datetime) -> None:
    load = os.getloadavg()
    wall, cpu = time.perf_counter(), time.process_time()
    made = close_live_trips(now=now)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"{label}: {wall:.2f} s wall, {cpu:.2f} s CPU, {len(made)} trips made; load average "
        f"{' '.join(f'{v:.2f}' for v in load)} → {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )


def main() -> None:
    logging.getLogger("celery").setLevel(logging.WARNING)
    cars = fleet()
    due = max(2, round(VEHICLES * DUE_PERCENT / 100))
    silent, parked, moving = cars[: due // 2], cars[due // 2 : due], cars[due:]
    now = timezone.now().replace(microsecond=0)
    ensure_fix_partitions()
    began = time.perf_counter()
    store(fixes(moving, now - timedelta(seconds=SECONDS), SECONDS, None))
    store(fixes(silent, now - timedelta(seconds=SECONDS + 400), SECONDS, None))
    store(fixes(parked, now - timedelta(seconds=400), 400, 100))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # What autovacuum does soon after a bulk load: without statistics the grouped
            # read's plan sorts on disk.
            cursor.execute("ANALYZE telemetry_fix")
    stored = len(moving) * SECONDS + len(silent) * SECONDS + len(parked) * 400
    print(
        f"{connection.vendor}: {VEHICLES} vehicles, {stored:,} fixes stored in "
        f"{time.perf_counter() - began:.0f} s; due: {len(silent)} silent, {len(parked)} parked"
    )
    timed("pass with the due vehicles", now)
    store(fixes(moving, now, 30, None))
    timed("pass 30 s later, nothing due", now + timedelta(seconds=30))
    timed("pass again at once, nothing new", now + timedelta(seconds=30))


if __name__ == "__main__":
    main()
