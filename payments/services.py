"""Every state change after the statement: objections and their decision, payment batches
(made, sent to the treasury, paid with a bank reference per payment) and clawbacks (追回).

Statements change status only through subsidies' services (statement_mark_paid), which
run the notice's guard (payments/notice.py) whatever the path to them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.roles import SETTLE
from core.services import audit_record, model_create, model_update, require, transition
from core.versions import check_version
from subsidies import services as subsidies_services
from subsidies.models import LedgerEntry, Statement
from subsidies.money import ZERO

from .models import (
    Clawback,
    ClawbackEntry,
    Objection,
    Payment,
    PaymentBatch,
    WorkCalendarDay,
    WorkCalendarYear,
)
from .notice import payment_refusal
from .workdays import SATURDAY, DayRange, package_years

if TYPE_CHECKING:
    from operators.models import User


# --- objections ----------------------------------------------------------------------------


@transaction.atomic
def objection_submit(*, statement: Statement, name: str, contact: str, text: str) -> Objection:
    """Anyone's objection to an issued statement (no account: the actor is nobody)."""
    if statement.status not in Statement.ISSUED_STATUSES:
        raise ApplicationError(_("Only an issued statement can be objected to."))
    return model_create(
        instance=Objection(
            statement=statement,
            name=name.strip(),
            contact=contact.strip(),
            text=text.strip(),
            submitted_at=timezone.now(),
        ),
        actor=None,
    )


@transaction.atomic
def objection_resolve(
    *, actor: User, objection: Objection, outcome: str, reason: str, seen_version: int | None = None
) -> Objection:
    """Uphold or dismiss, with the reason. Upheld: the statement waits for an adjustment
    (and, if already paid, finance opens a clawback)."""
    require(actor, SETTLE)
    if outcome not in (Objection.Status.UPHELD, Objection.Status.DISMISSED):
        raise ApplicationError(_("Uphold or dismiss."), field="outcome")
    if not reason.strip():
        raise ApplicationError(_("Say why."), field="reason")
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    check_version(objection, seen_version)
    return transition(
        instance=objection,
        to=outcome,
        actor=actor,
        reason=reason,
        data={"resolution": reason.strip(), "resolved_by": actor, "resolved_at": timezone.now()},
    )


# --- payment batches -----------------------------------------------------------------------


def _payable(statement: Statement) -> None:
    label = _("Statement #%(id)s") % {"id": statement.pk}
    if statement.status != Statement.Status.ISSUED:
        raise ApplicationError(
            _("%(statement)s is not issued and unpaid.") % {"statement": label},
            field="statements",
        )
    if statement.amount_yuan <= 0:
        raise ApplicationError(
            _("%(statement)s pays nothing (a negative amount is recovered by a clawback).")
            % {"statement": label},
            field="statements",
        )
    refusal = payment_refusal(statement)
    if refusal is not None:
        raise ApplicationError(f"{label}: {refusal}", field="statements")
    operator = statement.operator
    if not operator.bank_name or not operator.bank_account:
        raise ApplicationError(
            _("%(company)s has no confirmed bank details.") % {"company": operator.name},
            field="statements",
        )
    if Payment.objects.filter(statement=statement).exists():
        raise ApplicationError(
            _("%(statement)s is in another batch already.") % {"statement": label},
            field="statements",
        )


def _offsets(statement: Statement) -> Decimal:
    total = Clawback.objects.filter(offset_statement=statement).aggregate(t=Sum("amount_yuan"))
    return Decimal(total["t"] or ZERO)


