"""How long do importing recorder events and 50 companies' scorecards take?

Run by hand: `.venv/bin/python bench/bench_recorder.py [postgres|sqlite] [events]`
(default: postgres, 1,000,000 events). It runs against its own database, never the app's:
PostgreSQL in `yangquan_av_bench_recorder` (dropped and made anew; the server from
BENCH_DATABASE_URL), SQLite in a temporary directory. 50 companies with 10 vehicles each
and a year of accepted trip days; the events (activations, takeover requests, exits,
minimum-risk manoeuvres, a few collisions) are one CSV file, imported through the service
the API calls (read and checked batch by batch with pyarrow and pandas, each batch sent to
one binary COPY while the next is read, incidents), then imported again (idempotency:
nothing new); then, after VACUUM ANALYZE (autovacuum's work), every company's scorecard
for the year, three times. Each step prints its wall
time, the CPU time of this process and of its PostgreSQL backend (and their sum and the
larger: wall near the larger means the two overlapped), and the load average: the
machine is shared, and wall time alone says more about the others than about this.
Targets (DESIGN.md §7): import < 10 s, 50 scorecards < 2 s, on PostgreSQL.
"""

from __future__ import annotations

import atexit
import datetime as dt
import io
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/yangquan_av_bench_recorder"
YEAR = 2025
OPERATORS = 50
VEHICLES_EACH = 10
BACKEND = sys.argv[1] if len(sys.argv) > 1 else "postgres"
EVENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000

