"""A kilometre is paid once, on the finance side: the computation refuses overlapping
accepted trips, the ledger check reports them, and the sweep reports copies before issue."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from core.errors import ApplicationError
from operators.models import User, Vehicle
from subsidies import computation
from subsidies.integrity import copies_report, ledger_check
from tests.conftest import World
from tests.subsidies import factories
from tests.trips.replaygen import DAY_NS, drive_legs, nudged, retimed, winding_road
from tests.trips.tracegen import START, generate, to_csv
from trips import services
from trips.models import Trip

pytestmark = pytest.mark.django_db

DAY = dt.date(2024, 5, 6)


@pytest.fixture
def sqlite_only() -> None:
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL's exclusion constraint refuses the overlap itself")


def overlapping_pair(world: World) -> tuple[Trip, Trip]:
    """Two accepted trips of one vehicle over the same half hour (only raw SQL gets here)."""
    a = factories.trip(vehicle=world.vehicle_a, days={DAY: "1000"})
    b = factories.trip(vehicle=world.vehicle_a, days={DAY: "1000"})
    Trip.objects.filter(pk=b.pk).update(started_at=a.started_at, ended_at=a.ended_at)
    return a, b


def test_the_computation_refuses_a_year_with_overlapping_accepted_trips(
    sqlite_only: None, world: World
) -> None:
    a, b = overlapping_pair(world)
    with pytest.raises(ApplicationError, match=f"#{a.pk} / #{b.pk}") as refused:
        computation.statements_compute(year=2024, actor=world.finance)
    assert refused.value.field == "year"


def test_the_computation_counts_back_to_back_trips_of_one_vehicle(world: World) -> None:
    factories.trip(vehicle=world.vehicle_a, days={DAY: "1000"})
    factories.trip(vehicle=world.vehicle_a, days={DAY: "500"})
    summary = computation.statements_compute(year=2024, actor=world.finance)
    assert len(summary.created) == 1


def test_the_ledger_check_reports_overlapping_accepted_trips(
    sqlite_only: None, world: World
) -> None:
    a, b = overlapping_pair(world)
    assert ledger_check().overlaps == [(a.pk, b.pk)]
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 overlap"):
        call_command("check_ledger", stdout=out)
    assert f"accepted trips {a.pk} and {b.pk} of one vehicle overlap" in out.getvalue()


def process(world: World, staff_vehicle: tuple[User, Vehicle], data: bytes) -> Trip:
    staff, vehicle = staff_vehicle
    trip, _ = services.trip_upload(actor=staff, vin=vehicle.vin, data=data)
    return services.trip_process(trip_id=trip.pk)


def test_the_sweep_reports_a_copy_accepted_before_detection_existed(world: World) -> None:
    road = winding_road(np.random.default_rng(51))
    drive = generate(road, drive_legs(np.random.default_rng(52), road.length), start=START)
    first = process(world, (world.staff_a, world.vehicle_a), to_csv(drive))
    copy = nudged(retimed(drive, DAY_NS / 1e9), np.random.default_rng(53), 0.5)
    second = process(world, (world.staff_b, world.vehicle_b), to_csv(copy))
    assert second.status == Trip.Status.NEEDS_REVIEW
    # As if accepted by an older verifier: the sweep finds what verification would now.
    Trip.objects.filter(pk=second.pk).update(status=Trip.Status.ACCEPTED)
    report = copies_report()
    assert report.trips == 2
    (finding,) = report.findings
    assert {finding.trip_id, finding.other_id} == {first.pk, second.pk}
    assert finding.code == "replayed_trace"
    assert finding.figures["median_distance_m"] < 1.0
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 conflict"):
        call_command("sweep_copies", stdout=out)
    assert "replayed_trace" in out.getvalue()


def test_the_sweep_of_honest_trips_is_clean(world: World) -> None:
    road = winding_road(np.random.default_rng(51))
    for seed, (staff, vehicle) in enumerate(
        [(world.staff_a, world.vehicle_a), (world.staff_b, world.vehicle_b)]
    ):
        legs = drive_legs(np.random.default_rng(60 + seed), road.length)
        drive = generate(road, legs, start=START + dt.timedelta(days=seed), seed=seed)
        process(world, (staff, vehicle), to_csv(drive))
    out = io.StringIO()
    call_command("sweep_copies", "--year", "2026", stdout=out)
    assert "2 accepted trips checked: 0 conflict(s), 0 overlap(s)" in out.getvalue()


def test_the_sweep_leaves_out_trips_of_another_year(world: World) -> None:
    factories.trip(vehicle=world.vehicle_a, days={DAY: "1000"})
    assert copies_report(year=2025).trips == 0
    assert copies_report(year=2024).trips == 1
