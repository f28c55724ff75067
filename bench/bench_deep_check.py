"""How long does the deep check take: every trip of a year's issued statements verified
again from its raw file (SHA-256 checked on read) and compared with the stored result?

Run by hand: `.venv/bin/python bench/bench_deep_check.py [trips] [fixes_per_trip]`
(default 40 trips of 3,600 fixes; each trip is one hour at 5 m/s, so FIXES/3600 Hz).
SQLite and local files in a temporary directory, never the app's;
BENCH_DATABASE_URL=postgres://… to use PostgreSQL (that database is dropped and made
anew). It uploads and verifies the trips through the services, issues the year's
statement, then times `subsidies.deep_check.deep_check(year=2025)` (what
`check_ledger --deep --year 2025` runs) and prints the time per trip and per million
fixes, from which bench/README.md extrapolates a pilot year.
"""

from __future__ import annotations

import atexit
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TRIPS = int(sys.argv[1]) if len(sys.argv) > 1 else 40
FIXES = int(sys.argv[2]) if len(sys.argv) > 2 else 3600
YEAR = 2025  # a year over: statements are settled only after their year

_tmp = tempfile.mkdtemp(prefix="bench-deep-")
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
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yangquan_av.settings")

import django  # noqa: E402 - settings come from the environment set above

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from core.roles import Role  # noqa: E402
from routes import services as routes_services  # noqa: E402
from subsidies import computation, services  # noqa: E402
from subsidies.deep_check import deep_check  # noqa: E402
from subsidies.models import Statement  # noqa: E402
from tests import factories  # noqa: E402
from tests.trips.csvtrace import straight_east  # noqa: E402
from trips import services as trip_services  # noqa: E402


def main() -> None:
    call_command("migrate", verbosity=0)
    bureau = factories.user(Role.BUREAU)
    finance = factories.user(Role.FINANCE)
    issuer = factories.user(Role.FINANCE)  # four eyes: the approver does not issue
    company = factories.operator(actor=bureau, name="甲公司")
    staff = factories.user(Role.OPERATOR, company)
    vehicle = factories.vehicle(actor=bureau, operator=company)
    road = routes_services.segment_create(
        actor=bureau,
        name="测试大道",
        kind="road",
        geometry={"type": "LineString", "coordinates": [[113.54, 37.86], [113.90, 37.86]]},
        corridor_half_width_m=Decimal(15),
    )
    road = routes_services.segment_submit(actor=bureau, segment=road)
    routes_services.segment_approve(
        actor=bureau,
        segment=road,
        valid_from=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
        approval_ref="阳交〔2023〕1号",
    )
    start = dt.datetime(YEAR, 3, 2, 1, 0, tzinfo=dt.UTC)
    fixes = 0
    for i in range(TRIPS):
        # One hour each, at 5 m/s: FIXES/3600 Hz, on the road whatever the size.
        data = straight_east(
            start=start + dt.timedelta(hours=i * 2),
            lon0=113.55,
            metres=3600 * 5.0,
            speed_ms=5.0,
            hz=FIXES / 3600,
        )
        trip, _ = trip_services.trip_upload(actor=staff, vin=vehicle.vin, data=data)
        trip = trip_services.trip_process(trip_id=trip.pk)
        fixes += trip.points_total
    services.assessment_set(actor=bureau, operator=company, year=YEAR, grade="A")
    computation.statements_compute(year=YEAR)
    statement = Statement.objects.get(operator=company, year=YEAR)
    services.statement_approve(actor=finance, statement=statement)
    services.statement_issue(actor=issuer, statement=statement)

    began = time.perf_counter()
    check = deep_check(year=YEAR)
    seconds = time.perf_counter() - began
    assert check.findings == [], check.findings
    print(
        f"{connection.vendor}: deep check of {check.trips} trips, {fixes:,} fixes: "
        f"{seconds:.2f} s = {seconds / check.trips * 1000:.1f} ms/trip, "
        f"{seconds / fixes * 1e6:.2f} s per million fixes"
    )


if __name__ == "__main__":
    main()
