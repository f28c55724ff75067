"""Clawbacks (追回): negative entries linked to the payment, a penalty as its own receivable,
recovered by bank or offset against the next statement as an explicit line; the nightly
checks re-derive all of it."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from openpyxl import load_workbook

from core.errors import ApplicationError
from payments import exports, services
from payments.integrity import payments_check
from payments.models import CLAWBACK_LEGAL_BASIS, Clawback, ClawbackEntry, Payment
from subsidies import computation
from subsidies import services as subsidies_services
from subsidies.integrity import ledger_check
from subsidies.models import LedgerEntry, Statement
from tests.conftest import World
from tests.payments.conftest import NATIONAL_DAY_ISSUE, Office, approved, issue, with_bank
from tests.subsidies import factories as sf

pytestmark = [pytest.mark.django_db, pytest.mark.after_statement]


@pytest.fixture
def paid(world: World, office: Office) -> Statement:
    """2024: 30,000.00 issued 2025-09-30, paid in a batch (reference ICBC-1)."""
    with_bank(world.company_a)
    statement = issue(
        office, approved(world, office), number="阳财建〔2025〕21号", on=NATIONAL_DAY_ISSUE
    )
    batch = services.batch_create(actor=office.issuer, statements=[statement])
    batch = services.batch_issue(actor=office.issuer, batch=batch)
    services.batch_mark_paid(
        actor=office.approver, batch=batch, references={statement.pk: "ICBC-1"}
    )
    statement.refresh_from_db()
    return statement


def _entries(clawback: Clawback) -> dict[str, Decimal]:
    return dict(ClawbackEntry.objects.filter(clawback=clawback).values_list("kind", "amount_yuan"))


def test_a_clawback_with_a_penalty_is_two_negative_entries_on_the_payment(
    office: Office, paid: Statement
) -> None:
    # A copied trip found later: 2,000 km × 3.00 = 6,000.00 back, and a penalty of 3,000.00
    # (《财政违法行为处罚处分条例》第十四条), a receivable of its own.
    clawback = services.clawback_open(
        actor=office.approver,
        statement=paid,
        amount_yuan=Decimal("6000.00"),
        penalty_yuan=Decimal("3000.00"),
        reason="2024-04-01 行程系复制上传。",
    )
    assert clawback.legal_basis == CLAWBACK_LEGAL_BASIS
    assert clawback.payment_entry == LedgerEntry.objects.get(statement=paid, kind="payment")
    assert _entries(clawback) == {"clawback": Decimal("-6000.00"), "penalty": Decimal("-3000.00")}
    assert (clawback.status, clawback.penalty_status) == ("due", "due")
    assert payments_check() == []


def test_recovering_by_bank_brings_the_clawback_and_the_penalty_back_to_zero(
    office: Office, paid: Statement
) -> None:
    clawback = services.clawback_open(
        actor=office.approver,
        statement=paid,
        amount_yuan=Decimal("6000.00"),
        penalty_yuan=Decimal("3000.00"),
        reason="复制上传。",
    )
    clawback = services.clawback_recover(
        actor=office.approver, clawback=clawback, bank_reference="BACK-1"
    )
    clawback = services.clawback_recover_penalty(
        actor=office.approver, clawback=clawback, bank_reference="FINE-1"
    )
    entries = _entries(clawback)
    # −6,000.00 − 3,000.00 + 6,000.00 + 3,000.00 = 0
    assert sum(entries.values()) == 0
    assert (clawback.status, clawback.penalty_status) == ("recovered", "recovered")
    assert payments_check() == []


def test_more_than_was_paid_cannot_be_clawed_back(office: Office, paid: Statement) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.clawback_open(
            actor=office.approver, statement=paid, amount_yuan=Decimal("30000.01"), reason="x"
        )
    assert refused.value.field == "amount_yuan"


def test_an_offset_is_an_explicit_line_on_the_next_payment_and_the_checks_stay_clean(
    world: World, office: Office, paid: Statement
) -> None:
    clawback = services.clawback_open(
        actor=office.approver,
        statement=paid,
        amount_yuan=Decimal("6000.00"),
        penalty_yuan=Decimal("3000.00"),
        reason="复制上传。",
    )
    # The next statement: 2025, 20,000 km × 3.00 = 60,000.00, issued 2025-09-30 as well
    # (a regular statement needs its year over: 2025 is, the clock says 2026).
    sf.trip(vehicle=world.vehicle_a, days={dt.date(2025, 3, 1): "20000000.00"})
    sf.grade(actor=world.bureau, operator=world.company_a, year=2025, grade="A")
    computation.statements_compute(year=2025)
    later = subsidies_services.statement_approve(
        actor=office.approver, statement=Statement.objects.get(operator=world.company_a, year=2025)
    )
    later = issue(office, later, number="阳财建〔2026〕22号", on=dt.date(2026, 1, 5))
    clawback = services.clawback_offset(actor=office.approver, clawback=clawback, against=later)
    # Only the clawback is offset: the penalty stays a receivable of its own, never netted.
    assert (clawback.status, clawback.penalty_status) == ("offset", "due")
    batch = services.batch_create(actor=office.issuer, statements=[later])
    payment = Payment.objects.get(statement=later)
    # 60,000.00 − 6,000.00 withheld = 54,000.00 paid
    assert (payment.amount_yuan, payment.offset_yuan, payment.paid_yuan) == (
        Decimal("60000.00"),
        Decimal("6000.00"),
        Decimal("54000.00"),
    )
    row = list(
        load_workbook(io.BytesIO(exports.treasury_xlsx(batch))).active.iter_rows(values_only=True)
    )[1]
    assert row[4:7] == (60000.0, 6000.0, 54000.0)
    assert "抵扣追回款 6000.00 元" in row[8]
    batch = services.batch_issue(actor=office.issuer, batch=batch)
    services.batch_mark_paid(actor=office.approver, batch=batch, references={later.pk: "ICBC-2"})
    services.clawback_recover_penalty(
        actor=office.approver, clawback=clawback, bank_reference="FINE-2"
    )
    entries = _entries(clawback)
    assert entries == {
        "clawback": Decimal("-6000.00"),
        "penalty": Decimal("-3000.00"),
        "offset": Decimal("6000.00"),
        "penalty_recovery": Decimal("3000.00"),
    }
    # The nightly checks, after all of it: nothing broken.
    assert payments_check() == []
    assert ledger_check().broken == []


def test_the_nightly_check_finds_a_payment_whose_offset_was_changed_behind_its_back(
    office: Office, paid: Statement
) -> None:
    payment = Payment.objects.get(statement=paid)
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL refuses the change itself (test_the_database_freezes_…)")
    Payment.objects.filter(pk=payment.pk).update(offset_yuan=Decimal("1.00"))
    findings = payments_check()
    assert [(f.figure, f.expected, f.found) for f in findings] == [("offset_yuan", "0.00", "1.00")]


def test_the_database_freezes_a_paid_payment_and_clawback_entries(
    office: Office, paid: Statement
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the triggers exist on PostgreSQL only")
    clawback = services.clawback_open(
        actor=office.approver, statement=paid, amount_yuan=Decimal("1.00"), reason="x"
    )
    for sql, arg in (
        ("UPDATE payments_payment SET offset_yuan = 1 WHERE statement_id = %s", paid.pk),
        ("DELETE FROM payments_payment WHERE statement_id = %s", paid.pk),
        ("UPDATE payments_clawbackentry SET amount_yuan = 0 WHERE clawback_id = %s", clawback.pk),
        ("DELETE FROM payments_clawbackentry WHERE clawback_id = %s", clawback.pk),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            connection.cursor().execute(sql, [arg])
