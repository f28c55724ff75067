"""Server time of the busiest pages with 100,000 trips over 5 years, for each role.

Run by hand:

    .venv/bin/python bench/bench_pages.py                       # a temporary SQLite file
    .venv/bin/python bench/bench_pages.py --database-url postgres://postgres@127.0.0.1:5432/yq_bench_pages

A PostgreSQL database named in --database-url is dropped and made anew (never point it at
the app's). The script bulk-loads companies, vehicles and trips (rows written directly, not
through the verifier: 85 % accepted, 10 % rejected, 5 % waiting for review, one local day
each, spread over 5 years), grades every company for the last year and computes the
statements, then asks Django's test client for the dashboard, the trip list, the review
queue and a statement page as each role may see them, and prints the median and p95 server
time (the client calls the WSGI handler in-process: no network, no browser) and the number
of SQL queries of one request. Target (DESIGN.md §7): < 300 ms each.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import itertools
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--database-url", default="", help="PostgreSQL URL (dropped and made anew)")
parser.add_argument("--trips", type=int, default=100_000)
parser.add_argument("--companies", type=int, default=5)
parser.add_argument("--vehicles-per-company", type=int, default=20)
parser.add_argument("--years", type=int, default=5)
parser.add_argument("--repeat", type=int, default=9, help="requests per page and role")
ARGS = parser.parse_args()
LAST_YEAR = dt.datetime.now(tz=dt.UTC).year - 1
FIRST_YEAR = LAST_YEAR - ARGS.years + 1

if ARGS.database_url:
    import psycopg

    name = ARGS.database_url.rsplit("/", 1)[1]
    with psycopg.connect(ARGS.database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = ARGS.database_url
else:
    _tmp = tempfile.mkdtemp(prefix="bench-pages-")
    atexit.register(shutil.rmtree, _tmp, ignore_errors=True)
    os.environ["VAR_DIR"] = _tmp
    os.environ["DATABASE_URL"] = f"sqlite:///{_tmp}/bench.sqlite3"
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yangquan_av.settings")

import django  # noqa: E402 - settings come from the environment set above

django.setup()

from django.core.management import call_command  # noqa: E402
from django.core.signals import request_finished, request_started  # noqa: E402
from django.db import close_old_connections, connection, reset_queries, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from core.roles import Role  # noqa: E402
from operators import views as operators_views  # noqa: E402
from operators.models import Operator, User, Vehicle  # noqa: E402
from routes import views as routes_views  # noqa: E402
from subsidies import views as subsidies_views  # noqa: E402
from subsidies.computation import statements_compute  # noqa: E402
from subsidies.models import Statement  # noqa: E402
from subsidies.selectors import year_km  # noqa: E402
from subsidies.services import assessment_set  # noqa: E402
from tests.factories import credit_code, plate, vin  # noqa: E402
from trips import views as trips_views  # noqa: E402
from trips.models import Trip, TripDay  # noqa: E402
from yangquan_av import views as home_views  # noqa: E402

Table = tuple[str, list[str], Callable[[], Iterator[list[Any]]]]


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


def _bulk_insert(tables: Sequence[Table]) -> None:
    """As bench/bench_compute.py: COPY on PostgreSQL, one unjournalled transaction on SQLite."""
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
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode = OFF")
        cursor.execute("PRAGMA synchronous = OFF")
    with transaction.atomic(), connection.cursor() as cursor:
        for table, columns, rows in tables:
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
            source = ([str(v) if isinstance(v, Decimal) else v for v in row] for row in rows())
            while batch := list(itertools.islice(source, 50_000)):
                cursor.executemany(sql, batch)
        cursor.execute("ANALYZE")


def _status(trip_id: int) -> str:
    share = trip_id % 20
    return "needs_review" if share == 0 else "rejected" if share in (1, 2) else "accepted"


def load() -> dict[str, User]:
    users: dict[str, User] = {
        role: User.objects.create(username=f"bench-{role}", role=role, is_staff=role != "operator")
        for role in (Role.BUREAU, Role.FINANCE, Role.ADMIN)
    }
    operators = Operator.objects.bulk_create(
        Operator(
            name=f"基准公司{i:02d}",
            credit_code=credit_code(),
            settled_on=dt.date(FIRST_YEAR, 1, 1),
            pilot_admitted_on=dt.date(FIRST_YEAR, 1, 1),
            status="admitted",
        )
        for i in range(ARGS.companies)
    )
    users[Role.OPERATOR] = User.objects.create(
        username="bench-company", role=Role.OPERATOR, operator=operators[0]
    )
    vehicles = Vehicle.objects.bulk_create(
        Vehicle(
            operator=operators[i % len(operators)],
            vin=vin(),
            plate=plate(),
            category="taxi",
            permit_number=f"B-{i}",
            permit_valid_from=dt.date(FIRST_YEAR, 1, 1),
            permit_valid_to=dt.date(LAST_YEAR + 5, 12, 31),
            status="approved",
        )
        for i in range(len(operators) * ARGS.vehicles_per_company)
    )
    now = timezone.now()
    start = dt.datetime(FIRST_YEAR, 1, 1, 1, tzinfo=dt.UTC)
    span_days = (dt.date(LAST_YEAR, 12, 31) - dt.date(FIRST_YEAR, 1, 1)).days + 1
    varying = ["id", "operator_id", "vehicle_id", "raw_sha256", "raw_file", "original_name"]
    varying += ["status", "started_at", "ended_at", "total_m", "autonomous_m", "eligible_m"]
    columns, template = _column_values(
        Trip,
        dict.fromkeys(varying)
        | {"raw_size": 1000, "crs": "wgs84", "format": "csv"}
        | {"received_at": now, "processed_at": now, "disengagements": 1},
    )
    column_of = {f.attname: str(f.column) for f in Trip._meta.concrete_fields}
    slots = [columns.index(column_of[name]) for name in varying]

    def metres(trip_id: int) -> Decimal:
        return Decimal(2000 + trip_id % 9000) + Decimal(trip_id % 100) / 100

    def at(trip_id: int) -> dt.datetime:
        # spread over the years, a few minutes apart within the day per vehicle
        return start + dt.timedelta(days=trip_id % span_days, minutes=(trip_id // span_days) % 900)

    def trip_rows() -> Iterator[list[Any]]:
        for trip_id in range(1, ARGS.trips + 1):
            vehicle = vehicles[trip_id % len(vehicles)]
            status = _status(trip_id)
            total = metres(trip_id)
            eligible = Decimal(0) if status == "rejected" else total
            row = list(template)
            values = [trip_id, vehicle.operator_id, vehicle.pk, f"{trip_id:064x}"]
            values += [f"bench/{trip_id}.csv", f"trip-{trip_id}.csv", status, at(trip_id)]
            values += [at(trip_id) + dt.timedelta(minutes=20), total, total, eligible]
            for slot, value in zip(slots, values, strict=True):
                row[slot] = value
            yield row

    def day_rows() -> Iterator[list[Any]]:
        for trip_id in range(1, ARGS.trips + 1):
            eligible = Decimal(0) if _status(trip_id) == "rejected" else metres(trip_id)
            yield [trip_id, timezone.localtime(at(trip_id)).date(), metres(trip_id), eligible]

    began = time.perf_counter()
    _bulk_insert(
        [
            (Trip._meta.db_table, columns, trip_rows),
            (TripDay._meta.db_table, ["trip_id", "day", "autonomous_m", "eligible_m"], day_rows),
        ]
    )
    print(f"loaded {ARGS.trips:,} trips in {time.perf_counter() - began:.1f} s")
    for number, operator in enumerate(operators):
        assessment_set(
            actor=users[Role.BUREAU], operator=operator, year=LAST_YEAR, grade="ABC"[number % 3]
        )
    began = time.perf_counter()
    statements_compute(year=LAST_YEAR)
    print(f"computed {LAST_YEAR}'s statements in {time.perf_counter() - began:.1f} s")
    return users


def measure(client: Client, url: str) -> tuple[list[float], int, int]:
    """Server times in ms over ARGS.repeat requests (after one warm-up), and one request's
    query count and status."""
    count = 0

    def counting(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counting):
        status = client.get(url).status_code
    times = []
    for _ in range(ARGS.repeat):
        began = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - began) * 1000)
        reset_queries()
    return times, count, status


def main() -> None:
    # One connection for the whole run, as a web process with persistent connections keeps
    # it (and so the query count of a request can be read).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    call_command("migrate", verbosity=0)
    users = load()
    any_statement = Statement.objects.order_by("-amount_yuan").first()
    pages: list[tuple[str, str, list[str]]] = [
        ("dashboard", "/", [Role.OPERATOR, Role.BUREAU, Role.FINANCE, Role.ADMIN]),
        ("trip list", "/trips/", [Role.OPERATOR, Role.BUREAU, Role.FINANCE, Role.ADMIN]),
        ("review queue", "/trips/review/", [Role.BUREAU, Role.ADMIN]),
    ]
    print(
        f"{connection.vendor}; {ARGS.trips:,} trips, {ARGS.companies} companies, "
        f"{FIRST_YEAR}–{LAST_YEAR}; {ARGS.repeat} requests per row after one warm-up; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'page':<16}{'role':<10}{'status':>7}{'median ms':>11}{'p95 ms':>9}{'queries':>9}")
    rows: list[tuple[str, str, str]] = [(p, u, r) for p, u, roles in pages for r in roles]
    # A company sees only its issued statements; these are drafts, read by finance.
    if any_statement is not None:
        for reader in ("finance", "admin"):
            rows.append(("statement", f"/statements/{any_statement.pk}/", reader))
    slow = []
    for page, url, role in rows:
        client = Client()
        client.force_login(users[role])
        times, queries, status = measure(client, url)
        median = statistics.median(times)
        p95 = sorted(times)[max(0, round(0.95 * len(times)) - 1)]
        flag = "" if p95 < 300 else "  > 300 ms"
        if flag:
            slow.append(f"{page} ({role})")
        print(f"{page:<16}{role:<10}{status:>7}{median:>11.1f}{p95:>9.1f}{queries:>9}{flag}")
    print("all under 300 ms" if not slow else f"over 300 ms: {', '.join(slow)}")
    print("dashboard cards, each app's dashboard() alone (median ms, queries):")
    cards(users)
    year_charts(users)


def km_chart(*, user: User, today: dt.date) -> dict[str, Any]:
    """The government's km-per-company chart (a company gets none)."""
    return {"km": home_views.km_by_company(user=user, today=today)} if user.is_government else {}


