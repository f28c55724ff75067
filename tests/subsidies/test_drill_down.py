"""A statement's drill-down (trips → metres per local day): read live while it is a draft,
frozen when finance approves it, and unchanged from then on whatever happens to its trips."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from core.errors import ApplicationError
from subsidies import computation, selectors, services
from subsidies.models import Statement, StatementLine
from tests import factories as base
from tests.conftest import World
from tests.subsidies import factories

pytestmark = pytest.mark.django_db

D = dt.date


def drill_down(statement: Statement) -> list[tuple[int, dt.date, Decimal]]:
    statement.refresh_from_db()
    return [
        (line.trip_id, line.day, line.eligible_m)
        for line in selectors.statement_lines(statement=statement)
    ]


def statement_a(world: World, year: int = 2024) -> Statement:
    return Statement.objects.exclude(status="void").get(operator=world.company_a, year=year)


def graded_year(world: World) -> None:
    factories.grade(actor=world.bureau, operator=world.company_a, year=2024, grade="A")


def test_a_draft_stores_no_lines_and_shows_its_trip_days_live(world: World) -> None:
    first = factories.trip(vehicle=world.vehicle_a, days={D(2024, 3, 1): "1000.00"})
    computation.statements_compute(year=2024)
    draft = statement_a(world)
    assert not StatementLine.objects.exists()

    later = factories.trip(
        vehicle=world.vehicle_a, days={D(2024, 3, 1): "200.00", D(2024, 3, 2): "300.00"}
    )

    assert drill_down(draft) == [
        (first.pk, D(2024, 3, 1), Decimal("1000.00")),
        (later.pk, D(2024, 3, 1), Decimal("200.00")),
        (later.pk, D(2024, 3, 2), Decimal("300.00")),
    ]


def test_a_draft_shows_only_its_own_companys_accepted_trips_inside_its_counted_days(
    world: World,
) -> None:
    kept = factories.trip(vehicle=world.vehicle_a, days={D(2024, 3, 1): "1000.00"})
    factories.trip(vehicle=world.vehicle_b, days={D(2024, 3, 1): "1000.00"})
    factories.trip(vehicle=world.vehicle_a, days={D(2024, 3, 2): "1000.00"}, status="rejected")
    factories.trip(vehicle=world.vehicle_a, days={D(2025, 1, 1): "1000.00"})
    factories.trip(vehicle=world.vehicle_a, days={D(2024, 3, 3): ("1000.00", "0.00")})
    computation.statements_compute(year=2024)
    assert drill_down(statement_a(world)) == [(kept.pk, D(2024, 3, 1), Decimal("1000.00"))]


def test_a_trip_rejected_before_approval_leaves_the_drill_down(world: World) -> None:
    kept = factories.trip(vehicle=world.vehicle_a, days={D(2024, 3, 1): "1000.00"})
    dropped = factories.trip(vehicle=world.vehicle_a, days={D(2024, 3, 1): "1000.00"})
    computation.statements_compute(year=2024)
    factories.reject(dropped)
    computation.statements_compute(year=2024)
    statement = statement_a(world)
    assert [trip for trip, _, _ in drill_down(statement)] == [kept.pk]
    assert statement.trip_count == 1
    assert statement.km == Decimal("1.00000")


def test_approval_freezes_the_lines(world: World) -> None:
    # a trip across midnight is one trip with two lines
    trip = factories.trip(
        vehicle=world.vehicle_a, days={D(2024, 3, 1): "1000.00", D(2024, 3, 2): "500.25"}
    )
    graded_year(world)
    computation.statements_compute(year=2024)
    statement = services.statement_approve(actor=world.finance, statement=statement_a(world))
    assert list(
        StatementLine.objects.filter(statement=statement).values_list(
            "trip_id", "day", "eligible_m"
        )
    ) == [(trip.pk, D(2024, 3, 1), Decimal("1000.00")), (trip.pk, D(2024, 3, 2), Decimal("500.25"))]
    assert statement.trip_count == 1
    assert statement.eligible_m == Decimal("1500.25")


def test_a_trip_reverified_after_approval_does_not_change_the_approved_lines(
    world: World,
) -> None:
    trip = factories.trip(vehicle=world.vehicle_a, days={D(2024, 3, 1): "1000.00"})
    graded_year(world)
    computation.statements_compute(year=2024)
    approved = services.statement_approve(actor=world.finance, statement=statement_a(world))

    factories.reverify(trip, {D(2024, 3, 1): "400.00"})

    assert drill_down(approved) == [(trip.pk, D(2024, 3, 1), Decimal("1000.00"))]


def test_an_issued_statement_keeps_its_lines_and_the_adjustment_shows_the_trips_now(
    world: World,
) -> None:
    trip = factories.trip(vehicle=world.vehicle_a, days={D(2024, 3, 1): "1000.00"})
    graded_year(world)
    computation.statements_compute(year=2024)
    regular = services.statement_approve(actor=world.finance, statement=statement_a(world))
    services.statement_issue(actor=world.finance, statement=regular)

    factories.reverify(trip, {D(2024, 3, 1): "400.00"})
    computation.statements_compute(year=2024)

    assert drill_down(regular) == [(trip.pk, D(2024, 3, 1), Decimal("1000.00"))]
    adjustment = Statement.objects.get(operator=world.company_a, year=2024, kind="adjustment")
    assert drill_down(adjustment) == [(trip.pk, D(2024, 3, 1), Decimal("400.00"))]
    # 0.4 km × 3.00 = 1.20; 1.20 − 3.00 issued = −1.80
    assert adjustment.amount_yuan == Decimal("-1.80")


def test_approval_is_refused_when_trips_changed_since_the_computation(world: World) -> None:
    trip = factories.trip(vehicle=world.vehicle_a, days={D(2024, 3, 1): "1000.00"})
    graded_year(world)
    computation.statements_compute(year=2024)
    factories.reverify(trip, {D(2024, 3, 1): "999.99"})

    with translation.override("en"), pytest.raises(ApplicationError, match="recompute"):
        services.statement_approve(actor=world.finance, statement=statement_a(world))

    assert statement_a(world).status == "draft"
    assert not StatementLine.objects.exists()


def test_recomputing_an_unchanged_approved_statement_keeps_it_and_its_lines(
    world: World,
) -> None:
    factories.trip(vehicle=world.vehicle_a, days={D(2024, 3, 1): "1000.00"})
    graded_year(world)
    computation.statements_compute(year=2024)
    services.statement_approve(actor=world.finance, statement=statement_a(world))
    lines = list(StatementLine.objects.values_list("pk", flat=True))

    summary = computation.statements_compute(year=2024)

    assert summary.unchanged == [statement_a(world).pk]
    assert statement_a(world).status == "approved"
    assert list(StatementLine.objects.values_list("pk", flat=True)) == lines


def test_an_approved_statement_whose_trips_changed_goes_back_to_draft_without_lines(
    world: World,
) -> None:
    # Same metres on the same day, but another trip: every figure but the trips is equal.
    swapped = factories.trip(vehicle=world.vehicle_a, days={D(2024, 3, 1): "1000.00"})
    graded_year(world)
    computation.statements_compute(year=2024)
    services.statement_approve(actor=world.finance, statement=statement_a(world))
    factories.reject(swapped)
    replacement = factories.trip(vehicle=world.vehicle_a, days={D(2024, 3, 1): "1000.00"})

    computation.statements_compute(year=2024)

    statement = statement_a(world)
    assert statement.status == "draft"
    assert statement.approved_by is None
    assert not StatementLine.objects.exists()
    assert drill_down(statement) == [(replacement.pk, D(2024, 3, 1), Decimal("1000.00"))]


def test_an_approved_adjustment_no_longer_needed_is_void_without_lines(world: World) -> None:
    trip = factories.trip(vehicle=world.vehicle_a, days={D(2024, 3, 1): "1000.00"})
    graded_year(world)
    computation.statements_compute(year=2024)
    regular = services.statement_approve(actor=world.finance, statement=statement_a(world))
    services.statement_issue(actor=world.finance, statement=regular)
    factories.reverify(trip, {D(2024, 3, 1): "400.00"})
    computation.statements_compute(year=2024)
    adjustment = Statement.objects.get(operator=world.company_a, year=2024, kind="adjustment")
    services.statement_approve(actor=world.finance, statement=adjustment)

    factories.reverify(trip, {D(2024, 3, 1): "1000.00"})
    computation.statements_compute(year=2024)

    adjustment.refresh_from_db()
    assert adjustment.status == "void"
    assert not StatementLine.objects.filter(statement=adjustment).exists()
    assert StatementLine.objects.filter(statement=regular).count() == 1


def test_summaries_by_month_and_vehicle_follow_the_drill_down(world: World) -> None:
    trip = factories.trip(vehicle=world.vehicle_a, days={D(2024, 3, 31): "1000.00"})
    graded_year(world)
    computation.statements_compute(year=2024)
    approved = services.statement_approve(actor=world.finance, statement=statement_a(world))
    factories.reverify(trip, {D(2024, 3, 31): "10.00"})
    factories.trip(vehicle=world.vehicle_a, days={D(2024, 4, 1): "5.00"})

    by_month = selectors.statement_by_month(statement=approved)
    by_vehicle = selectors.statement_by_vehicle(statement=approved)

    assert [(r.key, r.trips, r.eligible_m) for r in by_month] == [
        ("2024-03", 1, Decimal("1000.00"))
    ]
    assert [(r.key, r.eligible_m) for r in by_vehicle] == [
        (world.vehicle_a.plate, Decimal("1000.00"))
    ]


def test_trips_are_counted_inside_each_companys_own_counted_days(world: World) -> None:
    late = base.operator(actor=world.bureau, settled_on=D(2024, 1, 1), admitted_on=D(2024, 6, 1))
    vehicle = base.vehicle(actor=world.bureau, operator=late)
    factories.trip(vehicle=vehicle, days={D(2024, 3, 1): "5000.00"})
    across = factories.trip(
        vehicle=vehicle, days={D(2024, 5, 31): "300.00", D(2024, 6, 1): "200.00"}
    )
    factories.trip(vehicle=world.vehicle_a, days={D(2024, 3, 1): "5000.00", D(2024, 3, 2): "1.00"})

    computation.statements_compute(year=2024)

    # Company A counts from 1 January: one trip over two days, 5,001 m.
    assert (statement_a(world).trip_count, statement_a(world).eligible_m) == (1, Decimal("5001.00"))
    # The late company counts from 1 June: only the trip across 31 May, its 200 m of 1 June.
    statement = Statement.objects.get(operator=late, year=2024)
    assert (statement.trip_count, statement.eligible_m) == (1, Decimal("200.00"))
    assert drill_down(statement) == [(across.pk, D(2024, 6, 1), Decimal("200.00"))]
