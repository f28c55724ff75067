"""The figures an approved or issued statement rests on (subsidies migration 0009) and the
trip's verification versions (trips.TripVerification): refused to raw SQL on both vendors;
changed only by a new version through the audited path; and, changed with the triggers
lifted, found broken by the nightly check."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from operators.models import Vehicle
from subsidies import integrity
from tests.conftest import World
from tests.core.tamper import triggers_off
from tests.subsidies.issued_trips import forge_version, issued_statement, verified_trip
from trips import services as trip_services
from trips.models import Trip, TripVerification

pytestmark = pytest.mark.django_db


def raw(sql: str, params: list[Any]) -> None:
    """One statement as a hand-typed SQL session sends it, in a savepoint of its own."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def check_ledger() -> tuple[str, bool]:
    out = StringIO()
    try:
        call_command("check_ledger", stdout=out)
    except CommandError as error:
        return out.getvalue() + str(error), False
    return out.getvalue(), True


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE trips_tripday SET eligible_m = eligible_m * 10 WHERE trip_id = %s",
        "DELETE FROM trips_tripday WHERE trip_id = %s",
        "UPDATE trips_tripsegment SET eligible_m = eligible_m * 10 WHERE trip_id = %s",
        "DELETE FROM trips_tripsegment WHERE trip_id = %s",
        "UPDATE trips_trip SET eligible_m = eligible_m - 1 WHERE id = %s",
        "DELETE FROM trips_trip WHERE id = %s",
    ],
)
def test_raw_sql_cannot_change_the_figures_of_an_issued_statements_trip(
    world: World, sql: str
) -> None:
    _, (trip, _) = issued_statement(world)
    days = list(trip.days.values_list("day", "eligible_m"))

    with pytest.raises(DatabaseError, match="approved or issued statement"):
        raw(sql, [trip.pk])

    assert list(trip.days.values_list("day", "eligible_m")) == days


def test_a_trip_cannot_be_pointed_at_an_older_or_another_trips_version(world: World) -> None:
    _, (trip, other) = issued_statement(world)
    theirs = TripVerification.objects.get(trip=other)

    with pytest.raises(DatabaseError, match="approved or issued statement"):
        raw(
            "UPDATE trips_trip SET current_verification_id = %s WHERE id = %s", [theirs.pk, trip.pk]
        )


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE trips_tripverification SET eligible_m = eligible_m * 10 WHERE trip_id = %s",
        "DELETE FROM trips_tripverification WHERE trip_id = %s",
    ],
)
def test_raw_sql_cannot_change_or_delete_a_verification_version(world: World, sql: str) -> None:
    trip = verified_trip(world)  # in no statement: versions are append-only all the same

    with pytest.raises(DatabaseError, match="append-only"):
        raw(sql, [trip.pk])


def test_the_figures_of_a_trip_in_no_statement_are_not_frozen(world: World) -> None:
    trip = verified_trip(world)
    raw("UPDATE trips_tripday SET eligible_m = 0, autonomous_m = 0 WHERE trip_id = %s", [trip.pk])
    assert {d.eligible_m for d in trip.days.all()} == {0}


def test_the_status_of_a_frozen_trip_may_change_through_its_decisions(world: World) -> None:
    _, (trip, _) = issued_statement(world)
    raw("UPDATE trips_trip SET status = 'processing' WHERE id = %s", [trip.pk])
    assert Trip.objects.get(pk=trip.pk).status == Trip.Status.PROCESSING


def test_each_processing_adds_a_version_the_trip_points_at(world: World) -> None:
    trip = verified_trip(world)
    version = trip.current_verification
    assert version is not None
    assert (version.number, version.eligible_m, version.code_version) == (
        1,
        trip.eligible_m,
        trip.code_version,
    )
    assert [
        [d.day.isoformat(), str(d.autonomous_m), str(d.eligible_m)] for d in trip.days.all()
    ] == (version.days)
    assert {d.verification_id for d in trip.days.all()} == {version.pk}


def test_reverifying_an_issued_trip_adds_a_version_and_shows_a_pending_adjustment(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    statement, (trip, _) = issued_statement(world)
    # The vehicle's permit withdrawn, recorded late: nothing of the trip is eligible now.
    Vehicle.objects.filter(pk=world.vehicle_a.pk).update(status=Vehicle.Status.REJECTED)

    with django_capture_on_commit_callbacks(execute=True):
        trip_services.trip_reverify(actor=world.bureau, trip=trip, reason="许可证撤销")

    trip.refresh_from_db()
    assert [v.number for v in trip.verifications.all()] == [1, 2]
    assert trip.current_verification == trip.verifications.get(number=2)
    assert trip.eligible_m == 0
    check = integrity.ledger_check()
    assert check.broken_count == 0
    assert {f.figure for f in check.pending} == {"eligible_m", "year's amount (yuan)"}
    assert all(f.statement_id == statement.pk for f in check.pending)


def test_a_day_changed_with_the_triggers_off_is_broken_without_the_deep_check(
    world: World,
) -> None:
    _, (trip, _) = issued_statement(world)
    with triggers_off(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE trips_tripday SET eligible_m = eligible_m * 10, "
            "autonomous_m = autonomous_m * 10 WHERE trip_id = %s",
            [trip.pk],
        )

    out, ok = check_ledger()

    assert not ok
    assert f"BROKEN: trip {trip.pk} days: its verification says " in out
    # Broken, and the trips now saying 10 × more also show as a pending adjustment.
    assert "1 broken, 2 pending adjustment" in out


def test_a_version_made_around_the_application_is_broken(world: World) -> None:
    _, (trip, _) = issued_statement(world)
    forge_version(trip)

    out, ok = check_ledger()

    assert not ok
    assert f"BROKEN: trip {trip.pk} current version: its verification says one made through" in out