if BACKEND == "postgres":
    _url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
    _name = _url.rsplit("/", 1)[1]
    with psycopg.connect(_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as _conn:
        _conn.execute(f'DROP DATABASE IF EXISTS "{_name}" WITH (FORCE)')
        _conn.execute(f'CREATE DATABASE "{_name}"')
    os.environ["DATABASE_URL"] = _url
# The raw event file is stored under VAR_DIR/media: a temporary directory, not the app's.
_tmp = tempfile.mkdtemp(prefix="bench-recorder-")
atexit.register(shutil.rmtree, _tmp, ignore_errors=True)
os.environ["VAR_DIR"] = _tmp
if BACKEND != "postgres":
    os.environ["DATABASE_URL"] = f"sqlite:///{_tmp}/bench.sqlite3"
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yangquan_av.settings")

import django  # noqa: E402 - settings come from the environment set above

django.setup()

import pandas as pd  # type: ignore[import-untyped]  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from operators.models import Operator, User, Vehicle  # noqa: E402
from recorder import services as recorder_services  # noqa: E402
from recorder.services import ads_events_import  # noqa: E402
from subsidies.scorecard import Scorecard, scorecards  # noqa: E402
from tests.factories import credit_code, plate, vin  # noqa: E402
from trips.models import Trip, TripDay  # noqa: E402

T = TypeVar("T")

# One cycle of a vehicle's events: activation, (takeover request), exit, and now and then a
# minimum-risk manoeuvre; a collision once in 20,000 events.
CYCLE = ("activation", "takeover_request", "deactivation", "mrm_start", "mrm_end")


def _world() -> tuple[User, list[Vehicle]]:
    bureau = User.objects.create(username="bench-bureau", role="bureau")
    operators = Operator.objects.bulk_create(
        Operator(
            name=f"基准公司{i:02d}",
            credit_code=credit_code(),
            settled_on=dt.date(2022, 1, 1),
            pilot_admitted_on=dt.date(2022, 1, 1),
            status="admitted",
        )
        for i in range(OPERATORS)
    )
    vehicles = Vehicle.objects.bulk_create(
        Vehicle(
            operator=operators[i % OPERATORS],
            vin=vin(),
            plate=plate(),
            category="taxi",
            permit_number=f"B-{i}",
            permit_valid_from=dt.date(2022, 1, 1),
            permit_valid_to=dt.date(2030, 12, 31),
            status="approved",
        )
        for i in range(OPERATORS * VEHICLES_EACH)
    )
    # A trip a vehicle a week: the scorecard's kilometres and days.
    trips = Trip.objects.bulk_create(
        Trip(
            operator_id=vehicle.operator_id,
            vehicle=vehicle,
            raw_sha256=f"{vehicle.pk:032d}{week:032d}",
            raw_file=f"raw/{vehicle.pk}-{week}",
            raw_size=1,
            crs="wgs84",
            status="accepted",
            total_m=Decimal(50000),
            autonomous_m=Decimal(40000),
            eligible_m=Decimal(30000),
        )
        for vehicle in vehicles
        for week in range(52)
    )
    TripDay.objects.bulk_create(
        TripDay(
            trip=trip,
            day=dt.date(YEAR, 1, 1) + dt.timedelta(days=7 * (k % 52)),
            autonomous_m=Decimal(40000),
            eligible_m=Decimal(30000),
        )
        for k, trip in enumerate(trips)
    )
    return bureau, vehicles


def _events_csv(vehicles: list[Vehicle], n: int) -> bytes:
    """`n` events spread over the vehicles and the year, vectorised."""
    rng = np.random.default_rng(14)
    vins = np.array([v.vin for v in vehicles])
    per_vehicle = -(-n // len(vins))
    k = np.arange(per_vehicle)
    # Each vehicle's events a minute apart on average, strictly increasing.
    gaps = rng.integers(1, 120, size=(len(vins), per_vehicle)).cumsum(axis=1)
    start = pd.Timestamp(f"{YEAR}-01-01T00:00:00+08:00").value // 10**9
    seconds = (start + gaps).ravel()[:n]
    kinds = np.array(CYCLE)[np.tile(k % len(CYCLE), len(vins))][:n]
    kinds[rng.random(n) < 1 / 20_000] = "collision"
    frame = pd.DataFrame(
        {
            "time": pd.to_datetime(seconds, unit="s", utc=True).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "vin": np.repeat(vins, per_vehicle)[:n],
            "event": kinds,
            "initiator": np.where(kinds == "deactivation", "driver", "system"),
            "lat": 37.86,
            "lon": 113.55,
        }
    )
    out = io.BytesIO()
    frame.to_csv(out, index=False)
    return out.getvalue()


def _backend_pid() -> int | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _server_cpu_s(pid: int | None = None) -> float:
    """CPU time of this connection's PostgreSQL backend (user + system, from /proc: the server
    runs here), where the import's COPY spends most of its time; 0 on SQLite. Given the
    backend's pid, read without a query (as during a COPY)."""
    pid = pid or _backend_pid()
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _overlap_noted() -> dict[str, float]:
    """Notes this process's and the server's CPU time when the importer has read and
    checked the file's last batch (its batches wrapped): how much of the server's work
    was done while this process still read, whatever the load."""
    noted: dict[str, float] = {}
    pid = _backend_pid()
    read = recorder_services.read_event_batches  # type: ignore[attr-defined]  # imported there

    def reading(*args: Any, **kwargs: Any) -> Iterator[pd.DataFrame]:
        noted.update(here=time.process_time(), server=_server_cpu_s(pid))
        yield from read(*args, **kwargs)
        noted.update(
            here=time.process_time() - noted["here"], server=_server_cpu_s(pid) - noted["server"]
        )

    recorder_services.read_event_batches = reading  # type: ignore[attr-defined]
    return noted


def _timed(label: str, run: Callable[[], T]) -> T:
    """Run once and print wall time, this process's and the server backend's CPU time, and
    the load average before and after (the machine is shared: wall time alone misleads)."""
    load = os.getloadavg()[0]
    server = _server_cpu_s()
    began, cpu = time.perf_counter(), time.process_time()
    result = run()
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    server = _server_cpu_s() - server
    print(
        f"  {label}: wall {wall:.2f} s, CPU {cpu:.2f} s here + {server:.2f} s in the server "
        f"(sum {cpu + server:.2f} s, larger {max(cpu, server):.2f} s), "
        f"load {load:.1f} → {os.getloadavg()[0]:.1f}"
    )
    return result


def main() -> None:
    call_command("migrate", verbosity=0)
    bureau, vehicles = _world()
    data = _events_csv(vehicles, EVENTS)
    print(f"{BACKEND}: {EVENTS:,} events ({len(data) / 1e6:.1f} MB CSV), {OPERATORS} companies")
    print(f"  load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    noted = _overlap_noted()
    result = _timed(
        "import", lambda: ads_events_import(actor=bureau, data=data, original_name="bench.csv")
    )
    print(f"    {result.created:,} new, {result.incidents} incidents")
    print(
        f"    when the last batch was read: CPU {noted['here']:.2f} s here (reading, checking, "
        f"writing COPY rows), {noted['server']:.2f} s in the server (storing them meanwhile)"
    )
    again = _timed(
        "import again",
        lambda: ads_events_import(actor=bureau, data=data, original_name="bench.csv"),
    )
    print(f"    {again.created} new")
    if connection.vendor == "postgresql":
        # What autovacuum does within a minute of a large import: statistics for the
        # planner, and the visibility map that lets the scorecard read the index only.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE recorder_adsevent")
    cards: dict[int, Scorecard] = {}
    for attempt in range(3):
        cards = _timed(
            f"{len(vehicles) // VEHICLES_EACH} scorecards, run {attempt + 1}",
            lambda: scorecards(year=YEAR),
        )
    exits = sum(c.disengagements for c in cards.values())
    print(f"    {exits:,} disengagements, {sum(c.mrms for c in cards.values()):,} MRMs")


if __name__ == "__main__":
    main()
