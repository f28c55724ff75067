"""The recorder against the trace: a claim the recorder does not support is held, and if
accepted is credited only where supported (docs/verification.md)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from recorder import services as recorder_services
from tests.conftest import World
from tests.trips.csvtrace import straight_east
from tests.trips.test_upload import approved_road, upload_and_process
from trips import services as trip_services
from trips.models import Trip

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def record(world: World, *events: tuple[dt.datetime, str]) -> None:
    rows = "".join(f"{at.isoformat()},{world.vehicle_a.vin},{kind},,,,\n" for at, kind in events)
    recorder_services.ads_events_import(
        actor=world.staff_a, data=f"time,vin,event,initiator,lat,lon,note\n{rows}".encode()
    )


def reasons(trip: Trip) -> dict[str, float]:
    return {r["code"]: r["metres"] for r in trip.reasons}


def test_a_trip_the_recorder_does_not_cover_keeps_its_own_mode_flags(world: World) -> None:
    approved_road(world)
    trip = upload_and_process(world, straight_east(start=T0, metres=1000))
    assert trip.status == Trip.Status.ACCEPTED
    assert abs(trip.eligible_m - 1000) < 2


def test_a_trip_the_recorder_supports_throughout_is_accepted(world: World) -> None:
    approved_road(world)
    record(
        world,
        (T0 - dt.timedelta(minutes=1), "activation"),
        (T0 + dt.timedelta(minutes=5), "deactivation"),
    )
    trip = upload_and_process(world, straight_east(start=T0, metres=1000))
    assert trip.status == Trip.Status.ACCEPTED
    assert "mode_unsupported_by_recorder" not in reasons(trip)
    # Every step autonomous, the last one (ending on the trip's last fix) included.
    assert "manual" not in reasons(trip)
    assert trip.autonomous_m == trip.total_m


def test_an_unsupported_claim_is_held_then_credited_only_where_supported(world: World) -> None:
    approved_road(world)
    # The ADS is in control from a minute before the trip to 50 s into it; an activation
    # later covers the trip's end (the recorder covers the whole trip).
    record(
        world,
        (T0 - dt.timedelta(minutes=1), "activation"),
        (T0 + dt.timedelta(seconds=50), "deactivation"),
        (T0 + dt.timedelta(minutes=10), "activation"),
    )
    # 1,000 m due east at 10 m/s, a fix a second, all claimed autonomous (t = 0 … 100 s).
    trip = upload_and_process(world, straight_east(start=T0, metres=1000))
    # Supported: fixes at 0 … 49 s (50 s is the exit, outside [start, exit)), so the 49
    # steps between them: 49 × 10 m = 490 m. Unsupported: 1,000 − 490 = 510 m > 100 m.
    assert trip.status == Trip.Status.NEEDS_REVIEW
    assert reasons(trip)["mode_unsupported_by_recorder"] == pytest.approx(510, abs=2)
    assert trip.autonomous_m == pytest.approx(Decimal(490), abs=2)
    accepted = trip_services.trip_review(
        actor=world.bureau, trip=trip, accept=True, reason="Recorder checked with the company."
    )
    assert accepted.status == Trip.Status.ACCEPTED
    assert accepted.eligible_m == pytest.approx(Decimal(490), abs=2)
    assert accepted.days.get().eligible_m == accepted.eligible_m


def test_a_small_unsupported_remainder_does_not_hold_the_trip(world: World) -> None:
    approved_road(world)
    # Exit at 199.5 s of a 200 s trip of 2,000 m: only the last step (199 → 200 s, 10 m) is
    # unsupported, under both 1 % of 2,000 m (20 m) and 100 m.
    record(
        world,
        (T0 - dt.timedelta(minutes=1), "activation"),
        (T0 + dt.timedelta(seconds=199.5), "deactivation"),
        (T0 + dt.timedelta(minutes=10), "activation"),
    )
    trip = upload_and_process(world, straight_east(start=T0, metres=2000))
    assert trip.status == Trip.Status.ACCEPTED, trip.reasons
    assert trip.autonomous_m == pytest.approx(Decimal(1990), abs=2)
