"""The Django side of trips: upload, processing, review, re-verification, access."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from core.models import AuditRecord
from operators.models import User
from routes import services as routes_services
from routes.models import RoadSegment
from tests.conftest import World, client_for
from tests.trips.csvtrace import straight_east
from tests.worker import wait_for
from trips import services
from trips.models import Trip, TripDay

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
# A road due east along 37.86°N from 113.54°E to 113.60°E (≈ 5.3 km), 15 m corridor.
ROAD = {"type": "LineString", "coordinates": [[113.54, 37.86], [113.60, 37.86]]}


def approved_road(
    world: World, *, valid_from: dt.datetime = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
) -> RoadSegment:
    road = routes_services.segment_create(
        actor=world.bureau,
        name="测试大道",
        kind="road",
        geometry=ROAD,
        corridor_half_width_m=Decimal(15),
    )
    road = routes_services.segment_submit(actor=world.bureau, segment=road)
    return routes_services.segment_approve(
        actor=world.bureau, segment=road, valid_from=valid_from, approval_ref="阳交〔2023〕1号"
    )


def upload(
    client: APIClient, vin: str, data: bytes, name: str = "trip.csv", **fields: str
) -> tuple[int, dict[str, Any]]:
    response = client.post(
        "/api/v1/trips/",
        {"vin": vin, "file": io.BytesIO(data), **fields},
        format="multipart",
    )
    body = response.json()
    return response.status_code, body


def upload_and_process(world: World, data: bytes, staff: User | None = None) -> Trip:
    """Upload, then process in-process (pytest-django's `db` drops on-commit callbacks)."""
    trip, _ = services.trip_upload(
        actor=staff or world.staff_a,
        vin=world.vehicle_a.vin,
        data=data,
        original_name="trip.csv",
    )
    return services.trip_process(trip_id=trip.pk)


def test_upload_answers_202_and_the_trip_is_verified(
    world: World, django_capture_on_commit_callbacks: object
) -> None:
    approved_road(world)
    data = straight_east(start=T0, lon0=113.55, metres=1000)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        status, body = upload(client_for(world.staff_a), world.vehicle_a.vin, data)
    assert status == 202, body
    trip = Trip.objects.get(pk=body["id"])
    assert body["status"] == "received"
    assert trip.status == Trip.Status.ACCEPTED
    # 1,000 m due east, autonomous, entirely inside the corridor (113.55 > 113.54).
    assert abs(trip.total_m - 1000) < 2
    assert trip.eligible_m == trip.autonomous_m == trip.total_m
    assert trip.segments.get().eligible_m == trip.eligible_m
    assert trip.days.get().day == dt.date(2026, 3, 2)


def test_raw_file_is_stored_by_hash_and_never_changed(world: World) -> None:
    data = straight_east(start=T0, metres=200)
    trip = upload_and_process(world, data)
    with trip.raw_file.open("rb") as raw:
        assert raw.read() == data
    assert trip.raw_file.name == f"raw/{trip.raw_sha256[:2]}/{trip.raw_sha256}"


def test_same_file_for_the_same_vehicle_returns_the_existing_trip(world: World) -> None:
    data = straight_east(start=T0, metres=200)
    client = client_for(world.staff_a)
    first_status, first = upload(client, world.vehicle_a.vin, data)
    again_status, again = upload(client, world.vehicle_a.vin, data)
    assert (first_status, again_status) == (202, 200)
    assert first["id"] == again["id"]
    assert Trip.objects.count() == 1


def test_same_external_id_returns_the_existing_trip(world: World) -> None:
    client = client_for(world.staff_a)
    _, first = upload(client, world.vehicle_a.vin, straight_east(start=T0), external_id="A-1")
    status, again = upload(
        client, world.vehicle_a.vin, straight_east(start=T0, metres=300), external_id="A-1"
    )
    assert status == 200
    assert again["id"] == first["id"]


@pytest.mark.django_db(transaction=True)
def test_identical_uploads_at_the_same_moment_make_one_trip(world: World) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    data = straight_east(start=T0, metres=300)
    barrier = threading.Barrier(4)
    results: list[int] = []

    def send() -> None:
        barrier.wait()
        trip, _ = services.trip_upload(actor=world.staff_a, vin=world.vehicle_a.vin, data=data)
        results.append(trip.pk)
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Trip.objects.count() == 1
    assert set(results) == {Trip.objects.get().pk}


def test_another_companys_vehicle_reads_as_unknown(world: World) -> None:
    client = client_for(world.staff_a)
    other = upload(client, world.vehicle_b.vin, straight_east(start=T0))
    unknown = upload(client, "1M8GDM9AXKP042788", straight_east(start=T0))
    assert other == unknown
    assert (other[0], list(other[1])) == (400, ["vin"])


def test_file_over_the_limit_is_a_413_and_stores_nothing(world: World) -> None:
    with override_settings(TRIP_MAX_BYTES=100):
        status, _ = upload(client_for(world.staff_a), world.vehicle_a.vin, b"x" * 101)
    assert status == 413
    assert not Trip.objects.exists()


def test_bureau_cannot_upload(world: World) -> None:
    status, _ = upload(client_for(world.bureau), world.vehicle_a.vin, straight_east(start=T0))
    assert status == 403


def test_unknown_upload_field_is_a_400_naming_it(world: World) -> None:
    status, body = upload(
        client_for(world.staff_a), world.vehicle_a.vin, straight_east(start=T0), colour="red"
    )
    assert (status, list(body)) == (400, ["colour"])


@pytest.mark.parametrize(
    "data",
    [
        b"timestamp,lat,lon\n2026-03-02T09:00:00+08:00,37.86,113.55\n",  # no mode column
        b"timestamp,lat,lon,mode\nyesterday,37.86,113.55,auto\n",
        "timestamp,lat,lon,mode\n2026-03-02T09:00:00+08:00,37.86,113.55,auto\n".encode("gbk"),
    ],
    # Binary data (and UTF-16, NUL bytes too) is refused at upload: tests/trips/test_recovery.py
    ids=["missing-mode", "bad-timestamp", "gbk"],
)
def test_unusable_file_gives_a_rejected_trip_with_a_reason_and_no_metres(
    world: World, data: bytes
) -> None:
    trip = upload_and_process(world, data)
    assert trip.status == Trip.Status.REJECTED
    assert trip.reasons
    assert all(r["code"] and r["message"] for r in trip.reasons)
    assert trip.eligible_m == 0
    assert not TripDay.objects.filter(trip=trip).exists()


def test_trip_overlapping_an_accepted_trip_of_the_same_vehicle_needs_review(
    world: World,
) -> None:
    approved_road(world)
    first = upload_and_process(world, straight_east(start=T0, metres=600))
    second = upload_and_process(
        world, straight_east(start=T0 + dt.timedelta(seconds=30), lon0=113.56, metres=600)
    )
    assert first.status == Trip.Status.ACCEPTED
    assert second.status == Trip.Status.NEEDS_REVIEW
    assert "overlaps_accepted_trip" in {r["code"] for r in second.reasons}


def test_bureau_reviews_a_flagged_trip_and_the_decision_is_audited(world: World) -> None:
    approved_road(world)
    upload_and_process(world, straight_east(start=T0, metres=600))
    flagged = upload_and_process(
        world, straight_east(start=T0 + dt.timedelta(seconds=30), lon0=113.56, metres=600)
    )
    url = f"/api/v1/trips/{flagged.pk}/review/"
    body = {"decision": "reject", "reason": "与已接受行程重叠"}
    assert client_for(world.staff_a).post(url, body).status_code == 403
    response = client_for(world.bureau).post(url, body)
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    record = AuditRecord.objects.filter(action="rejected", object_id=str(flagged.pk)).get()
    assert (record.actor, record.reason) == (world.bureau, "与已接受行程重叠")
    again = client_for(world.bureau).post(url, body)
    assert again.status_code == 400


def test_company_never_reaches_another_companys_trip(world: World) -> None:
    trip = upload_and_process(world, straight_east(start=T0, metres=200))
    client = client_for(world.staff_b)
    for suffix in ("", "trace/", "raw/"):
        assert client.get(f"/api/v1/trips/{trip.pk}/{suffix}").status_code == 404
    assert client.get(f"/api/v1/trips/?vehicle={world.vehicle_a.pk}").json()["count"] == 0


def test_trace_is_geojson_with_tagged_steps(world: World) -> None:
    approved_road(world)
    trip = upload_and_process(world, straight_east(start=T0, metres=300))
    response = client_for(world.staff_a).get(f"/api/v1/trips/{trip.pk}/trace/")
    assert response.status_code == 200
    collection = json.loads(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    assert collection["type"] == "FeatureCollection"
    assert {f["properties"]["tag"] for f in collection["features"]} == {"eligible"}


def test_raw_download_is_exact_and_recorded(world: World) -> None:
    data = straight_east(start=T0, metres=200)
    trip = upload_and_process(world, data)
    response = client_for(world.bureau).get(f"/api/v1/trips/{trip.pk}/raw/")
    assert b"".join(response.streaming_content) == data  # type: ignore[attr-defined]
    assert AuditRecord.objects.filter(action="download_raw", actor=world.bureau).count() == 1


def test_reverify_after_an_approval_correction_changes_the_result(
    world: World, django_capture_on_commit_callbacks: object
) -> None:
    trip = upload_and_process(world, straight_east(start=T0, metres=500))
    assert trip.eligible_m == 0  # driven in March on a road whose approval was not recorded
    approved_road(world, valid_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))  # recorded late
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        response = client_for(world.bureau).post(
            f"/api/v1/trips/{trip.pk}/reverify/", {"reason": "批文日期更正"}
        )
    assert response.status_code == 202
    trip.refresh_from_db()
    assert trip.status == Trip.Status.ACCEPTED
    assert abs(trip.eligible_m - 500) < 2


def test_trip_across_new_year_has_metres_on_both_local_days(world: World) -> None:
    approved_road(world)
    # 23:59:30 on 31 Dec 2025 in Shanghai is 15:59:30 UTC; 60 s at 10 m/s: 300 m each side.
    start = dt.datetime(2025, 12, 31, 15, 59, 30, tzinfo=dt.UTC)
    trip = upload_and_process(world, straight_east(start=start, metres=600))
    days = {d.day: d.eligible_m for d in trip.days.all()}
    assert set(days) == {dt.date(2025, 12, 31), dt.date(2026, 1, 1)}
    assert abs(days[dt.date(2025, 12, 31)] - 300) < 2
    assert abs(days[dt.date(2026, 1, 1)] - 300) < 2


def test_ingest_command_uploads_files_as_the_system(world: World, tmp_path: Path) -> None:
    folder = tmp_path
    for i in range(2):
        (folder / f"t{i}.csv").write_bytes(
            straight_east(start=T0 + dt.timedelta(hours=i), metres=200)
        )
    out = io.StringIO()
    call_command(
        "ingest_trip",
        "--vin",
        world.vehicle_a.vin,
        *(str(p) for p in sorted(folder.iterdir())),
        stdout=out,
    )
    assert Trip.objects.filter(vehicle=world.vehicle_a).count() == 2
    assert "2 new, 0 already uploaded" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_processes_an_upload(world: World, celery_worker: object) -> None:
    approved_road(world)
    status, body = upload(
        client_for(world.staff_a), world.vehicle_a.vin, straight_east(start=T0, metres=400)
    )
    assert status == 202
    wait_for(lambda: Trip.objects.get(pk=body["id"]).status == Trip.Status.ACCEPTED)
    assert abs(Trip.objects.get(pk=body["id"]).eligible_m - 400) < 2


def test_trace_answers_a_geojson_accept_header(world: World) -> None:
    trip = upload_and_process(world, straight_east(start=T0, metres=200))
    response = client_for(world.staff_a).get(
        f"/api/v1/trips/{trip.pk}/trace/", HTTP_ACCEPT="application/geo+json"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"


def test_parser_notes_are_recorded_once(world: World) -> None:
    # A fix at 0°, 0° ("null island", a receiver without a fix) is dropped by the parser.
    lines = straight_east(start=T0, metres=200).decode().splitlines()
    lines.insert(5, lines[5].split(",")[0] + ",0,0,auto")
    trip = upload_and_process(world, "\n".join(lines).encode())
    codes = [r["code"] for r in trip.reasons]
    assert codes.count("null_island") == 1
