"""Load: N concurrent clients uploading trips to the app under gunicorn on PostgreSQL, with a
real Celery worker on Redis, and reading each trip's page (issue #7, item 7).

Run by hand: `.venv/bin/python bench/bench_load.py --clients 50 --uploads 500 [--rate 10]`
(`.ci/run` runs it with `--clients 5 --uploads 20`). Loopback only, bounded in count and
time (`--timeout`). It drops and makes anew its own database (`--database-url`, default
postgres://postgres@127.0.0.1:5432/yangquan_av_load), migrates, collects static files,
seeds an approved road and, per client, a company account with its own API token (the
upload throttle is per token), a session and a vehicle; then starts gunicorn (`--web-workers`
processes x `--threads`, 127.0.0.1:`--port`) and a Celery worker (`--celery-concurrency`
processes, broker `--redis-url`) as production runs them (DEBUG off). Each client uploads
distinct small generated trips (CSV, 1 Hz, 300-1,290 m along the road, none overlapping
another of its vehicle), `--rate` uploads per second in all (0: as fast as answers come),
and after each upload fetches the trip's page in the web UI. Then it waits until every trip
is processed and prints throughput, p50/p95/max latency of the upload call and of the trip
page, errors and lost trips. Exit status 1 when any request failed or any trip was lost or
left unprocessed. Subprocesses are always stopped. Targets (issue #7): 50 clients, p95
upload < 200 ms, zero errors, zero lost trips.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
# A road due east along 37.86°N from 113.54°E to 113.60°E (≈ 5.3 km), 15 m corridor.
ROAD = {"type": "LineString", "coordinates": [[113.54, 37.86], [113.60, 37.86]]}
UPLOAD_TARGET_P95_MS = 200.0
BOUNDARY = "yq-bench-boundary"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--uploads", type=int, default=500, help="in all, spread over clients")
    parser.add_argument(
        "--rate",
        type=float,
        default=10.0,
        help="uploads started per second in all, spread over the clients (10: each of 50 "
        "clients every 5 s); 0: each client uploads again as soon as it has its answer and "
        "page, which measures the most the server can take",
    )
    parser.add_argument("--port", type=int, default=18020)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4, help="per gunicorn worker")
    parser.add_argument("--celery-concurrency", type=int, default=2)
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/yangquan_av_load",
        help="dropped and made anew",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14", help="the broker")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds, the whole run")
    args = parser.parse_args()
    if not 1 <= args.clients <= 200 or not 1 <= args.uploads <= 20_000:
        parser.error("--clients 1-200, --uploads 1-20000: a bounded load")
    return args


ARGS = parse_args()
VAR = tempfile.TemporaryDirectory(prefix="bench-load-")
ENV = {
    **os.environ,
    "DATABASE_URL": ARGS.database_url,
    "REDIS_URL": ARGS.redis_url,
    "VAR_DIR": VAR.name,
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(32),
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback; production sits behind TLS
    "CONN_MAX_AGE": "60",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "yangquan_av.settings",
}
ENV.pop("CELERY_BROKER_URL", None)  # the broker is --redis-url
os.environ.update(ENV)
os.environ.pop("CELERY_BROKER_URL", None)


def recreate_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


recreate_database(ARGS.database_url)

import django  # noqa: E402 - settings come from the environment set above

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from core.roles import Role  # noqa: E402
from operators.services import token_create  # noqa: E402
from routes import services as routes_services  # noqa: E402
from tests import factories  # noqa: E402
from tests.trips.csvtrace import straight_east  # noqa: E402
from trips.models import Trip  # noqa: E402
from yangquan_av.celery import app  # noqa: E402


@dataclass
class Account:
    token: str
    session: str
    vin: str


@dataclass
class Tally:
    upload_ms: list[float] = field(default_factory=list)
    detail_ms: list[float] = field(default_factory=list)
    trip_ids: set[int] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    lag_ms: float = 0.0  # how far behind its --rate schedule a client started an upload
    lock: threading.Lock = field(default_factory=threading.Lock)


def seed(clients: int) -> list[Account]:
    bureau = factories.user(Role.BUREAU)
    road = routes_services.segment_create(
        actor=bureau,
        name="压测大道",
        kind="road",
        geometry=ROAD,
        corridor_half_width_m=Decimal(15),
    )
    road = routes_services.segment_submit(actor=bureau, segment=road)
    routes_services.segment_approve(
        actor=bureau,
        segment=road,
        valid_from=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
        approval_ref="阳交〔2023〕1号",
    )
    accounts = []
    for _ in range(clients):
        company = factories.operator(actor=bureau)
        staff = factories.user(Role.OPERATOR, company)
        vehicle = factories.vehicle(actor=bureau, operator=company)
        browser = Client()
        browser.force_login(staff)
        accounts.append(
            Account(
                token=token_create(user=staff),
                session=browser.cookies["sessionid"].value,
                vin=vehicle.vin,
            )
        )
    return accounts


@contextmanager
def started(name: str, command: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` in its own process group, logging to a file; stop the group after."""
    log = Path(VAR.name) / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own command line, no shell
            command, cwd=ROOT, env=ENV, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        for sig, wait_s in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
            if process.poll() is not None:
                break
            os.killpg(process.pid, sig)
            try:
                process.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                continue
        if process.returncode not in (0, -signal.SIGTERM):
            print(f"{name} ended with {process.returncode}; last lines of its log:")
            print("\n".join(log.read_text(errors="replace").splitlines()[-20:]))


