"""Every change of a trip's figures or outcome is a verification version made through the
audited path (issue #12): processing, review, a declared mode, withdrawal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from core.models import AuditRecord
from subsidies import computation, integrity
from subsidies import services as subsidy_services
from subsidies.models import Statement
from tests.conftest import World
from tests.recorder.test_trip_recorder import record
from tests.subsidies import factories as subsidy_factories
from tests.trips.csvtrace import straight_east
from tests.trips.test_upload import approved_road, upload_and_process
from trips import services
from trips.models import Trip

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 2, 9, 0, tzinfo=dt.UTC)


def held_by_the_recorder(world: World) -> Trip:
    """1,000 m claimed autonomous, the recorder supporting the first 50 s (490 m)."""
    approved_road(world)
    record(
        world,
        (T0 - dt.timedelta(minutes=1), "activation"),
        (T0 + dt.timedelta(seconds=50), "deactivation"),
        (T0 + dt.timedelta(minutes=10), "activation"),
    )
    trip = upload_and_process(world, straight_east(start=T0, metres=1000))
    assert trip.status == Trip.Status.NEEDS_REVIEW
    return trip


def test_accepting_a_held_trip_adds_a_version_crediting_the_supported_metres(
    world: World,
) -> None:
    trip = held_by_the_recorder(world)
    first = trip.current_verification
    assert first is not None

    accepted = services.trip_review(
        actor=world.bureau, trip=trip, accept=True, reason="Recorder checked with the company."
    )

    versions = list(accepted.verifications.order_by("number"))
    assert [(v.number, v.outcome) for v in versions] == [(1, "needs_review"), (2, "accepted")]
    second = versions[1]
    assert accepted.current_verification == second
    assert second.actor == world.bureau
    # The figures verification made (supported metres only, 49 steps × 10 m ≈ 490 m), as
    # they were: the version is a decision, not a new measurement.
    assert (second.eligible_m, second.days, second.segments) == (
        first.eligible_m,
        first.days,
        first.segments,
    )
    assert accepted.eligible_m == pytest.approx(Decimal(490), abs=2)
    assert {d.verification_id for d in accepted.days.all()} == {second.pk}
    record_ = AuditRecord.objects.get(action="accepted", object_id=str(trip.pk))
    assert record_.changes["current_verification"] == [first.pk, second.pk]


def test_rejecting_a_trip_adds_a_version_with_the_rejection(world: World) -> None:
    trip = held_by_the_recorder(world)

    rejected = services.trip_review(
        actor=world.bureau, trip=trip, accept=False, reason="无记录仪支持"
    )

    version = rejected.current_verification
    assert version is not None
    assert (version.number, version.outcome, version.actor) == (2, "rejected", world.bureau)


def test_a_review_takes_the_versions_figures_not_rows_changed_around_the_application(
    world: World,
) -> None:
    trip = held_by_the_recorder(world)
    with connection.cursor() as cursor:  # not frozen yet: the rows are writable
        cursor.execute("UPDATE trips_tripday SET eligible_m = 0 WHERE trip_id = %s", [trip.pk])

    accepted = services.trip_review(actor=world.bureau, trip=trip, accept=True, reason="ok")

    assert accepted.days.get().eligible_m == pytest.approx(Decimal(490), abs=2)


def test_a_reviewed_trip_under_an_issued_statement_passes_the_nightly_check(
    world: World,
) -> None:
    trip = held_by_the_recorder(world)
    services.trip_review(actor=world.bureau, trip=trip, accept=True, reason="ok")
    subsidy_factories.grade(actor=world.bureau, operator=world.company_a, year=2025, grade="A")
    computation.statements_compute(year=2025)
    statement = Statement.objects.get(operator=world.company_a, year=2025)
    subsidy_services.statement_approve(actor=world.finance, statement=statement)
    subsidy_services.statement_issue(actor=world.finance, statement=statement)

    check = integrity.ledger_check()

    assert check.versioned_trips == 1
    assert check.version_findings == []
    assert check.broken_count == 0
