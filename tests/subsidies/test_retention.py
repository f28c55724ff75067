"""`manage.py purge_raw_tracks`: a dry run that lists what would go unless told `--commit`."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from tests.conftest import World
from tests.trips.csvtrace import straight_east
from trips import services as trip_services
from trips.models import Trip

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def old_trip(world: World, *, days: int) -> Trip:
    trip, _ = trip_services.trip_upload(
        actor=world.staff_a,
        vin=world.vehicle_a.vin,
        data=straight_east(start=T0, metres=300),
        original_name="trip.csv",
    )
    trip_services.trip_process(trip_id=trip.pk)
    Trip.objects.filter(pk=trip.pk).update(received_at=timezone.now() - dt.timedelta(days=days))
    return Trip.objects.get(pk=trip.pk)


def test_without_commit_the_purge_lists_the_files_and_deletes_nothing(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TRIP_RAW_RETENTION_DAYS = 30
    trip = old_trip(world, days=31)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_raw_tracks", stdout=out)
    assert f"trip {trip.pk} {trip.raw_sha256}" in out.getvalue()
    assert "1 raw files would be deleted (dry run; --commit deletes them)" in out.getvalue()
    trip.refresh_from_db()
    assert trip.raw_purged_at is None
    assert default_storage.exists(str(trip.raw_file.name))


def test_with_commit_the_purge_deletes_the_files_it_lists(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TRIP_RAW_RETENTION_DAYS = 30
    trip = old_trip(world, days=31)
    raw_path = str(trip.raw_file.name)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_raw_tracks", "--commit", stdout=out)
    assert f"trip {trip.pk} {trip.raw_sha256}" in out.getvalue()
    assert "1 raw files deleted" in out.getvalue()
    trip.refresh_from_db()
    assert trip.raw_purged_at is not None
    assert not default_storage.exists(raw_path)


def test_the_old_dry_run_flag_is_refused_rather_than_ignored(settings: Any) -> None:
    settings.TRIP_RAW_RETENTION_DAYS = 30
    with pytest.raises(CommandError, match="--dry-run"):
        call_command("purge_raw_tracks", "--dry-run", stdout=io.StringIO())