def wait_until(condition: object, what: str, deadline: float) -> None:
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.2)


def answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/api/v1/schema/")
        conn.getresponse().read()
    except OSError:
        return False
    finally:
        conn.close()
    return True


def multipart(vin: str, data: bytes) -> bytes:
    return b"".join(
        [
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="vin"\r\n\r\n{vin}\r\n'.encode(),
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; "
            'name="file"; filename="trip.csv"\r\nContent-Type: text/csv\r\n\r\n'.encode(),
            data,
            f"\r\n--{BOUNDARY}--\r\n".encode(),
        ]
    )


def warm_up(account: Account) -> None:
    """Each gunicorn process imports the URL conf (and with it the geometry stack) and
    compiles templates on its first requests, about 1.5 s: done before the clock starts."""
    conn = http.client.HTTPConnection("127.0.0.1", ARGS.port, timeout=60)
    for path, headers in (
        ("/api/v1/trips/", {"Authorization": f"Token {account.token}"}),
        ("/trips/", {"Cookie": f"sessionid={account.session}"}),
    ):
        conn.request("GET", path, headers=headers)
        conn.getresponse().read()
    conn.close()


def client(account: Account, trips: range, tally: Tally, start: float, deadline: float) -> None:
    """One client: its trips in turn, each upload followed by the trip's page over the same
    connection, as a company's system would upload and someone would look. Upload k starts
    at `start + k / rate` (or at once when --rate is 0). A new connection each time, as an
    uploader that comes back minutes later would open (gunicorn drops idle ones after 2 s)."""
    for k in trips:
        if ARGS.rate > 0:
            lag_s = time.monotonic() - (start + k / ARGS.rate)
            if lag_s < 0:
                time.sleep(-lag_s)
            with tally.lock:
                tally.lag_ms = max(tally.lag_ms, lag_s * 1000)
        if time.monotonic() > deadline:
            with tally.lock:
                tally.errors.append("client stopped at the time limit")
            return
        data = straight_east(start=T0 + dt.timedelta(minutes=10 * k), metres=300 + 10 * (k % 100))
        conn = http.client.HTTPConnection("127.0.0.1", ARGS.port, timeout=60)
        try:
            upload_ms, trip_id = upload(conn, account, data)
            detail_ms = trip_page(conn, account, trip_id)
        except (OSError, RuntimeError, http.client.HTTPException, ValueError) as error:
            with tally.lock:
                tally.errors.append(str(error))
            continue
        finally:
            conn.close()
        with tally.lock:
            tally.upload_ms.append(upload_ms)
            tally.detail_ms.append(detail_ms)
            tally.trip_ids.add(trip_id)


def upload(conn: http.client.HTTPConnection, account: Account, data: bytes) -> tuple[float, int]:
    """POST the trip; returns the call's milliseconds and the trip's id."""
    began = time.perf_counter()
    conn.request(
        "POST",
        "/api/v1/trips/",
        body=multipart(account.vin, data),
        headers={
            "Authorization": f"Token {account.token}",
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        },
    )
    response = conn.getresponse()
    body = response.read()
    elapsed_ms = (time.perf_counter() - began) * 1000
    if response.status != 202:
        raise RuntimeError(f"upload answered {response.status}: {body[:200]!r}")
    return elapsed_ms, int(json.loads(body)["id"])


