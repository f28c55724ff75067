"""An issued statement resting on real trips: uploaded, stored, verified from their raw
files (for the deep check, which verifies them again from the same bytes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection

from routes import services as routes_services
from subsidies import computation, services
from subsidies.models import Statement
from tests.conftest import World
from tests.core.tamper import triggers_off
from tests.subsidies import factories
from tests.trips.csvtrace import straight_east
from trips import services as trip_services
from trips.models import Trip, TripVerification

T0 = dt.datetime(2025, 3, 2, 9, 0, tzinfo=dt.UTC)
ROAD = {"type": "LineString", "coordinates": [[113.54, 37.86], [113.60, 37.86]]}


def approved_road(world: World) -> None:
    road = routes_services.segment_create(
        actor=world.bureau,
        name="测试大道",
        kind="road",
        geometry=ROAD,
        corridor_half_width_m=Decimal(15),
    )
    road = routes_services.segment_submit(actor=world.bureau, segment=road)
    routes_services.segment_approve(
        actor=world.bureau,
        segment=road,
        valid_from=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
        approval_ref="阳交〔2023〕1号",
    )


def verified_trip(world: World, *, hour: int = 0, metres: float = 1000) -> Trip:
    trip, _ = trip_services.trip_upload(
        actor=world.staff_a,
        vin=world.vehicle_a.vin,
        data=straight_east(start=T0 + dt.timedelta(hours=hour), lon0=113.55, metres=metres),
        original_name="trip.csv",
    )
    return trip_services.trip_process(trip_id=trip.pk)


def issued_statement(world: World, trips: int = 2) -> tuple[Statement, list[Trip]]:
    """`trips` trips of 1,000 m each on an approved road, graded A, issued for 2025 (a year
    over: statements are settled only after their year)."""
    approved_road(world)
    made = [verified_trip(world, hour=hour) for hour in range(trips)]
    assert all(t.status == Trip.Status.ACCEPTED and t.eligible_m > 0 for t in made)
    factories.grade(actor=world.bureau, operator=world.company_a, year=2025, grade="A")
    computation.statements_compute(year=2025)
    statement = Statement.objects.get(operator=world.company_a, year=2025)
    services.statement_approve(actor=world.finance, statement=statement)
    return services.statement_issue(actor=world.finance, statement=statement), made


def forge_version(trip: Trip, factor: int = 10) -> None:
    """A consistent rewrite with the triggers off, as the table owner could make it: a
    version 2 with `factor` × the metres, the trip, its days and segments pointing at it,
    and no audit record of the change."""
    current = trip.current_verification
    assert current is not None
    with triggers_off(), connection.cursor() as cursor:
        fake = TripVerification.objects.create(
            trip=trip,
            number=current.number + 1,
            created_at=current.created_at,
            outcome="accepted",
            total_m=current.total_m * factor,
            autonomous_m=current.autonomous_m * factor,
            eligible_m=current.eligible_m * factor,
            days=[
                [d, str(Decimal(a) * factor), str(Decimal(e) * factor)] for d, a, e in current.days
            ],
            segments=[[s, str(Decimal(m) * factor)] for s, m in current.segments],
        )
        cursor.execute(
            "UPDATE trips_trip SET current_verification_id = %s, total_m = total_m * %s, "
            "autonomous_m = autonomous_m * %s, eligible_m = eligible_m * %s WHERE id = %s",
            [fake.pk, factor, factor, factor, trip.pk],
        )
        for table in ("trips_tripday", "trips_tripsegment"):
            cursor.execute(
                f"UPDATE {table} SET eligible_m = eligible_m * %s, verification_id = %s "  # noqa: S608
                "WHERE trip_id = %s",
                [factor, fake.pk, trip.pk],
            )
        cursor.execute(
            "UPDATE trips_tripday SET autonomous_m = autonomous_m * %s WHERE trip_id = %s",
            [factor, trip.pk],
        )