@transaction.atomic
def batch_create(
    *, actor: User, statements: Sequence[Statement], purpose: str = ""
) -> PaymentBatch:
    """Group issued statements whose notice has closed (and have no objection pending)."""
    require(actor, SETTLE)
    if not statements:
        raise ApplicationError(_("Choose at least one statement."), field="statements")
    batch = model_create(
        instance=PaymentBatch(
            purpose=purpose.strip() or _("Autonomous-driving pilot subsidy"),
            created_by=actor,
            created_at=timezone.now(),
        ),
        actor=actor,
    )
    for chosen in statements:
        statement = (
            Statement.objects.select_for_update().select_related("operator").get(pk=chosen.pk)
        )
        _payable(statement)
        model_create(
            instance=Payment(
                batch=batch,
                statement=statement,
                payee=statement.operator.name,
                credit_code=statement.operator.credit_code,
                bank_name=statement.operator.bank_name,
                bank_account=statement.operator.bank_account,
                amount_yuan=statement.amount_yuan,
                offset_yuan=_offsets(statement),
            ),
            actor=actor,
        )
    return batch


@transaction.atomic
def batch_issue(
    *, actor: User, batch: PaymentBatch, reason: str = "", seen_version: int | None = None
) -> PaymentBatch:
    """Send the batch to the treasury (its payment file is then final)."""
    require(actor, SETTLE)
    batch = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
    check_version(batch, seen_version)
    return transition(
        instance=batch,
        to=PaymentBatch.Status.ISSUED,
        actor=actor,
        reason=reason,
        data={"issued_by": actor, "issued_at": timezone.now()},
    )


@transaction.atomic
def batch_mark_paid(
    *,
    actor: User,
    batch: PaymentBatch,
    references: Mapping[int, str],
    reason: str = "",
    seen_version: int | None = None,
) -> PaymentBatch:
    """Record the bank reference of every payment (keyed by statement id) and the
    statements' payments in the ledger. Four eyes: not by whoever sent the batch."""
    require(actor, SETTLE)
    batch = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
    check_version(batch, seen_version)
    if batch.status != PaymentBatch.Status.ISSUED:
        raise ApplicationError(_("Only a batch sent to the treasury can be paid."), field="status")
    if batch.issued_by_id == actor.pk:
        if settings.FOUR_EYES:
            raise ApplicationError(
                _("You sent this batch to the treasury: another finance officer marks it paid."),
                field="status",
            )
        audit_record(
            actor=actor,
            obj=batch,
            action="four_eyes_waived",
            changes={"step": [None, "pay"]},
            reason=_("FOUR_EYES is off: the same person acted twice."),
        )
    payments = list(batch.payments.select_related("statement").order_by("pk"))
    missing = [p.statement_id for p in payments if not references.get(p.statement_id, "").strip()]
    unknown = set(references) - {p.statement_id for p in payments}
    if missing or unknown:
        raise ApplicationError(
            _("Give one bank reference for each statement of the batch: %(ids)s.")
            % {"ids": ", ".join(str(i) for i in sorted(missing or unknown))},
            field="references",
        )
    for payment in payments:
        model_update(
            instance=payment,
            data={"bank_reference": references[payment.statement_id].strip()},
            actor=actor,
            reason=reason,
        )
        subsidies_services.statement_mark_paid(
            actor=actor,
            statement=payment.statement,
            reason=_("Batch #%(batch)s, bank reference %(ref)s")
            % {"batch": batch.pk, "ref": payment.bank_reference},
        )
        _link_offsets(payment, actor)
    return transition(
        instance=batch,
        to=PaymentBatch.Status.PAID,
        actor=actor,
        reason=reason,
        data={"paid_by": actor, "paid_at": timezone.now()},
    )


def _link_offsets(payment: Payment, actor: User) -> None:
    """Offsets withheld from this payment now hang on its ledger entry."""
    if not payment.offset_yuan:
        return
    audit_record(
        actor=actor,
        obj=payment,
        action="offset_withheld",
        changes={"offset_yuan": [None, payment.offset_yuan]},
    )


# --- clawbacks -----------------------------------------------------------------------------


