"""A company recovers from its own mistakes (issue #16): a declared driving mode for a trip
rejected without one, withdrawal of a wrong upload, and files refused at upload that can
never be a trip (binary junk, a GPX or NMEA file without a mode)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django.utils import translation

from core.errors import ApplicationError
from core.models import AuditRecord
from operators.models import Vehicle
from routes import demo as routes_demo
from subsidies import computation
from subsidies.models import Statement
from tests import factories
from tests.conftest import World, client_for
from tests.subsidies.issued_trips import issued_statement, verified_trip
from tests.trips.csvtrace import straight_east
from tests.trips.test_upload import approved_road, upload
from trips import services
from trips.models import Trip

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_chinese() -> Iterator[None]:
    """The services answer in the active language; these tests read the Chinese."""
    with translation.override("zh-hans"):
        yield


ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def without_mode(data: bytes) -> bytes:
    """The CSV without its mode column: a file that carries no driving mode."""
    return b"".join(line.rsplit(b",", 1)[0] + b"\n" for line in data.splitlines())


def process(world: World, data: bytes, name: str = "trip.csv", **kwargs: Any) -> Trip:
    trip, _ = services.trip_upload(
        actor=world.staff_a, vin=world.vehicle_a.vin, data=data, original_name=name, **kwargs
    )
    return services.trip_process(trip_id=trip.pk)


def zipped(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("trip.csv", data)
    return buffer.getvalue()


# ---- refused at upload --------------------------------------------------------------------


@pytest.mark.parametrize(
    "junk",
    [
        os.urandom(4096),
        PNG,
        zipped(straight_east(start=T0, metres=300)),
        straight_east(start=T0, metres=300).decode().encode("utf-16"),
    ],
    ids=["random bytes", "an image", "a zip", "UTF-16 text"],
)
def test_binary_junk_is_refused_at_upload_and_nothing_is_stored(world: World, junk: bytes) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.trip_upload(actor=world.staff_a, vin=world.vehicle_a.vin, data=junk)
    assert refused.value.field == "file"
    assert "不是行程日志" in str(refused.value.message)
    assert not Trip.objects.exists()
    digest = hashlib.sha256(junk).hexdigest()
    assert not default_storage.exists(f"raw/{digest[:2]}/{digest}")


def test_binary_junk_over_the_api_is_a_400_naming_the_file(world: World) -> None:
    status, body = upload(client_for(world.staff_a), world.vehicle_a.vin, PNG, name="photo.png")
    assert status == 400
    assert "file" in body


@pytest.mark.parametrize("sample", ["gpx", "nmea"])
def test_a_file_without_modes_is_refused_without_a_declared_mode(world: World, sample: str) -> None:
    data = (ROOT / "static" / "samples" / f"trip-sample.{sample}").read_bytes()
    status, body = upload(client_for(world.staff_a), world.vehicle_a.vin, data, name=f"a.{sample}")
    assert status == 400
    assert list(body) == ["mode"]
    assert not Trip.objects.exists()
    status, _ = upload(client_for(world.staff_a), world.vehicle_a.vin, data, mode="auto")
    assert status == 202


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpx", "nmea", "parquet"])
def test_each_sample_file_earns_its_km_on_the_demo_road(world: World, fmt: str) -> None:
    # The demo data's 德胜街, as `load_demo` approves it: a sample tried on the demo earns.
    document = json.loads(routes_demo.DEMO_FILE.read_text(encoding="utf-8"))
    (road,) = [f for f in document["features"] if f["properties"]["name"] == "德胜街"]
    routes_demo.load_feature(world.bureau, road)
    data = (ROOT / "static" / "samples" / f"trip-sample.{fmt}").read_bytes()
    mode = "auto" if fmt in ("gpx", "nmea") else ""
    trip = process(world, data, name=f"trip-sample.{fmt}", declared_mode=mode)
    assert (trip.format, trip.status) == (fmt, Trip.Status.ACCEPTED)
    # 80 steps of 10 m along the approved road, every metre of it eligible.
    assert float(trip.eligible_m) == pytest.approx(800, abs=0.5)
    assert trip.eligible_m == trip.total_m


# ---- a declared driving mode ---------------------------------------------------------------


def test_a_company_declares_the_mode_of_its_mode_missing_trip_as_a_new_version(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    approved_road(world)
    data = without_mode(straight_east(start=T0, lon0=113.55, metres=500))
    trip = process(world, data)
    assert trip.status == Trip.Status.REJECTED
    assert [r["code"] for r in trip.reasons] == ["mode_missing"]
    # The same file again, now with a mode: the same rejected trip (it is the same file).
    again, created = services.trip_upload(
        actor=world.staff_a, vin=world.vehicle_a.vin, data=data, declared_mode="auto"
    )
    assert (again.pk, created, again.status) == (trip.pk, False, Trip.Status.REJECTED)

    with django_capture_on_commit_callbacks(execute=True):
        services.trip_declare_mode(actor=world.staff_a, trip=trip, mode="auto", reason="自动驾驶")

    trip.refresh_from_db()
    assert (trip.status, trip.declared_mode) == (Trip.Status.ACCEPTED, "auto")
    assert float(trip.eligible_m) == pytest.approx(500, abs=0.5)
    assert [(v.number, v.outcome) for v in trip.verifications.all()] == [
        (1, "rejected"),
        (2, "accepted"),
    ]
    declared = AuditRecord.objects.get(
        object_id=str(trip.pk), action="processing", reason="自动驾驶"
    )
    assert declared.actor == world.staff_a
    assert declared.changes["declared_mode"] == ["", "auto"]


def test_only_a_mode_missing_trip_of_ones_own_company_takes_a_declared_mode(world: World) -> None:
    approved_road(world)
    accepted = process(world, straight_east(start=T0, metres=300))
    with pytest.raises(ApplicationError, match="缺少驾驶模式"):
        services.trip_declare_mode(actor=world.staff_a, trip=accepted, mode="auto")
    missing = process(world, without_mode(straight_east(start=T0 + dt.timedelta(hours=1))))
    with pytest.raises(ApplicationError, match="没有这个行程"):
        services.trip_declare_mode(actor=world.staff_b, trip=missing, mode="auto")
    with pytest.raises(PermissionDenied):
        services.trip_declare_mode(actor=world.bureau, trip=missing, mode="auto")


def test_the_api_declares_a_mode_and_answers_202(world: World) -> None:
    trip = process(world, without_mode(straight_east(start=T0, metres=300)))
    url = f"/api/v1/trips/{trip.pk}/declare-mode/"
    assert client_for(world.staff_a).post(url, {"mode": "fast"}).status_code == 400
    assert client_for(world.bureau).post(url, {"mode": "auto"}).status_code == 403
    response = client_for(world.staff_a).post(url, {"mode": "manual"})
    assert response.status_code == 202
    assert response.json() == {"id": trip.pk, "status": "processing"}


# ---- withdrawal ------------------------------------------------------------------------------


def test_a_withdrawn_trip_is_kept_as_a_version_and_conflicts_with_nothing(world: World) -> None:
    approved_road(world)
    data = straight_east(start=T0, metres=600)
    trip = process(world, data)
    assert trip.status == Trip.Status.ACCEPTED

    withdrawn = services.trip_withdraw(actor=world.staff_a, trip=trip, reason="传错了车辆")

    assert withdrawn.status == Trip.Status.WITHDRAWN
    version = withdrawn.current_verification
    assert version is not None
    assert (version.number, version.outcome, version.actor) == (2, "withdrawn", world.staff_a)
    assert AuditRecord.objects.filter(object_id=str(trip.pk), action="withdrawn").exists()
    # The right vehicle's upload of the same file is not held as a copy of the withdrawn one.
    other: Vehicle = factories.vehicle(actor=world.bureau, operator=world.company_a)
    moved, _ = services.trip_upload(actor=world.staff_a, vin=other.vin, data=data)
    assert services.trip_process(trip_id=moved.pk).status == Trip.Status.ACCEPTED
    with pytest.raises(ApplicationError, match="尚未撤回"):
        services.trip_withdraw(actor=world.staff_a, trip=withdrawn, reason="again")


def test_a_withdrawn_trip_pays_nothing(world: World) -> None:
    statement, (kept,) = issued_statement(world, trips=1)
    assert statement.eligible_m == kept.eligible_m
    late = verified_trip(world, hour=5)
    services.trip_withdraw(actor=world.staff_a, trip=late, reason="重复上传")
    computation.statements_compute(year=2025)
    adjustments = Statement.objects.filter(operator=world.company_a, year=2025).exclude(
        pk=statement.pk
    )
    assert not adjustments.exists()  # nothing new to pay: the withdrawn trip counts for nothing


def test_a_trip_an_issued_statement_holds_cannot_be_withdrawn(world: World) -> None:
    _, (trip,) = issued_statement(world, trips=1)
    with pytest.raises(ApplicationError, match="不能撤回"):
        services.trip_withdraw(actor=world.staff_a, trip=trip, reason="想撤回")
    assert Trip.objects.get(pk=trip.pk).status == Trip.Status.ACCEPTED


def test_raw_sql_cannot_withdraw_a_trip_an_issued_statement_holds(world: World) -> None:
    _, (trip,) = issued_statement(world, trips=1)
    with (
        pytest.raises(DatabaseError, match="cannot be withdrawn"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE trips_trip SET status = 'withdrawn' WHERE id = %s", [trip.pk])
    assert Trip.objects.get(pk=trip.pk).status == Trip.Status.ACCEPTED


def test_the_api_withdraws_a_trip(world: World) -> None:
    trip = process(world, straight_east(start=T0, metres=300))
    url = f"/api/v1/trips/{trip.pk}/withdraw/"
    assert client_for(world.staff_b).post(url, {"reason": "x"}).status_code == 404
    assert client_for(world.staff_a).post(url, {}).status_code == 400
    response = client_for(world.staff_a).post(url, {"reason": "上传错了"})
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
