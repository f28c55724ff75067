"""What must never happen to trips, refused by the database itself (raw SQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from tests import factories
from tests.conftest import World
from tests.trips.csvtrace import straight_east
from trips import services
from trips.models import Trip

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def process(world: World, data: bytes, vin: str | None = None) -> Trip:
    trip, _ = services.trip_upload(actor=world.staff_a, vin=vin or world.vehicle_a.vin, data=data)
    return services.trip_process(trip_id=trip.pk)


def set_status(trip: Trip, status: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE trips_trip SET status = %s WHERE id = %s", [status, trip.pk])


def test_two_accepted_trips_never_share_their_raw_content(world: World) -> None:
    # A partial unique index, on SQLite and PostgreSQL alike.
    data = straight_east(start=T0, metres=600)
    first = process(world, data)
    other_vehicle = factories.vehicle(actor=world.bureau, operator=world.company_a)
    second = process(world, data, vin=other_vehicle.vin)
    assert (first.status, second.status) == (Trip.Status.ACCEPTED, Trip.Status.NEEDS_REVIEW)
    with pytest.raises(IntegrityError):
        set_status(second, "accepted")


def test_a_held_trip_may_share_the_content_of_an_accepted_one(world: World) -> None:
    data = straight_east(start=T0, metres=600)
    process(world, data)
    other_vehicle = factories.vehicle(actor=world.bureau, operator=world.company_a)
    second = process(world, data, vin=other_vehicle.vin)
    set_status(second, "rejected")  # no error: only accepted trips are unique


@pytest.fixture
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL only (SQLite: the service)")


def test_postgresql_refuses_two_overlapping_accepted_trips_of_one_vehicle(
    postgres_only: None, world: World
) -> None:
    process(world, straight_east(start=T0, metres=600))
    later = process(
        world, straight_east(start=T0 + dt.timedelta(seconds=30), lon0=113.56, metres=600)
    )
    assert later.status == Trip.Status.NEEDS_REVIEW
    with pytest.raises(IntegrityError, match="trip_accepted_never_overlap"):
        set_status(later, "accepted")


def test_postgresql_allows_back_to_back_accepted_trips_of_one_vehicle(
    postgres_only: None, world: World
) -> None:
    # [started, ended) ranges: a trip may start at the instant the previous one ended.
    first = process(world, straight_east(start=T0, metres=600))
    second = process(world, straight_east(start=T0 + dt.timedelta(hours=1), metres=600))
    assert first.ended_at is not None
    ended = first.ended_at
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE trips_trip SET started_at = %s, ended_at = %s WHERE id = %s",
            [ended, ended + dt.timedelta(minutes=1), second.pk],
        )
    assert Trip.objects.filter(status="accepted").count() == 2


def test_postgresql_allows_overlapping_accepted_trips_of_two_vehicles(
    postgres_only: None, world: World
) -> None:
    process(world, straight_east(start=T0, metres=600))
    other = process(
        world,
        straight_east(start=T0 + dt.timedelta(seconds=30), lon0=113.56, metres=600),
        vin=factories.vehicle(actor=world.bureau, operator=world.company_a).vin,
    )
    assert other.status == Trip.Status.ACCEPTED