def _entry(
    *,
    clawback: Clawback,
    kind: str,
    amount: Decimal,
    actor: User,
    statement: Statement,
    payment_entry: LedgerEntry | None,
    reference: str = "",
) -> ClawbackEntry:
    return model_create(
        instance=ClawbackEntry(
            clawback=clawback,
            kind=kind,
            amount_yuan=amount,
            statement=statement,
            payment_entry=payment_entry,
            reference=reference,
            at=timezone.now(),
            actor=actor,
        ),
        actor=actor,
    )


def clawed_back(statement: Statement) -> Decimal:
    total = Clawback.objects.filter(statement=statement).aggregate(t=Sum("amount_yuan"))["t"]
    return Decimal(total or ZERO)


@transaction.atomic
def clawback_open(
    *,
    actor: User,
    statement: Statement,
    amount_yuan: Decimal,
    reason: str,
    penalty_yuan: Decimal = ZERO,
) -> Clawback:
    """Open a clawback of money paid on `statement`: a negative entry linked to its payment,
    and the penalty, if any, as a separate negative entry (a receivable of its own)."""
    require(actor, SETTLE)
    statement = Statement.objects.select_for_update().get(pk=statement.pk)
    if statement.status != Statement.Status.PAID:
        raise ApplicationError(_("Only a paid statement can be clawed back."), field="statement")
    if amount_yuan <= 0:
        raise ApplicationError(_("The amount to recover must be positive."), field="amount_yuan")
    if amount_yuan > statement.amount_yuan - clawed_back(statement):
        raise ApplicationError(
            _("More than was paid on the statement and not yet clawed back."),
            field="amount_yuan",
        )
    if not reason.strip():
        raise ApplicationError(_("Say why."), field="reason")
    paid = LedgerEntry.objects.get(statement=statement, kind=LedgerEntry.Kind.PAYMENT)
    clawback = model_create(
        instance=Clawback(
            statement=statement,
            payment_entry=paid,
            amount_yuan=amount_yuan,
            penalty_yuan=penalty_yuan,
            penalty_status=(
                Clawback.PenaltyStatus.DUE if penalty_yuan > 0 else Clawback.PenaltyStatus.NONE
            ),
            reason=reason.strip(),
            opened_by=actor,
            opened_at=timezone.now(),
        ),
        actor=actor,
        reason=reason,
    )
    _entry(
        clawback=clawback,
        kind=ClawbackEntry.Kind.CLAWBACK,
        amount=-amount_yuan,
        actor=actor,
        statement=statement,
        payment_entry=paid,
    )
    if penalty_yuan > 0:
        _entry(
            clawback=clawback,
            kind=ClawbackEntry.Kind.PENALTY,
            amount=-penalty_yuan,
            actor=actor,
            statement=statement,
            payment_entry=paid,
        )
    return clawback


@transaction.atomic
def clawback_recover(
    *, actor: User, clawback: Clawback, bank_reference: str, seen_version: int | None = None
) -> Clawback:
    """The company paid the amount back (the penalty is recovered on its own)."""
    require(actor, SETTLE)
    clawback = Clawback.objects.select_for_update().get(pk=clawback.pk)
    check_version(clawback, seen_version)
    if not bank_reference.strip():
        raise ApplicationError(_("Give the bank reference."), field="bank_reference")
    clawback = transition(
        instance=clawback,
        to=Clawback.Status.RECOVERED,
        actor=actor,
        data={"bank_reference": bank_reference.strip()},
    )
    _entry(
        clawback=clawback,
        kind=ClawbackEntry.Kind.RECOVERY,
        amount=clawback.amount_yuan,
        actor=actor,
        statement=clawback.statement,
        payment_entry=clawback.payment_entry,
        reference=clawback.bank_reference,
    )
    return clawback


