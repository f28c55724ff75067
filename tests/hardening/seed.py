"""A realistic world for the hardening tests: every kind of object, for two companies.

Built through the services, as the app builds its rows, so trips have real raw files and
processed traces, statements come from the annual computation, and the audit trail is real.
Company A and company B own the same things; segments belong to the bureau (companies see
only approved ones). Used by the fuzz run and by the access matrix, through the
module-scoped `seeded` and `tokens` fixtures below (registered by conftest.py).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import transaction
from django.test import override_settings
from pytest_django import DjangoDbBlocker

from core.models import AuditRecord
from operators.models import Operator, User, Vehicle
from operators.services import token_create
from routes import services as routes_services
from routes.models import RoadSegment
from subsidies import services as subsidies_services
from subsidies.computation import statements_compute
from subsidies.models import Assessment, Statement
from tests import factories
from tests.conftest import World, make_world
from tests.trips.csvtrace import straight_east
from trips import services as trips_services
from trips.models import Trip

# A road due east along 37.86°N from 113.54°E to 113.60°E (≈ 5.3 km), 15 m corridor.
ROAD = {"type": "LineString", "coordinates": [[113.54, 37.86], [113.60, 37.86]]}
ISSUED_YEAR, DRAFT_YEAR = 2025, 2026

# Transactional tests elsewhere in the suite flush every table, the seeded policy with them.
_seed_policy = importlib.import_module("subsidies.migrations.0002_seed_policy").seed


@dataclass(frozen=True)
class CompanyObjects:
    """What one company owns (or what is about it)."""

    operator: Operator
    staff: User
    vehicle: Vehicle
    proposed_vehicle: Vehicle
    trip: Trip  # accepted, with a raw file and a processed trace
    flagged_trip: Trip  # needs_review: overlaps the accepted one
    assessment: Assessment
    issued_statement: Statement
    draft_statement: Statement


@dataclass(frozen=True)
class Seeded:
    world: World
    a: CompanyObjects
    b: CompanyObjects
    approved_segment: RoadSegment
    draft_segment: RoadSegment
    submitted_segment: RoadSegment
    suspended_segment: RoadSegment
    registered_operator: Operator  # settled in Yangquan, not yet admitted to the pilot
    audit_record: AuditRecord

    def company(self, name: str) -> CompanyObjects:
        return self.a if name == "a" else self.b


def _segment(actor: User, name: str, lat: float) -> RoadSegment:
    geometry = {"type": "LineString", "coordinates": [[113.54, lat], [113.56, lat]]}
    return routes_services.segment_create(actor=actor, name=name, kind="road", geometry=geometry)


def _trips(world: World, staff: User, vehicle: Vehicle) -> tuple[Trip, Trip, Trip]:
    """An accepted trip in each year, and one that overlaps the first (needs review)."""
    trips = []
    for start, lon0 in (
        (dt.datetime(ISSUED_YEAR, 6, 2, 9, 0, tzinfo=dt.UTC), 113.55),
        (dt.datetime(DRAFT_YEAR, 3, 2, 9, 0, tzinfo=dt.UTC), 113.55),
        (dt.datetime(ISSUED_YEAR, 6, 2, 9, 1, tzinfo=dt.UTC), 113.56),
    ):
        trip, _ = trips_services.trip_upload(
            actor=staff,
            vin=vehicle.vin,
            data=straight_east(start=start, lon0=lon0, metres=1000),
            original_name=f"{vehicle.plate}-{start:%Y%m%d%H%M}.csv",
        )
        # pytest-django's `db` drops on-commit callbacks: process in-process.
        trips.append(trips_services.trip_process(trip_id=trip.pk))
    return trips[0], trips[1], trips[2]


def seed(world: World) -> Seeded:
    _seed_policy(apps, None)
    bureau, finance = world.bureau, world.finance
    approved = routes_services.segment_create(
        actor=bureau,
        name="测试大道",
        kind="road",
        geometry=ROAD,
        corridor_half_width_m=Decimal(15),
    )
    approved = routes_services.segment_submit(actor=bureau, segment=approved)
    approved = routes_services.segment_approve(
        actor=bureau,
        segment=approved,
        valid_from=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
        approval_ref="阳交〔2023〕1号",
    )
    draft = _segment(bureau, "草稿路", 37.87)
    submitted = routes_services.segment_submit(
        actor=bureau, segment=_segment(bureau, "待批路", 37.88)
    )
    suspended = routes_services.segment_submit(
        actor=bureau, segment=_segment(bureau, "暂停路", 37.89)
    )
    suspended = routes_services.segment_approve(
        actor=bureau,
        segment=suspended,
        valid_from=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
        approval_ref="阳交〔2023〕2号",
    )
    suspended = routes_services.segment_suspend(actor=bureau, segment=suspended, reason="施工")

    companies = {}
    for name, operator, staff, vehicle in (
        ("a", world.company_a, world.staff_a, world.vehicle_a),
        ("b", world.company_b, world.staff_b, world.vehicle_b),
    ):
        trip, _, flagged = _trips(world, staff, vehicle)
        for year in (ISSUED_YEAR, DRAFT_YEAR):
            subsidies_services.assessment_set(actor=bureau, operator=operator, year=year, grade="A")
        companies[name] = (operator, staff, vehicle, trip, flagged)
    for year in (ISSUED_YEAR, DRAFT_YEAR):
        statements_compute(year=year)

    def objects(name: str) -> CompanyObjects:
        operator, staff, vehicle, trip, flagged = companies[name]
        issued = Statement.objects.get(operator=operator, year=ISSUED_YEAR)
        issued = subsidies_services.statement_approve(actor=finance, statement=issued)
        issued = subsidies_services.statement_issue(actor=finance, statement=issued)
        return CompanyObjects(
            operator=operator,
            staff=staff,
            vehicle=vehicle,
            proposed_vehicle=factories.vehicle(actor=staff, operator=operator, permit=None),
            trip=trip,
            flagged_trip=flagged,
            assessment=Assessment.objects.get(operator=operator, year=ISSUED_YEAR),
            issued_statement=issued,
            draft_statement=Statement.objects.get(operator=operator, year=DRAFT_YEAR),
        )

    a, b = objects("a"), objects("b")
    assert a.trip.status == Trip.Status.ACCEPTED, a.trip.reasons
    assert a.flagged_trip.status == Trip.Status.NEEDS_REVIEW, a.flagged_trip.reasons
    assert a.issued_statement.amount_yuan > 0
    return Seeded(
        world=world,
        a=a,
        b=b,
        approved_segment=approved,
        draft_segment=draft,
        submitted_segment=submitted,
        suspended_segment=suspended,
        registered_operator=factories.operator(actor=bureau, name="待准入公司", admitted_on=None),
        audit_record=AuditRecord.objects.order_by("pk").first(),  # type: ignore[arg-type]
    )


# Everyone who acts in the hardening tests: the world's users by attribute name.
ACTORS = ("bureau", "finance", "admin", "staff_a", "staff_b")


@pytest.fixture(scope="module")
def seeded(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[Seeded]:
    """The world, built once for a module in a transaction rolled back at its end.

    Each test still runs in pytest-django's own nested transaction (mark the module
    `django_db`); a test that makes several calls isolates each in a savepoint of its own.
    """
    fast_hashing = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    with django_db_blocker.unblock(), fast_hashing, transaction.atomic():
        yield seed(make_world())
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def tokens(seeded: Seeded) -> dict[str, str]:
    """A real API token for each actor."""
    return {actor: token_create(user=getattr(seeded.world, actor)) for actor in ACTORS}
