"""Exactly once under faults (docs/operations.md, "Failures"): duplicate uploads at the same
moment, a worker killed mid-processing, the broker down at upload, a crash between storing
the raw file and committing the trip. Real processes where the fault is a process's: a
gunicorn server, Celery workers, a private redis-server, PostgreSQL's own locks."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.utils import timezone

from operators.services import token_create
from tests.conftest import World
from tests.trips.csvtrace import straight_east
from tests.trips.test_upload import approved_road
from tests.worker import (
    ROOT,
    database_url,
    gunicorn,
    process_env,
    require_worker,
    start_worker,
    stop,
    wait_for,
)
from trips import services
from trips.models import Trip
from trips.reason_codes import CONFLICT_CODES
from yangquan_av.celery import app

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
# Loopback ports of this module's own servers (the range given to these tests).
SERVER_PORT = 18010
DOWN_BROKER_SERVER_PORT = 18011
PRIVATE_REDIS_PORT = 18061
HUNG_BROKER_SERVER_PORT = 18012
HUNG_BROKER_PORT = 18062


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    # Raw files are content-addressed: a file left by an earlier run would hide what a test
    # means to show, so each test stores into its own folder (shared with its processes,
    # tests/worker.py).
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path / "media"


def post_upload(base_url: str, token: str, vin: str, data: bytes) -> tuple[int, dict[str, Any]]:
    """POST a trip file as multipart/form-data with the standard library only."""
    boundary = "yq-test-boundary"
    body = b"".join(
        [
            f'--{boundary}\r\nContent-Disposition: form-data; name="vin"\r\n\r\n{vin}\r\n'.encode(),
            f"--{boundary}\r\nContent-Disposition: form-data; "
            'name="file"; filename="trip.csv"\r\nContent-Type: text/csv\r\n\r\n'.encode(),
            data,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    host, port = base_url.removeprefix("http://").split(":")
    client = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        client.request(
            "POST",
            "/api/v1/trips/",
            body=body,
            headers={
                "Authorization": f"Token {token}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        response = client.getresponse()
        return response.status, json.loads(response.read())
    finally:
        client.close()


def raw_files(media: Path, sha256: str) -> list[Path]:
    return sorted((media / "raw" / sha256[:2]).glob(f"{sha256}*"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_identical_uploads_at_once_through_a_server_make_one_trip(
    world: World, media: Path
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a server process can share the test database only on PostgreSQL")
    data = straight_east(start=T0, metres=300)
    token = token_create(user=world.staff_a)
    barrier = threading.Barrier(20)
    answers: list[tuple[int, dict[str, Any]]] = []

    def send(base_url: str) -> None:
        barrier.wait()
        answers.append(post_upload(base_url, token, world.vehicle_a.vin, data))

    with gunicorn(port=SERVER_PORT) as base_url:
        threads = [threading.Thread(target=send, args=(base_url,)) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    trip = Trip.objects.get()
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 19 + [202]
    assert {body["id"] for _, body in answers} == {trip.pk}
    # One stored copy of the bytes, whichever request wrote it.
    assert [p.read_bytes() for p in raw_files(media, trip.raw_sha256)] == [data]


def results(trip: Trip) -> dict[str, Any]:
    """What processing decides, without what differs between two trips (ids, times) and
    without their conflict: the same bytes for another vehicle are held as the same content
    (the reference is that other vehicle's trip; trips.copies)."""
    return {
        "metres": (trip.total_m, trip.autonomous_m, trip.eligible_m),
        "points": (trip.points_total, trip.points_used, trip.disengagements),
        "reasons": [r for r in trip.reasons if r["code"] not in CONFLICT_CODES],
        "days": list(trip.days.order_by("day").values_list("day", "autonomous_m", "eligible_m")),
        "segments": list(trip.segments.values_list("segment_id", "eligible_m")),
    }


@contextmanager
def table_locked(table: str) -> Iterator[None]:
    """Hold an exclusive lock on `table` from another connection: whoever touches it waits."""
    with psycopg.connect(database_url()) as locker:
        locker.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield
        locker.rollback()


def someone_waits_for(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE relation = %s::regclass AND NOT granted", [table]
        )
        row = cursor.fetchone()
    return bool(row and row[0])


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_processing_leaves_the_trip_to_be_processed_to_the_same_result(
    world: World, media: Path, celery_worker: subprocess.Popen[bytes]
) -> None:
    approved_road(world)
    data = straight_east(start=T0, metres=400)
    # The same file for another vehicle, processed without interruption: the reference.
    reference, _ = services.trip_upload(actor=world.staff_b, vin=world.vehicle_b.vin, data=data)
    wait_for(lambda: Trip.objects.get(pk=reference.pk).status == Trip.Status.ACCEPTED)
    # The worker writes the per-day results after it has changed the status and verified
    # the trace; a lock on that table stops it there, in the middle of its transaction.
    with table_locked("trips_tripday"):
        trip, _ = services.trip_upload(actor=world.staff_a, vin=world.vehicle_a.vin, data=data)
        wait_for(lambda: someone_waits_for("trips_tripday"))
        celery_worker.kill()  # SIGKILL: no clean-up, no acknowledgement, no rollback sent
        celery_worker.wait(timeout=30)
    trip.refresh_from_db()
    assert (trip.status, trip.processed_at) == (Trip.Status.RECEIVED, None)
    assert not trip.days.exists()
    # Its message waits unacknowledged in Redis for the visibility timeout (an hour); the
    # sweep queues the trip again for the next worker.
    worker = start_worker()
    try:
        assert services.trip_requeue_stale(older_than=dt.timedelta(0)) == [trip.pk]
        wait_for(lambda: Trip.objects.get(pk=trip.pk).status != Trip.Status.RECEIVED)
    finally:
        stop(worker)
        # The killed worker's message would come back in a later run, for a trip id of a
        # database that is gone by then.
        redis.Redis.from_url(app.conf.broker_url).delete("unacked", "unacked_index")
    trip.refresh_from_db()
    reference.refresh_from_db()
    assert results(trip) == results(reference)
    assert abs(trip.eligible_m - 400) < 2
    # ...and it is held as the reference's bytes: a kilometre is paid once.
    assert [r["trip"] for r in trip.reasons if r["code"] == "same_content"] == [reference.pk]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_pool_process_killed_mid_processing_gets_its_trip_back_at_once(
    world: World, media: Path
) -> None:
    require_worker()
    approved_road(world)
    data = straight_east(start=T0, metres=400)
    app.control.purge()
    app.conf.task_always_eager = False
    worker = None
    try:
        worker = start_worker(pool="prefork")
        with table_locked("trips_tripday"):
            trip, _ = services.trip_upload(actor=world.staff_a, vin=world.vehicle_a.vin, data=data)
            wait_for(lambda: someone_waits_for("trips_tripday"))
            active = app.control.inspect(timeout=5).active() or {}
            (child,) = [task["worker_pid"] for tasks in active.values() for task in tasks]
            os.kill(child, signal.SIGKILL)
        # The worker sees its child lost and puts the message back (acks late,
        # task_reject_on_worker_lost): a new child verifies the trip, no sweep, no timeout.
        wait_for(lambda: Trip.objects.get(pk=trip.pk).status == Trip.Status.ACCEPTED)
    finally:
        app.conf.task_always_eager = True
        if worker is not None:
            stop(worker)
    assert worker.returncode == 0
    assert abs(Trip.objects.get(pk=trip.pk).eligible_m - 400) < 2


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_upload_while_the_broker_is_down_is_stored_and_processed_once_it_is_back(
    world: World, media: Path
) -> None:
    require_worker()
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        pytest.skip("needs redis-server to start and stop a private broker")
    approved_road(world)
    data = straight_east(start=T0, metres=500)
    broker_url = f"redis://127.0.0.1:{PRIVATE_REDIS_PORT}/0"  # nothing listens there yet
    with gunicorn(port=DOWN_BROKER_SERVER_PORT, broker_url=broker_url) as base_url:
        started = time.monotonic()
        status, body = post_upload(
            base_url, token_create(user=world.staff_a), world.vehicle_a.vin, data
        )
        elapsed_s = time.monotonic() - started
    assert status == 202, body
    # Refused connections: the publish is tried three times, 0.5 s apart (settings.py).
    assert elapsed_s < 5
    trip = Trip.objects.get(pk=body["id"])
    assert trip.status == Trip.Status.RECEIVED
    assert [p.read_bytes() for p in raw_files(media, trip.raw_sha256)] == [data]
    broker = subprocess.Popen(  # noqa: S603 - our own command line, no shell
        [
            redis_server,
            "--port",
            str(PRIVATE_REDIS_PORT),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    worker = None
    try:
        worker = start_worker(broker_url=broker_url)
        sweep = subprocess.run(
            [sys.executable, "manage.py", "requeue_trips", "--older-than", "0"],
            cwd=ROOT,
            env=process_env(broker_url=broker_url),
            capture_output=True,
            check=True,
            text=True,
        )
        assert sweep.stdout.strip() == "1 trips queued"
        wait_for(lambda: Trip.objects.get(pk=trip.pk).status == Trip.Status.ACCEPTED)
    finally:
        if worker is not None:
            stop(worker)
        stop(broker)
    assert abs(Trip.objects.get(pk=trip.pk).eligible_m - 500) < 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_upload_while_the_broker_hangs_answers_within_seconds(world: World, media: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a server process can share the test database only on PostgreSQL")
    # A broker that accepts connections and never answers (hung, or half-open behind a
    # firewall): the kernel completes the handshake, nothing reads or writes.
    with socket.create_server(("127.0.0.1", HUNG_BROKER_PORT)):
        broker_url = f"redis://127.0.0.1:{HUNG_BROKER_PORT}/0"
        with gunicorn(port=HUNG_BROKER_SERVER_PORT, broker_url=broker_url) as base_url:
            token = token_create(user=world.staff_a)
            data = straight_east(start=T0, metres=300)
            started = time.monotonic()
            status, body = post_upload(base_url, token, world.vehicle_a.vin, data)
            elapsed_s = time.monotonic() - started
    assert status == 202, body
    assert elapsed_s < 10  # the 5 s socket timeout of settings.py, once
    assert Trip.objects.get(pk=body["id"]).status == Trip.Status.RECEIVED


# A fault between storing the raw file and committing the trip row, made by the database
# itself: a trigger refuses the row, as if the process had died before its commit.
REFUSE_TRIP_ROWS = {
    "postgresql": [
        "CREATE FUNCTION refuse_trip_row() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the process died here'; END $$",
        "CREATE TRIGGER refuse_trip_row BEFORE INSERT ON trips_trip "
        "FOR EACH ROW EXECUTE FUNCTION refuse_trip_row()",
    ],
    "sqlite": [
        "CREATE TRIGGER refuse_trip_row BEFORE INSERT ON trips_trip "
        "BEGIN SELECT RAISE(ABORT, 'the process died here'); END",
    ],
}
ALLOW_TRIP_ROWS = {
    "postgresql": "DROP TRIGGER refuse_trip_row ON trips_trip",
    "sqlite": "DROP TRIGGER refuse_trip_row",
}


def test_a_crash_after_the_file_is_stored_leaves_no_trip_and_the_upload_again_succeeds(
    world: World, media: Path
) -> None:
    data = straight_east(start=T0, metres=250)
    sha256 = hashlib.sha256(data).hexdigest()
    with connection.cursor() as cursor:
        for statement in REFUSE_TRIP_ROWS[connection.vendor]:
            cursor.execute(statement)
    with pytest.raises(DatabaseError):
        services.trip_upload(actor=world.staff_a, vin=world.vehicle_a.vin, data=data)
    # Nothing counts without a row; the file is kept, unreferenced.
    assert not Trip.objects.exists()
    assert [p.read_bytes() for p in raw_files(media, sha256)] == [data]
    with connection.cursor() as cursor:
        cursor.execute(ALLOW_TRIP_ROWS[connection.vendor])
    trip, created = services.trip_upload(actor=world.staff_a, vin=world.vehicle_a.vin, data=data)
    assert created
    assert trip.raw_file.name == f"raw/{sha256[:2]}/{sha256}"
    assert [p.read_bytes() for p in raw_files(media, sha256)] == [data]  # reused, not copied


def test_a_raw_file_torn_by_a_crash_mid_write_is_written_again(world: World, media: Path) -> None:
    data = straight_east(start=T0, metres=250)
    sha256 = hashlib.sha256(data).hexdigest()
    torn = media / "raw" / sha256[:2] / sha256
    torn.parent.mkdir(parents=True)
    torn.write_bytes(data[:100])  # local disk writes in place: a crash leaves the first blocks
    trip, created = services.trip_upload(actor=world.staff_a, vin=world.vehicle_a.vin, data=data)
    assert created
    assert raw_files(media, sha256) == [torn]
    assert torn.read_bytes() == data
    with trip.raw_file.open("rb") as raw:
        assert raw.read() == data


def test_the_sweep_queues_only_trips_waiting_longer_than_the_threshold(
    world: World, media: Path
) -> None:
    # pytest-django's `db` drops on-commit callbacks: these uploads were never queued, as
    # when the broker is down.
    waiting, _ = services.trip_upload(
        actor=world.staff_a, vin=world.vehicle_a.vin, data=straight_east(start=T0, metres=200)
    )
    fresh, _ = services.trip_upload(
        actor=world.staff_a,
        vin=world.vehicle_a.vin,
        data=straight_east(start=T0 + dt.timedelta(hours=1), metres=200),
    )
    eleven_minutes_ago = timezone.now() - dt.timedelta(minutes=11)
    Trip.objects.filter(pk=waiting.pk).update(received_at=eleven_minutes_ago)
    out = io.StringIO()
    call_command("requeue_trips", stdout=out)  # TRIP_REQUEUE_AFTER_S: 600 s
    assert out.getvalue().strip() == "1 trips queued"
    waiting.refresh_from_db()
    fresh.refresh_from_db()
    assert (waiting.status, fresh.status) == (Trip.Status.ACCEPTED, Trip.Status.RECEIVED)


def test_the_sweep_queues_a_trip_left_waiting_for_reverification(world: World, media: Path) -> None:
    trip, _ = services.trip_upload(
        actor=world.staff_a, vin=world.vehicle_a.vin, data=straight_east(start=T0, metres=200)
    )
    services.trip_process(trip_id=trip.pk)
    trip = services.trip_reverify(actor=world.bureau, trip=trip, reason="批文日期更正")
    assert trip.status == Trip.Status.PROCESSING  # and its message was never sent
    assert services.trip_requeue_stale(older_than=dt.timedelta(minutes=10)) == []
    assert services.trip_requeue_stale(older_than=dt.timedelta(0)) == [trip.pk]
    trip.refresh_from_db()
    assert trip.status == Trip.Status.ACCEPTED