@transaction.atomic
def clawback_offset(
    *, actor: User, clawback: Clawback, against: Statement, seen_version: int | None = None
) -> Clawback:
    """Withhold the amount from the company's next statement: an explicit line on that
    statement's payment, never a silent netting. The penalty cannot be offset."""
    require(actor, SETTLE)
    clawback = Clawback.objects.select_for_update().get(pk=clawback.pk)
    check_version(clawback, seen_version)
    against = Statement.objects.select_for_update().get(pk=against.pk)
    if against.operator_id != clawback.statement.operator_id:
        raise ApplicationError(_("Offset only against the same company."), field="statement")
    if against.status != Statement.Status.ISSUED:
        raise ApplicationError(
            _("Offset only against an issued statement not yet paid."), field="statement"
        )
    payment = Payment.objects.filter(statement=against).select_related("batch").first()
    if payment is not None and payment.batch.status != PaymentBatch.Status.DRAFT:
        raise ApplicationError(
            _("That statement's batch has gone to the treasury."), field="statement"
        )
    if _offsets(against) + clawback.amount_yuan > against.amount_yuan:
        raise ApplicationError(
            _("The statement's amount does not cover the offset."), field="statement"
        )
    clawback = transition(
        instance=clawback,
        to=Clawback.Status.OFFSET,
        actor=actor,
        data={"offset_statement": against},
    )
    if payment is not None:
        model_update(instance=payment, data={"offset_yuan": _offsets(against)}, actor=actor)
    _entry(
        clawback=clawback,
        kind=ClawbackEntry.Kind.OFFSET,
        amount=clawback.amount_yuan,
        actor=actor,
        statement=against,
        payment_entry=None,
    )
    return clawback


@transaction.atomic
def clawback_recover_penalty(
    *, actor: User, clawback: Clawback, bank_reference: str, seen_version: int | None = None
) -> Clawback:
    require(actor, SETTLE)
    clawback = Clawback.objects.select_for_update().get(pk=clawback.pk)
    check_version(clawback, seen_version)
    if clawback.penalty_status != Clawback.PenaltyStatus.DUE:
        raise ApplicationError(_("No penalty is due."), field="penalty_status")
    if not bank_reference.strip():
        raise ApplicationError(_("Give the bank reference."), field="bank_reference")
    clawback = model_update(
        instance=clawback,
        data={
            "penalty_status": Clawback.PenaltyStatus.RECOVERED,
            "penalty_bank_reference": bank_reference.strip(),
        },
        actor=actor,
        action="penalty_recovered",
    )
    _entry(
        clawback=clawback,
        kind=ClawbackEntry.Kind.PENALTY_RECOVERY,
        amount=clawback.penalty_yuan,
        actor=actor,
        statement=clawback.statement,
        payment_entry=clawback.payment_entry,
        reference=bank_reference.strip(),
    )
    return clawback


# --- the working-day calendar --------------------------------------------------------------


def _schedule_errors(year: int, ranges: Sequence[DayRange]) -> str | None:
    """What is wrong with a year's ranges, in words, or None."""
    if not any(r.kind == WorkCalendarDay.Kind.HOLIDAY for r in ranges):
        return _("An official schedule has holidays: enter them.")
    seen: dict[dt.date, str] = {}
    for r in ranges:
        label = f"{r.start}–{r.end} {r.name}"
        if r.start.year != year or r.end.year != year:
            return _("%(range)s is not in %(year)s.") % {"range": label, "year": year}
        if r.end < r.start:
            return _("%(range)s ends before it starts.") % {"range": label}
        day = r.start
        while day <= r.end:
            if day in seen:
                return _("%(day)s is in two ranges (%(first)s and %(second)s).") % {
                    "day": day,
                    "first": seen[day],
                    "second": r.name,
                }
            if r.kind == WorkCalendarDay.Kind.WORKDAY and day.weekday() < SATURDAY:
                return _(
                    "%(day)s is a weekday already: a make-up working day (workday) falls on a "
                    "Saturday or a Sunday."
                ) % {"day": day}
            seen[day] = r.name
            day += dt.timedelta(days=1)
    return None


