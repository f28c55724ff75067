"""Invariants of the computation over random histories of trips, grades and issues."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from subsidies import computation, services
from subsidies.models import Statement
from subsidies.money import round_yuan
from tests import factories as base
from tests.conftest import World
from tests.subsidies import factories
from trips.models import Trip

pytestmark = pytest.mark.django_db

CAP = Decimal("300000.00")
RATES = {"A": Decimal("3.00"), "B": Decimal("2.00"), "C": Decimal("1.00"), "D": Decimal("0.00")}
trip_metres = st.lists(
    st.decimals(min_value=0, max_value=Decimal("60000000.00"), places=2), min_size=1, max_size=4
)
step = st.tuples(
    st.sampled_from(["reject", "add", "grade"]),
    st.decimals(min_value=0, max_value=Decimal("60000000.00"), places=2),
    st.sampled_from(["A", "B", "C", "D"]),
    st.booleans(),  # issue the open statement afterwards?
)
property_settings = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def fresh_total(operator_id: int, grade: str) -> Decimal:
    """What a computation from scratch gives: accepted metres in 2024 × rate, capped."""
    metres = sum(
        (
            t.eligible_m
            for t in Trip.objects.filter(operator_id=operator_id, status=Trip.Status.ACCEPTED)
        ),
        Decimal(0),
    )
    return min(round_yuan(metres / 1000 * RATES[grade]), CAP)


def issued_total(operator_id: int) -> Decimal:
    return sum(
        (
            s.amount_yuan
            for s in Statement.objects.filter(
                operator_id=operator_id, year=2024, status__in=["issued", "paid"]
            )
        ),
        Decimal(0),
    )


def open_statement(operator_id: int) -> Statement | None:
    return Statement.objects.filter(
        operator_id=operator_id, year=2024, status__in=["draft", "approved"]
    ).first()


@property_settings
@given(
    initial=trip_metres, grade=st.sampled_from(["A", "B", "C"]), steps=st.lists(step, max_size=4)
)
def test_issued_amounts_and_the_open_adjustment_add_up_to_a_fresh_computation(
    world: World, initial: list[Decimal], grade: str, steps: list[tuple[str, Decimal, str, bool]]
) -> None:
    with transaction.atomic():
        vehicle = base.vehicle(actor=world.bureau, operator=world.company_a)
        operator = vehicle.operator
        trips = [
            factories.trip(vehicle=vehicle, days={dt.date(2024, 3, i + 1): m})
            for i, m in enumerate(initial)
        ]
        factories.grade(actor=world.bureau, operator=operator, year=2024, grade=grade)
        for number, (action, metres, new_grade, issue) in enumerate(steps):
            computation.statements_compute(year=2024)
            current = open_statement(operator.pk)
            if issue and current is not None and current.reason != "no_grade":
                services.statement_approve(actor=world.finance, statement=current)
                services.statement_issue(actor=world.finance, statement=current)
            if action == "reject" and trips:
                factories.reject(trips.pop(0))
            elif action == "add":
                trips.append(
                    factories.trip(vehicle=vehicle, days={dt.date(2024, 6, number + 1): metres})
                )
            elif action == "grade":
                grade = new_grade
                factories.grade(actor=world.bureau, operator=operator, year=2024, grade=grade)
        computation.statements_compute(year=2024)

        current = open_statement(operator.pk)
        pending = current.amount_yuan if current is not None else Decimal(0)
        expected = fresh_total(operator.pk, grade)
        assert issued_total(operator.pk) + pending == expected
        assert Decimal(0) <= expected <= CAP
        if current is not None:
            assert current.year_total_yuan == expected
        transaction.set_rollback(True)


@property_settings
@given(initial=trip_metres, grade=st.sampled_from(["A", "B", "C", "D"]))
def test_computing_again_changes_nothing(world: World, initial: list[Decimal], grade: str) -> None:
    with transaction.atomic():
        for i, m in enumerate(initial):
            factories.trip(vehicle=world.vehicle_a, days={dt.date(2024, 5, i + 1): m})
        factories.grade(actor=world.bureau, operator=world.company_a, year=2024, grade=grade)
        computation.statements_compute(year=2024)
        before = list(Statement.objects.order_by("pk").values())

        again = computation.statements_compute(year=2024)

        assert again.created == again.updated == again.voided == []
        assert list(Statement.objects.order_by("pk").values()) == before
        transaction.set_rollback(True)
