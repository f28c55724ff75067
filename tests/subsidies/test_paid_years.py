"""One definition of a paid year (selectors.paid_years), and its three users agree on it:
the computation (the 3-year limit), the issue guard and the company's year-to-date panel.

A paid year is a year whose issued statements add up to more than 0. Each history below
issues 1,000 km a year (1,000,000 m); at A that is 1,000 × 3.00 = 3,000.00, at D 0.00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from core.errors import ApplicationError
from core.roles import Role
from operators.models import Operator, User, Vehicle
from subsidies import computation, selectors, services
from subsidies.models import Statement
from tests import factories as base
from tests.conftest import World
from tests.subsidies import factories

pytestmark = pytest.mark.django_db

KM_1000 = "1000000.00"


def company(world: World) -> tuple[Vehicle, User]:
    operator = base.operator(
        actor=world.bureau, settled_on=dt.date(2022, 1, 1), admitted_on=dt.date(2022, 1, 1)
    )
    return base.vehicle(actor=world.bureau, operator=operator), base.user(Role.OPERATOR, operator)


def statement_of(operator: Operator, year: int) -> Statement:
    return Statement.objects.exclude(status="void").get(operator=operator, year=year)


def computed(world: World, vehicle: Vehicle, year: int, grade: str) -> Statement:
    factories.trip(vehicle=vehicle, days={dt.date(year, 5, 1): KM_1000})
    factories.grade(actor=world.bureau, operator=vehicle.operator, year=year, grade=grade)
    computation.statements_compute(year=year)
    return statement_of(vehicle.operator, year)


def issued(world: World, vehicle: Vehicle, year: int, grade: str) -> Statement:
    statement = computed(world, vehicle, year, grade)
    services.statement_approve(actor=world.finance, statement=statement)
    return services.statement_issue(actor=world.finance, statement=statement)


def panel_paid_years(staff: User, year: int) -> int:
    ytd = selectors.year_to_date(user=staff, year=year)
    assert ytd is not None
    return ytd.paid_years


def test_a_year_issued_at_zero_is_not_paid_for_the_selector_the_page_and_the_computation(
    world: World,
) -> None:
    vehicle, staff = company(world)
    issued(world, vehicle, 2022, "D")  # 0.00: not a paid year
    issued(world, vehicle, 2023, "A")  # 3,000.00
    issued(world, vehicle, 2024, "A")  # 3,000.00

    assert selectors.paid_years(operator_id=vehicle.operator_id) == 2
    assert panel_paid_years(staff, 2025) == 2
    # Two other paid years < 3: 2025 earns 1,000 km × 3.00 = 3,000.00, and may be issued.
    statement = computed(world, vehicle, 2025, "A")
    assert statement.amount_yuan == Decimal("3000.00")
    assert statement.reason == "computed"
    services.statement_approve(actor=world.finance, statement=statement)
    services.statement_issue(actor=world.finance, statement=statement)
    assert selectors.paid_years(operator_id=vehicle.operator_id) == 3
    assert panel_paid_years(staff, 2025) == 3


def test_the_computation_the_issue_guard_and_the_page_agree_on_a_third_paid_year(
    world: World,
) -> None:
    vehicle, staff = company(world)
    issued(world, vehicle, 2022, "A")
    issued(world, vehicle, 2023, "A")
    # 2025 is computed and approved while only two other years are paid ...
    approved = services.statement_approve(
        actor=world.finance, statement=computed(world, vehicle, 2025, "A")
    )
    assert approved.amount_yuan == Decimal("3000.00")
    # ... then 2024 is issued: the third paid year.
    issued(world, vehicle, 2024, "A")

    assert selectors.paid_years(operator_id=vehicle.operator_id, other_than=2025) == 3
    assert panel_paid_years(staff, 2025) == 3
    # The issue guard counts the same three years and refuses a fourth.
    with (
        translation.override("en"),
        pytest.raises(ApplicationError, match="maximum number of paid years"),
    ):
        services.statement_issue(actor=world.finance, statement=approved)
    # The computation counts them too: 2025 goes back to draft at 0.00.
    computation.statements_compute(year=2025)
    recomputed = statement_of(vehicle.operator, 2025)
    assert recomputed.status == Statement.Status.DRAFT
    assert recomputed.amount_yuan == Decimal("0.00")
    assert recomputed.reason == "paid_years_used"


def test_a_year_brought_back_to_zero_by_an_adjustment_is_no_longer_paid(world: World) -> None:
    vehicle, _ = company(world)
    statement = issued(world, vehicle, 2023, "A")
    # The year's only trip is rejected after issue: an adjustment of -3,000.00.
    trip = statement.lines.get().trip
    factories.reject(trip)
    computation.statements_compute(year=2023)
    adjustment = Statement.objects.get(operator=vehicle.operator, year=2023, kind="adjustment")
    assert adjustment.amount_yuan == Decimal("-3000.00")
    assert selectors.paid_years(operator_id=vehicle.operator_id) == 1
    services.statement_approve(actor=world.finance, statement=adjustment)
    services.statement_issue(actor=world.finance, statement=adjustment)
    # 3,000.00 - 3,000.00 = 0.00 over the year's issued statements.
    assert selectors.paid_years(operator_id=vehicle.operator_id) == 0