def cards(users: dict[str, User]) -> None:
    """Where the dashboard's time goes: each app's share (yangquan_av.views.home)."""
    today = timezone.localdate()
    for role in (Role.OPERATOR, Role.BUREAU, Role.FINANCE):
        shares = []
        for app, dashboard in (
            ("operators", operators_views.dashboard),
            ("routes", routes_views.dashboard),
            ("subsidies", subsidies_views.dashboard),
            ("trips", trips_views.dashboard),
            ("km chart", km_chart),
        ):
            times, count = [], 0
            for _ in range(5):
                with CaptureQueriesContext(connection) as queries:
                    began = time.perf_counter()
                    context = dashboard(user=users[role], today=today)
                    # querysets in the context are read by the template: read them here too
                    for value in context.values():
                        if hasattr(value, "__iter__") and hasattr(value, "query"):
                            list(value)
                    times.append((time.perf_counter() - began) * 1000)
                count = len(queries)
            shares.append(f"{app} {statistics.median(times):.0f} ms/{count} q")
        print(f"  {role:<10}" + ", ".join(shares))


def year_charts(users: dict[str, User]) -> None:
    """The charts of a company's year so far on its statement list (the selector behind
    them), timed over LAST_YEAR: the loaded trips end there, so this year has none."""
    user = users[Role.OPERATOR]
    times, count, rows = [], 0, 0
    for _ in range(5):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            by_month, by_vehicle = year_km(user=user, year=LAST_YEAR)
            times.append((time.perf_counter() - began) * 1000)
        count, rows = len(queries), len(by_month) + len(by_vehicle)
    print(
        f"a company's year charts ({LAST_YEAR}, {rows} rows): "
        f"{statistics.median(times):.0f} ms/{count} q"
    )


if __name__ == "__main__":
    main()
