"""Raw trip files on a real S3 server (SeaweedFS, tests/storage/seaweed.py): upload,
verification, download, the retention purge, each against the bucket itself, and a file
changed in the bucket behind the application's back, found by the deep check."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from routes import services as routes_services
from routes.models import RoadSegment
from tests.conftest import World, client_for
from tests.storage.seaweed import BUCKET, S3Server
from tests.subsidies.issued_trips import issued_statement
from tests.trips.csvtrace import straight_east
from trips import services as trip_services
from trips.models import Trip

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
ROAD = {"type": "LineString", "coordinates": [[113.54, 37.86], [113.60, 37.86]]}


def approved_road(world: World) -> RoadSegment:
    road = routes_services.segment_create(
        actor=world.bureau,
        name="测试大道",
        kind="road",
        geometry=ROAD,
        corridor_half_width_m=Decimal(15),
    )
    road = routes_services.segment_submit(actor=world.bureau, segment=road)
    return routes_services.segment_approve(
        actor=world.bureau,
        segment=road,
        valid_from=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
        approval_ref="阳交〔2023〕1号",
    )


def upload(world: World, data: bytes) -> Trip:
    trip, created = trip_services.trip_upload(
        actor=world.staff_a, vin=world.vehicle_a.vin, data=data, original_name="trip.csv"
    )
    assert created
    return trip


def keys(s3_server: S3Server, bucket: str) -> set[str]:
    """The names in the storage's folder of the bucket, read with S3's own listing."""
    listing = s3_server.client().list_objects_v2(Bucket=BUCKET, Prefix=f"{bucket}/")
    return {item["Key"].removeprefix(f"{bucket}/") for item in listing.get("Contents", [])}


def stored_bytes(s3_server: S3Server, bucket: str, name: str) -> bytes:
    got = s3_server.client().get_object(Bucket=BUCKET, Key=f"{bucket}/{name}")
    body: bytes = got["Body"].read()
    return body


def test_an_upload_stores_the_raw_bytes_in_the_bucket_under_their_hash(
    world: World, s3_server: S3Server, bucket: str
) -> None:
    data = straight_east(start=T0, metres=300)
    sha256 = hashlib.sha256(data).hexdigest()

    trip = upload(world, data)

    assert trip.raw_file.name == f"raw/{sha256[:2]}/{sha256}"
    assert keys(s3_server, bucket) == {trip.raw_file.name}
    assert stored_bytes(s3_server, bucket, trip.raw_file.name) == data


def test_the_same_bytes_uploaded_again_are_not_written_twice(
    world: World, s3_server: S3Server, bucket: str
) -> None:
    data = straight_east(start=T0, metres=300)
    first = upload(world, data)

    again, created = trip_services.trip_upload(
        actor=world.staff_a, vin=world.vehicle_a.vin, data=data, original_name="again.csv"
    )

    assert (again.pk, created) == (first.pk, False)
    assert keys(s3_server, bucket) == {first.raw_file.name}


def test_a_trip_is_verified_from_the_bucket_and_its_trace_is_stored_there(
    world: World, s3_server: S3Server, bucket: str
) -> None:
    approved_road(world)
    trip = upload(world, straight_east(start=T0, lon0=113.55, metres=1000))

    trip = trip_services.trip_process(trip_id=trip.pk)

    assert trip.status == Trip.Status.ACCEPTED
    # 1,000 m due east, autonomous, inside the corridor (113.55 > 113.54).
    assert abs(trip.eligible_m - 1000) < 2
    assert keys(s3_server, bucket) == {trip.raw_file.name, trip.trace_file.name}
    assert str(trip.trace_file.name).startswith(f"traces/{trip.pk}-")


def test_the_raw_download_is_the_exact_bytes_from_the_bucket(
    world: World, s3_server: S3Server, bucket: str
) -> None:
    data = straight_east(start=T0, metres=200)
    trip = trip_services.trip_process(trip_id=upload(world, data).pk)

    response = client_for(world.bureau).get(f"/api/v1/trips/{trip.pk}/raw/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data  # type: ignore[attr-defined]


def test_the_retention_purge_deletes_the_raw_file_and_trace_from_the_bucket(
    world: World,
    s3_server: S3Server,
    bucket: str,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.TRIP_RAW_RETENTION_DAYS = 30
    kept = trip_services.trip_process(trip_id=upload(world, straight_east(start=T0, metres=300)).pk)
    old = trip_services.trip_process(
        trip_id=upload(world, straight_east(start=T0 + dt.timedelta(hours=1), metres=300)).pk
    )
    Trip.objects.filter(pk=old.pk).update(received_at=timezone.now() - dt.timedelta(days=31))
    assert len(keys(s3_server, bucket)) == 4  # two raw files, two traces

    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_raw_tracks", "--commit", stdout=io.StringIO())

    old.refresh_from_db()
    assert old.raw_purged_at is not None
    assert keys(s3_server, bucket) == {kept.raw_file.name, kept.trace_file.name}
    response = client_for(world.bureau).get(f"/api/v1/trips/{old.pk}/raw/")
    assert response.status_code == 410


def test_a_raw_file_changed_in_the_bucket_is_found_by_the_deep_check(
    world: World, s3_server: S3Server, bucket: str
) -> None:
    _, (trip, other) = issued_statement(world)
    key = f"{bucket}/{trip.raw_file.name}"
    client = s3_server.client()
    data = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    # Behind the application's back: one fix moved 0.1° north, written over the object in
    # the bucket. (Every latitude reads 37.8…: the trace lies within metres of 37.86°, on
    # either side, so "37.86" itself need not occur.)
    changed = data.replace(b",37.8", b",37.9", 1)
    assert changed != data
    client.put_object(Bucket=BUCKET, Key=key, Body=changed)
    out = io.StringIO()

    with pytest.raises(CommandError, match="1 broken"):
        call_command("check_ledger", "--deep", stdout=out)

    assert f"BROKEN: trip {trip.pk} raw file SHA-256: from the raw file {trip.raw_sha256}" in (
        out.getvalue()
    )
    assert f"trip {other.pk}" not in out.getvalue()
