"""How long does the annual computation take for 1,000,000 accepted trips of 50 companies?

Run by hand: `.venv/bin/python bench/bench_compute.py [postgres|sqlite|both] [trips]`.
Each backend runs in its own process against its own database, never the app's:
PostgreSQL in `yangquan_av_bench` (dropped and made anew; the server from
BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/yangquan_av_bench), SQLite
in a temporary directory. It bulk-loads the trips (COPY on PostgreSQL), one local day each
and one in fifty across midnight (two days), grades every company, then times
`statements_compute(year=2025)` twice: the first run (50 draft statements; a draft's
drill-down is read live, nothing per trip is written) and a recomputation with nothing
changed; then finance approves all 50 (each approval freezes its drill-down lines) and it
times the recomputation that checks the frozen lines, issues all 50 and times the nightly
ledger check (every issued statement re-derived from its lines, its trips and the ledger).
Target (DESIGN.md §7): < 10 s on
PostgreSQL.
"""

from __future__ import annotations

import atexit
import datetime as dt
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/yangquan_av_bench"
YEAR = 2025
OPERATORS = 50
BACKEND = sys.argv[1] if len(sys.argv) > 1 else "both"
TRIPS = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000


def _recreate_postgres(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


if BACKEND == "both":
    for backend in ("postgres", "sqlite"):
        subprocess.run(  # noqa: S603 - this very script, with our own arguments
            [sys.executable, __file__, backend, str(TRIPS)], check=True
        )
    sys.exit(0)
if BACKEND == "postgres":
    _url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
    _recreate_postgres(_url)
    os.environ["DATABASE_URL"] = _url
else:
    _tmp = tempfile.mkdtemp(prefix="bench-compute-")
    atexit.register(shutil.rmtree, _tmp, ignore_errors=True)  # a million trips fill 700 MB
    os.environ["VAR_DIR"] = _tmp
    os.environ["DATABASE_URL"] = f"sqlite:///{_tmp}/bench.sqlite3"
os.environ.pop("REDIS_URL", None)  # tasks, if any, stay in-process
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yangquan_av.settings")

import django  # noqa: E402 - settings come from the environment set above

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from operators.models import Operator, User, Vehicle  # noqa: E402
from subsidies.computation import ComputeSummary, statements_compute  # noqa: E402
from subsidies.integrity import ledger_check  # noqa: E402
from subsidies.models import Statement, StatementLine  # noqa: E402
from subsidies.services import assessment_set, statement_approve, statement_issue  # noqa: E402
from tests.factories import credit_code, plate, vin  # noqa: E402
from trips.models import Trip, TripDay  # noqa: E402


def _column_values(model: Any, explicit: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """Every concrete column with a value: ours, else the field's default, else empty."""
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.attname not in explicit:
            continue
        if field.attname in explicit:
            value = explicit[field.attname]
        elif field.has_default():
            value = field.get_default()
        elif field.null:
            value = None
        else:
            value = ""
        if isinstance(value, dict | list):
            value = json.dumps(value)
        columns.append(field.column)
        values.append(value)
    return columns, values


Table = tuple[str, list[str], Callable[[], Iterator[list[Any]]]]  # name, columns, rows


def _bulk_insert(tables: Sequence[Table]) -> None:
    """Rows into tables as fast as each backend takes them (COPY on PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor
            for table, columns, rows in tables:
                with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows():
                        copy.write_row(row)
            for table, _, _ in tables:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))"
                )
            cursor.execute("ANALYZE")
    else:
        # One transaction and no journal or fsync for this throw-away file only: row-by-row
        # autocommit cost a disk flush per row (457 s for 100,000 trips).
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode = OFF")
            cursor.execute("PRAGMA synchronous = OFF")
        with transaction.atomic(), connection.cursor() as cursor:
            for table, columns, rows in tables:
                marks = ", ".join(["%s"] * len(columns))
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
                source = ([str(v) if isinstance(v, Decimal) else v for v in row] for row in rows())
                while batch := list(itertools.islice(source, 100_000)):
                    cursor.executemany(sql, batch)
            cursor.execute("ANALYZE")


def _load(trips: int) -> None:
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
        for i in range(OPERATORS * 10)
    )
    for number, operator in enumerate(operators):
        assessment_set(actor=bureau, operator=operator, year=YEAR, grade="ABC"[number % 3])

    now = timezone.now()
    start = dt.datetime(YEAR, 1, 1, 8, tzinfo=dt.UTC)
    varying = [
        "id",
        "operator_id",
        "vehicle_id",
        "raw_sha256",
        "raw_file",
        "started_at",
        "ended_at",
        "total_m",
        "autonomous_m",
        "eligible_m",
        "disengagements",
    ]
    trip_columns, template = _column_values(
        Trip,
        dict.fromkeys(varying)
        | {
            "raw_size": 1000,
            "crs": "wgs84",
            "format": "csv",
            "status": "accepted",
            "received_at": now,
            "processed_at": now,
        },
    )
    column_of = {f.attname: str(f.column) for f in Trip._meta.concrete_fields}
    slots = [trip_columns.index(column_of[name]) for name in varying]
    day_columns = ["trip_id", "day", "autonomous_m", "eligible_m"]
    day_count = 0

    def trip_rows() -> Any:
        for trip_id in range(1, trips + 1):
            vehicle = vehicles[trip_id % len(vehicles)]
            metres = Decimal(2000 + trip_id % 9000) + Decimal(trip_id % 100) / 100
            across = trip_id % 50 == 0 and trip_id % 365 < 364
            total = metres * 2 if across else metres
            at = start + dt.timedelta(days=trip_id % 365)
            row = list(template)
            for slot, value in zip(
                slots,
                [
                    trip_id,
                    vehicle.operator_id,
                    vehicle.pk,
                    f"{trip_id:064x}",
                    f"bench/{trip_id}.csv",
                    at,
                    at + dt.timedelta(hours=1),
                    total,
                    total,
                    total,
                    trip_id % 3,
                ],
                strict=True,
            ):
                row[slot] = value
            yield row

    def day_rows() -> Any:
        nonlocal day_count
        for trip_id in range(1, trips + 1):
            metres = Decimal(2000 + trip_id % 9000) + Decimal(trip_id % 100) / 100
            day = dt.date(YEAR, 1, 1) + dt.timedelta(days=trip_id % 365)
            day_count += 1
            yield [trip_id, day, metres, metres]
            if trip_id % 50 == 0 and trip_id % 365 < 364:  # across midnight: two local days
                day_count += 1
                yield [trip_id, day + dt.timedelta(days=1), metres, metres]

    began = time.perf_counter()
    tables = (
        (Trip._meta.db_table, trip_columns, trip_rows),
        (TripDay._meta.db_table, day_columns, day_rows),
    )
    _bulk_insert(tables)
    print(
        f"  loaded {trips:,} trips ({day_count:,} trip days) in {time.perf_counter() - began:.1f} s"
    )


def _timed(label: str) -> ComputeSummary:
    began = time.perf_counter()
    summary = statements_compute(year=YEAR)
    took = time.perf_counter() - began
    print(
        f"  {label}: {took:.2f} s — {len(summary.created)} created, "
        f"{len(summary.updated)} updated, {len(summary.unchanged)} unchanged"
    )
    return summary


def _run(backend: str, trips: int) -> None:
    call_command("migrate", verbosity=0)
    print(f"{backend} ({connection.vendor}):")
    _load(trips)
    _timed("first computation")
    _timed("recomputation (no change)")
    finance = User.objects.create(username="bench-finance", role="finance")
    began = time.perf_counter()
    for statement in Statement.objects.filter(year=YEAR).order_by("pk"):
        statement_approve(actor=finance, statement=statement)
    print(
        f"  approving the 50 statements (freezing {StatementLine.objects.count():,} lines): "
        f"{time.perf_counter() - began:.2f} s"
    )
    _timed("recomputation, all approved (no change; frozen lines checked)")
    began = time.perf_counter()
    for statement in Statement.objects.filter(year=YEAR).order_by("pk"):
        statement_issue(actor=finance, statement=statement)
    print(f"  issuing the 50 statements: {time.perf_counter() - began:.2f} s")
    began = time.perf_counter()
    check = ledger_check()
    print(
        f"  ledger check: {time.perf_counter() - began:.2f} s — {check.statements} issued "
        f"statements, {len(check.broken)} broken, {len(check.pending)} pending adjustment"
    )
    total = sum((s.amount_yuan for s in Statement.objects.filter(year=YEAR)), Decimal(0))
    print(
        f"  {Statement.objects.filter(year=YEAR, status='issued').count()} issued statements, "
        f"{StatementLine.objects.count():,} lines, total {total:,} yuan"
    )


if __name__ == "__main__":
    _run(BACKEND, TRIPS)
