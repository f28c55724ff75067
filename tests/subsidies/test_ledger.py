"""Issue, payment and the append-only ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction

from core.errors import ApplicationError
from subsidies import computation, services
from subsidies.models import LedgerEntry, Statement
from tests.conftest import World
from tests.subsidies import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(world: World) -> Statement:
    # 10,000 km × 3.00 = 30,000.00
    factories.trip(vehicle=world.vehicle_a, days={dt.date(2024, 4, 1): "10000000.00"})
    factories.grade(actor=world.bureau, operator=world.company_a, year=2024, grade="A")
    computation.statements_compute(year=2024)
    statement = Statement.objects.get(operator=world.company_a, year=2024)
    return services.statement_approve(actor=world.finance, statement=statement)


def test_issuing_accrues_the_amount_in_the_ledger(world: World, approved: Statement) -> None:
    services.statement_issue(actor=world.finance, statement=approved)
    entry = LedgerEntry.objects.get(statement=approved)
    assert entry.kind == "accrual"
    assert entry.amount_yuan == Decimal("30000.00")
    assert entry.actor == world.finance


def test_payment_is_a_second_entry_and_leaves_nothing_owed(
    world: World, approved: Statement
) -> None:
    services.statement_issue(actor=world.finance, statement=approved)
    services.statement_mark_paid(actor=world.finance, statement=approved)
    entries = {e.kind: e.amount_yuan for e in LedgerEntry.objects.filter(statement=approved)}
    # owed = accrual 30,000.00 − payment 30,000.00 = 0
    assert entries == {"accrual": Decimal("30000.00"), "payment": Decimal("30000.00")}


def test_only_an_approved_statement_can_be_issued(world: World) -> None:
    factories.trip(vehicle=world.vehicle_a, days={dt.date(2024, 4, 1): "1000.00"})
    factories.grade(actor=world.bureau, operator=world.company_a, year=2024, grade="A")
    computation.statements_compute(year=2024)
    draft = Statement.objects.get(operator=world.company_a, year=2024)
    with pytest.raises(ApplicationError):
        services.statement_issue(actor=world.finance, statement=draft)


def test_the_bureau_cannot_issue(world: World, approved: Statement) -> None:
    with pytest.raises(PermissionDenied):
        services.statement_issue(actor=world.bureau, statement=approved)


def test_an_issued_statement_cannot_be_edited(world: World, approved: Statement) -> None:
    issued = services.statement_issue(actor=world.finance, statement=approved)
    issued.amount_yuan = Decimal("1.00")
    with pytest.raises(TypeError):
        issued.save()


def test_recomputing_an_approved_statement_with_new_figures_sends_it_back_to_draft(
    world: World, approved: Statement
) -> None:
    factories.trip(vehicle=world.vehicle_a, days={dt.date(2024, 5, 1): "1000.00"})
    computation.statements_compute(year=2024)
    approved.refresh_from_db()
    assert approved.status == "draft"
    # 10,001 km × 3.00 = 30,003.00
    assert approved.amount_yuan == Decimal("30003.00")
    assert approved.approved_by is None


def test_ledger_entries_refuse_update_and_delete_in_the_model(
    world: World, approved: Statement
) -> None:
    services.statement_issue(actor=world.finance, statement=approved)
    entry = LedgerEntry.objects.get(statement=approved)
    entry.amount_yuan = Decimal("0.00")
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount_yuan=Decimal("0.00"))
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    assert LedgerEntry.objects.get(pk=entry.pk).amount_yuan == approved.amount_yuan


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE subsidies_ledgerentry SET amount_yuan = 0",
        "DELETE FROM subsidies_ledgerentry",
    ],
)
def test_postgresql_refuses_raw_sql_update_and_delete_of_ledger_entries(
    world: World, approved: Statement, sql: str
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    services.statement_issue(actor=world.finance, statement=approved)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        connection.cursor().execute(sql)
    assert LedgerEntry.objects.get(statement=approved).amount_yuan == Decimal("30000.00")
