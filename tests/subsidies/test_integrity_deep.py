"""The deep check (`check_ledger --deep`, subsidies/deep_check.py): every trip of an issued
statement verified again from its raw bytes with its own parameters; any difference from
the stored result, or a raw file that changed, is broken."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from subsidies import tasks
from subsidies.deep_check import deep_check
from tests.conftest import World
from tests.core.tamper import triggers_off
from tests.subsidies.issued_trips import issued_statement
from trips.models import Trip

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_files(settings: Any, tmp_path: Path) -> None:
    # These tests change and delete raw files behind the application's back. Raw files are
    # stored once per content, so a parallel worker's trip of the same bytes would share
    # the file: each test keeps its own.
    settings.MEDIA_ROOT = tmp_path / "media"


def raw(sql: str, params: list[Any]) -> None:
    """Behind the application's back, with the triggers that would refuse it lifted
    (subsidies migration 0009; tested in test_integrity_frozen.py)."""
    with triggers_off(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def check_deep() -> tuple[str, bool]:
    out = StringIO()
    try:
        call_command("check_ledger", "--deep", stdout=out)
    except CommandError:
        return out.getvalue(), False
    return out.getvalue(), True


def test_untouched_trips_verify_again_to_the_same_figures(world: World) -> None:
    issued_statement(world)

    out, ok = check_deep()

    assert ok, out
    assert "deep: 2 trips verified again from their raw files" in out
    assert out.strip().endswith("1 issued statements checked: 0 broken, 0 pending adjustment")


def test_a_day_multiplied_by_hand_is_broken_with_the_trip_and_the_figure(world: World) -> None:
    _, (trip, _) = issued_statement(world)
    day = trip.days.get()
    raw("UPDATE trips_tripday SET eligible_m = eligible_m * 10 WHERE id = %s", [day.pk])

    check = deep_check()

    assert [(f.trip_id, f.figure) for f in check.findings] == [
        (trip.pk, f"day {day.day} autonomous_m/eligible_m")
    ]
    # Stored 10 × what the raw file gives.
    assert check.findings[0].found == str((day.autonomous_m, day.eligible_m * 10))


def test_a_changed_trip_total_fails_the_command(world: World) -> None:
    _, (trip, _) = issued_statement(world)
    raw("UPDATE trips_trip SET eligible_m = eligible_m - 1 WHERE id = %s", [trip.pk])

    out, ok = check_deep()

    assert not ok
    assert f"BROKEN: trip {trip.pk} eligible_m: from the raw file {trip.eligible_m}, stored " in out


def test_a_raw_file_changed_on_disk_is_found_by_its_hash(world: World) -> None:
    _, (trip, _) = issued_statement(world)
    path = str(trip.raw_file.name)
    data = default_storage.open(path).read()
    default_storage.delete(path)
    default_storage.save(path, ContentFile(data.replace(b"auto", b"AUTO", 1)))

    findings = deep_check().findings

    assert [(f.trip_id, f.figure, f.expected) for f in findings] == [
        (trip.pk, "raw file SHA-256", trip.raw_sha256)
    ]


def test_a_missing_raw_file_is_broken(world: World) -> None:
    _, (trip, _) = issued_statement(world)
    default_storage.delete(str(trip.raw_file.name))

    findings = deep_check().findings

    assert [(f.trip_id, f.figure) for f in findings] == [(trip.pk, "raw file")]


def test_a_trip_whose_raw_file_was_purged_is_counted_and_skipped(world: World) -> None:
    _, (trip, _) = issued_statement(world)
    Trip.objects.filter(pk=trip.pk).update(raw_purged_at=timezone.now())

    check = deep_check()

    assert (check.trips, check.purged, check.findings) == (1, 1, [])


def test_a_trip_in_no_issued_statement_is_not_verified_again(world: World) -> None:
    issued_statement(world, trips=1)

    assert deep_check(year=2024).trips == 0
    assert deep_check(year=2025).trips == 1


def test_the_weekly_task_runs_the_deep_check_and_counts_what_is_broken(world: World) -> None:
    _, (trip, _) = issued_statement(world)
    assert tasks.deep_check.delay().get() == {
        "statements": 1,
        "trips": 2,
        "broken": 0,
        "pending": 0,
    }
    raw("UPDATE trips_trip SET total_m = total_m + 1 WHERE id = %s", [trip.pk])

    # The total differs from the raw file (deep) and from the trip's version (nightly).
    assert tasks.deep_check.delay(year=2025).get()["broken"] == 2
