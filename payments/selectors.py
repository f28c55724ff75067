"""Reading notices, objections, batches and clawbacks. The public notice is public by
design (what was issued to whom, and until when one may object); everything else is for
government staff, and company staff see nothing of it here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from core.roles import SETTLE
from subsidies.models import Statement
from subsidies.money import ZERO

from .models import Clawback, Notice, Objection, PaymentBatch, WorkCalendarYear
from .notice import payment_refusal

if TYPE_CHECKING:
    from operators.models import User


@dataclass(frozen=True)
class PublicNoticeRow:
    statement_id: int
    operator_name: str
    credit_code: str
    year: int
    kind: str
    km: Decimal
    amount_yuan: Decimal
    document_number: str
    issued_on: dt.date | None
    starts_on: dt.date
    ends_on: dt.date

    @property
    def is_open(self) -> bool:
        return timezone.localdate() <= self.ends_on


def public_notice(*, year: int) -> list[PublicNoticeRow]:
    """Every issued statement of `year` that went on notice (anyone may read it)."""
    notices = (
        Notice.objects.filter(statement__year=year)
        .select_related("statement", "statement__operator")
        .order_by("statement__operator__name", "statement__issued_at", "statement_id")
    )
    return [
        PublicNoticeRow(
            statement_id=n.statement_id,
            operator_name=n.statement.operator.name,
            credit_code=n.statement.operator.credit_code,
            year=n.statement.year,
            kind=n.statement.get_kind_display(),
            km=n.statement.km,
            amount_yuan=n.statement.amount_yuan,
            document_number=n.statement.document_number,
            issued_on=n.statement.issued_on,
            starts_on=n.starts_on,
            ends_on=n.ends_on,
        )
        for n in notices
    ]


def notice_totals(rows: list[PublicNoticeRow]) -> tuple[Decimal, Decimal]:
    """km and yuan of a notice list, summed exactly."""
    return (
        sum((r.km for r in rows), Decimal(0)),
        sum((r.amount_yuan for r in rows), ZERO),
    )


def public_statement(*, statement_id: int) -> Statement | None:
    """A statement anyone may object to: one on public notice."""
    return (
        Statement.objects.filter(pk=statement_id, notice__isnull=False)
        .select_related("operator")
        .first()
    )


def objection_list(*, user: User) -> QuerySet[Objection]:
    if not user.is_government:
        return Objection.objects.none()
    return Objection.objects.select_related("statement", "statement__operator", "resolved_by")


def batch_list(*, user: User) -> QuerySet[PaymentBatch]:
    if not user.is_government:
        return PaymentBatch.objects.none()
    return PaymentBatch.objects.prefetch_related("payments")


def clawback_list(*, user: User) -> QuerySet[Clawback]:
    if not user.is_government:
        return Clawback.objects.none()
    return Clawback.objects.select_related("statement", "statement__operator", "offset_statement")


def batch_candidates(*, user: User) -> list[Statement]:
    """Issued statements finance may put in a batch now: a positive amount, in no batch,
    their notice over, no objection pending, and the company's bank details confirmed."""
    if not SETTLE.allows(user):
        return []
    issued = (
        Statement.objects.filter(
            status=Statement.Status.ISSUED, amount_yuan__gt=0, payment__isnull=True
        )
        .exclude(operator__bank_account="")
        .select_related("operator")
        .order_by("operator__name", "year", "pk")
    )
    return [s for s in issued if payment_refusal(s) is None]


def paid_statements(*, user: User) -> QuerySet[Statement]:
    """Statements a clawback may be opened on."""
    if not SETTLE.allows(user):
        return Statement.objects.none()
    return (
        Statement.objects.filter(status=Statement.Status.PAID)
        .select_related("operator")
        .order_by("operator__name", "-year", "pk")
    )


def offset_candidates(*, user: User, clawback: Clawback) -> QuerySet[Statement]:
    """The company's issued, unpaid statements whose payment has not gone to the treasury."""
    if not SETTLE.allows(user):
        return Statement.objects.none()
    return (
        Statement.objects.filter(
            operator_id=clawback.statement.operator_id,
            status=Statement.Status.ISSUED,
            amount_yuan__gt=0,
        )
        .exclude(payment__batch__status__in=["issued", "paid"])
        .order_by("year", "pk")
    )


def work_calendar_history() -> QuerySet[WorkCalendarYear]:
    """Every revision of the entered holiday schedules, newest year and revision first
    (public knowledge, like the calendar itself)."""
    return WorkCalendarYear.objects.select_related("entered_by").prefetch_related("days")


def work_calendars() -> QuerySet[WorkCalendarYear]:
    """The revision in effect of each entered year: its newest (payments/workdays.py)."""
    newest = (
        WorkCalendarYear.objects.filter(year=OuterRef("year"))
        .order_by("-revision")
        .values("revision")[:1]
    )
    return work_calendar_history().filter(revision=Subquery(newest))