def trip_page(conn: http.client.HTTPConnection, account: Account, trip_id: int) -> float:
    """GET the trip's page in the web UI; returns the milliseconds."""
    began = time.perf_counter()
    conn.request("GET", f"/trips/{trip_id}/", headers={"Cookie": f"sessionid={account.session}"})
    response = conn.getresponse()
    response.read()
    elapsed_ms = (time.perf_counter() - began) * 1000
    if response.status != 200:
        raise RuntimeError(f"trip page answered {response.status}")
    return elapsed_ms


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)] if ordered else float("inf")


def latencies(values: list[float]) -> str:
    if not values:
        return "none"
    return (
        f"p50 {statistics.median(values):.0f} ms, p95 {p95(values):.0f} ms, "
        f"max {max(values):.0f} ms"
    )


def main() -> int:
    deadline = time.monotonic() + ARGS.timeout
    print(
        f"load: {ARGS.clients} clients, {ARGS.uploads} uploads, rate {ARGS.rate:g}/s; "
        f"gunicorn {ARGS.web_workers} workers x {ARGS.threads} threads, "
        f"Celery {ARGS.celery_concurrency} processes; "
        f"{ARGS.database_url.rsplit('/', 1)[1]} on PostgreSQL, broker {ARGS.redis_url}"
    )
    began = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    # The accounts never log in with a password (sessions are made directly): a fast hasher
    # keeps seeding 50 of them from taking a minute.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        accounts = seed(ARGS.clients)
    app.control.purge()  # messages left by an earlier, interrupted run on this Redis DB
    set_up_s = time.monotonic() - began
    print(f"set up (database, static files, {ARGS.clients} accounts) in {set_up_s:.1f} s")
    gunicorn = [
        sys.executable, "-m", "gunicorn", "yangquan_av.wsgi",
        f"--bind=127.0.0.1:{ARGS.port}", f"--workers={ARGS.web_workers}",
        f"--threads={ARGS.threads}", "--log-level=warning",
    ]  # fmt: skip
    worker = [
        sys.executable, "-m", "celery", "-A", "yangquan_av", "worker",
        f"--concurrency={ARGS.celery_concurrency}", "--without-gossip", "--without-mingle",
        "--loglevel=WARNING",
    ]  # fmt: skip
    with started("gunicorn", gunicorn) as web, started("celery", worker) as celery:
        wait_until(lambda: web.poll() is None and answers(ARGS.port), "gunicorn", deadline)
        wait_until(
            lambda: celery.poll() is None and app.control.ping(timeout=0.5), "celery", deadline
        )
        tally = Tally()
        share = [range(i, ARGS.uploads, ARGS.clients) for i in range(ARGS.clients)]
        warmers = [threading.Thread(target=warm_up, args=(account,)) for account in accounts]
        for thread in warmers:
            thread.start()
        for thread in warmers:
            thread.join()
        began = time.monotonic()
        threads = [
            threading.Thread(target=client, args=(account, trips, tally, began, deadline))
            for account, trips in zip(accounts, share, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        upload_s = time.monotonic() - began
        waiting = [Trip.Status.RECEIVED, Trip.Status.PROCESSING]
        # Until every trip is processed or the time is up; what is left is reported below.
        while Trip.objects.filter(status__in=waiting).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        processed_s = time.monotonic() - began
    stored = dict(Trip.objects.values_list("pk", "status"))
    lost = sorted(tally.trip_ids - set(stored))
    unprocessed = [pk for pk in tally.trip_ids if stored.get(pk) in waiting]
    outcomes = {status: list(stored.values()).count(status) for status in set(stored.values())}
    done = len(tally.upload_ms)
    met = "met" if p95(tally.upload_ms) < UPLOAD_TARGET_P95_MS else "NOT met"
    paced = f" (paced at {ARGS.rate:g}/s, at most {tally.lag_ms:.0f} ms late)" if ARGS.rate else ""
    print(f"uploads   {done} in {upload_s:.1f} s = {done / upload_s:.1f}/s{paced}")
    print(f"          latency {latencies(tally.upload_ms)} (target p95 < 200 ms: {met})")
    print(f"pages     {len(tally.detail_ms)} trip pages, latency {latencies(tally.detail_ms)}")
    print(
        f"processed {len(stored) - len(unprocessed)} of {len(stored)} trips {outcomes}, "
        f"all done {processed_s:.1f} s after the first upload"
    )
    first = f" (first: {tally.errors[0]})" if tally.errors else ""
    print(f"errors    {len(tally.errors)}{first}")
    print(f"lost      {len(lost)} never stored, {len(unprocessed)} never processed")
    failed = tally.errors or lost or unprocessed or done != ARGS.uploads
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        VAR.cleanup()
