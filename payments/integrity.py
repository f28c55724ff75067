"""The nightly check of what happens after the statement, re-derived from the rows: each
paid batch against its payments and the subsidies ledger, each clawback's entries against
its status, and every offset against the payment that withholds it. Run by the
`payments.check_payments` task (beat, after the ledger check) and `manage.py check_payments`;
subsidies' ledger check cannot call it (payments sits above subsidies)."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Model

from core.services import audit_record
from subsidies.models import LedgerEntry, Statement
from subsidies.money import ZERO

from .models import Clawback, ClawbackEntry, Payment, PaymentBatch

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PaymentFinding:
    obj: Model
    figure: str
    expected: str
    found: str

    def __str__(self) -> str:
        return (
            f"BROKEN: {self.obj._meta.model_name} {self.obj.pk} {self.figure}: "
            f"expected {self.expected}, found {self.found}"
        )


def _batch_findings(batch: PaymentBatch, payments: list[Payment]) -> list[PaymentFinding]:
    found: list[PaymentFinding] = []
    paid = {
        e.statement_id: e.amount_yuan
        for e in LedgerEntry.objects.filter(
            statement_id__in=[p.statement_id for p in payments], kind=LedgerEntry.Kind.PAYMENT
        )
    }
    for payment in payments:
        statement = payment.statement
        checks = [
            ("amount_yuan", statement.amount_yuan, payment.amount_yuan),
            ("offset_yuan", _offsets_of(statement), payment.offset_yuan),
        ]
        if batch.status == PaymentBatch.Status.PAID:
            checks += [
                ("statement status", Statement.Status.PAID, statement.status),
                ("ledger payment", payment.amount_yuan, paid.get(statement.pk)),
                ("bank_reference", "given", "given" if payment.bank_reference else "-"),
            ]
        found += [
            PaymentFinding(payment, figure, str(want), str(have))
            for figure, want, have in checks
            if want != have
        ]
    return found


def _offsets_of(statement: Statement) -> Decimal:
    return sum((c.amount_yuan for c in Clawback.objects.filter(offset_statement=statement)), ZERO)


def _expected_entries(clawback: Clawback) -> dict[str, Decimal]:
    want = {ClawbackEntry.Kind.CLAWBACK.value: -clawback.amount_yuan}
    if clawback.penalty_yuan > 0:
        want[ClawbackEntry.Kind.PENALTY] = -clawback.penalty_yuan
    if clawback.penalty_status == Clawback.PenaltyStatus.RECOVERED:
        want[ClawbackEntry.Kind.PENALTY_RECOVERY] = clawback.penalty_yuan
    if clawback.status == Clawback.Status.RECOVERED:
        want[ClawbackEntry.Kind.RECOVERY] = clawback.amount_yuan
    if clawback.status == Clawback.Status.OFFSET:
        want[ClawbackEntry.Kind.OFFSET] = clawback.amount_yuan
    return want


def _text(entries: dict[str, Decimal]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(entries.items())) or "-"


def _clawback_findings(clawback: Clawback, entries: dict[str, Decimal]) -> list[PaymentFinding]:
    found: list[PaymentFinding] = []
    want = _expected_entries(clawback)
    if want != entries:
        found.append(PaymentFinding(clawback, "entries", _text(want), _text(entries)))
    if clawback.statement.status != Statement.Status.PAID:
        found.append(PaymentFinding(clawback, "statement", "paid", clawback.statement.status))
    if clawback.payment_entry.statement_id != clawback.statement_id:
        found.append(
            PaymentFinding(
                clawback,
                "payment",
                str(clawback.statement_id),
                str(clawback.payment_entry.statement_id),
            )
        )
    return found


def payments_check() -> list[PaymentFinding]:
    """Re-derive batches and clawbacks; log and audit what does not agree."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        findings: list[PaymentFinding] = []
        by_batch: dict[int, list[Payment]] = defaultdict(list)
        for payment in Payment.objects.select_related("statement").order_by("pk"):
            by_batch[payment.batch_id].append(payment)
        for batch in PaymentBatch.objects.order_by("pk"):
            findings += _batch_findings(batch, by_batch.get(batch.pk, []))
        entries: dict[int, dict[str, Decimal]] = defaultdict(dict)
        for clawback_id, kind, amount in ClawbackEntry.objects.values_list(
            "clawback_id", "kind", "amount_yuan"
        ):
            entries[clawback_id][kind] = amount
        for clawback in Clawback.objects.select_related("statement", "payment_entry"):
            findings += _clawback_findings(clawback, entries.get(clawback.pk, {}))
        for finding in findings:
            logger.error("payments check: %s", finding)
            audit_record(
                actor=None,
                obj=finding.obj,
                action="payments_mismatch",
                changes={finding.figure: [finding.expected, finding.found]},
            )
    return findings