def _schedule_create(
    *,
    actor: User,
    year: int,
    source: str,
    ranges: Sequence[DayRange],
    revision: int = 1,
    reason: str = "",
) -> WorkCalendarYear:
    """Write one revision of a year's schedule, all its days at once, and audit it."""
    if not source.strip():
        raise ApplicationError(
            _("Name the notice the schedule comes from, e.g. 国办发明电〔2026〕7号."),
            field="source",
        )
    problem = _schedule_errors(year, ranges)
    if problem is not None:
        raise ApplicationError(problem, field="ranges")
    calendar = model_create(
        instance=WorkCalendarYear(
            year=year,
            revision=revision,
            source=source.strip(),
            reason=reason.strip(),
            entered_by=actor,
            entered_at=timezone.now(),
        ),
        actor=actor,
        reason=reason.strip(),
    )
    days = []
    for r in ranges:
        day = r.start
        while day <= r.end:
            entry = WorkCalendarDay(calendar=calendar, day=day, kind=r.kind, name=r.name)
            entry.full_clean()
            days.append(entry)
            day += dt.timedelta(days=1)
    WorkCalendarDay.objects.bulk_create(days)
    # One audit record for the whole schedule: the ranges as entered.
    audit_record(
        actor=actor,
        obj=calendar,
        action="schedule",
        changes={
            "days": [None, [f"{r.start}..{r.end} {r.kind} {r.name}" for r in ranges]],
        },
        reason=reason.strip(),
    )
    return calendar


@transaction.atomic
def work_calendar_enter(
    *, actor: User, year: int, source: str, ranges: Sequence[DayRange]
) -> WorkCalendarYear:
    """Enter a year's official holiday schedule, all of it at once: the year is then known
    to the notice period (payments/workdays.py). Only for a year the installed
    chinese-calendar does not know, and once: a mistake is corrected by
    `work_calendar_correct`, never by changing what was entered."""
    require(actor, SETTLE)
    if year in package_years():
        raise ApplicationError(
            _("The installed chinese-calendar knows %(year)s already.") % {"year": year},
            field="year",
        )
    if WorkCalendarYear.objects.select_for_update().filter(year=year).exists():
        raise ApplicationError(
            _(
                "The %(year)s schedule has been entered already: a mistake in it is "
                "corrected by a new revision, with the reason."
            )
            % {"year": year},
            field="year",
        )
    return _schedule_create(actor=actor, year=year, source=source, ranges=ranges)


@transaction.atomic
def work_calendar_correct(
    *,
    actor: User,
    year: int,
    source: str,
    ranges: Sequence[DayRange],
    reason: str,
    seen_revision: int | None = None,
) -> WorkCalendarYear:
    """Correct an entered year: a new revision of its whole schedule, with the reason,
    supersedes the one in effect (which stays, readable). Notices already computed keep
    their stored dates; later ones count on the new revision. `seen_revision`: the revision
    the correction was made from (the page sends it); refused if a newer one came since
    (None: not checked, as for API callers that send none)."""
    require(actor, SETTLE)
    # Corrections of one year queue here, so each gets the next revision number.
    current = (
        WorkCalendarYear.objects.select_for_update().filter(year=year).order_by("-revision").first()
    )
    if current is None:
        raise ApplicationError(
            _("No schedule has been entered for %(year)s: there is nothing to correct.")
            % {"year": year},
            field="year",
        )
    if seen_revision is not None and seen_revision != current.revision:
        raise ApplicationError(
            _(
                "The %(year)s schedule was corrected by someone else (revision %(revision)s) "
                "after you opened this page, so nothing was saved. Open it again to see the "
                "change, then decide."
            )
            % {"year": year, "revision": current.revision},
            field="seen_revision",
        )
    if not reason.strip():
        raise ApplicationError(
            _("Say why the schedule is corrected (what was wrong)."), field="reason"
        )
    return _schedule_create(
        actor=actor,
        year=year,
        source=source,
        ranges=ranges,
        revision=current.revision + 1,
        reason=reason,
    )
