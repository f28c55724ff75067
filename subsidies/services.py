"""Every state change of policies, grades and statements: policy versions, grades,
approval (which freezes a statement's drill-down), issue and payment, with their ledger
entries. The annual computation is computation.py; the ledger check integrity.py; the
raw-file purge retention.py.

After the statement (docs/subsidies.md): four eyes (FOUR_EYES: the approver does not issue,
the issuer does not mark paid), a regular statement settled only once its year is over,
issue under a unique document number (文号) and date. Apps above this one take part in
issue and payment through AFTER_ISSUE and BEFORE_PAYMENT (payments opens the public notice
and refuses a payment while it runs), so subsidies never imports them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.roles import ADMINISTER, GRADE, SETTLE
from core.services import audit_record, model_create, model_update, require, transition
from core.versions import check_version
from operators.models import Operator

from .computation import line_figures, operator_year_lock, refuse_unaudited_changes
from .grading import decision_fields
from .models import Assessment, LedgerEntry, Statement, StatementLine, SubsidyPolicy
from .money import ZERO, Reason
from .selectors import contributing_trip_days, paid_years, policy_for_year

if TYPE_CHECKING:
    from operators.models import User

# Called inside the issuing transaction with the issued statement and the actor; a refusal
# (ApplicationError) undoes the issue.
AFTER_ISSUE: list[Callable[[Statement, User], None]] = []
# Called before a payment is recorded; each returns why it must not go out yet, or None.
BEFORE_PAYMENT: list[Callable[[Statement], str | None]] = []

POLICY_FIELDS = frozenset(
    {
        "name",
        "reference",
        "valid_from",
        "valid_to",
        "max_rate_yuan_per_km",
        "annual_cap_yuan",
        "max_paid_years",
        "rate_a_yuan_per_km",
        "rate_b_yuan_per_km",
        "rate_c_yuan_per_km",
        "rate_d_yuan_per_km",
    }
)


# --- policy -------------------------------------------------------------------------------


def _check_policy_window(pk: int | None, valid_from: dt.date, valid_to: dt.date) -> None:
    overlapping = SubsidyPolicy.objects.filter(valid_from__lte=valid_to, valid_to__gte=valid_from)
    if pk is not None:
        overlapping = overlapping.exclude(pk=pk)
    if overlapping.exists():
        raise ApplicationError(
            _("The window overlaps another policy version's window."), field="valid_from"
        )


@transaction.atomic
def policy_create(*, actor: User, **fields: Any) -> SubsidyPolicy:
    require(actor, ADMINISTER)
    unknown = set(fields) - POLICY_FIELDS
    if unknown:
        raise ApplicationError(_("Unknown field."), field=sorted(unknown)[0])
    latest = SubsidyPolicy.objects.select_for_update().aggregate(v=Max("version"))["v"]
    policy = SubsidyPolicy(version=(latest or 0) + 1, **fields)
    policy.full_clean()
    _check_policy_window(None, policy.valid_from, policy.valid_to)
    return model_create(instance=policy, actor=actor)


@transaction.atomic
def policy_update(
    *, actor: User, policy: SubsidyPolicy, data: dict[str, Any], reason: str = ""
) -> SubsidyPolicy:
    """Edit a version; once a statement under it has been issued, make a new version instead."""
    require(actor, ADMINISTER)
    unknown = set(data) - POLICY_FIELDS
    if unknown:
        raise ApplicationError(_("This field cannot be changed here."), field=sorted(unknown)[0])
    policy = SubsidyPolicy.objects.select_for_update().get(pk=policy.pk)
    if policy.statements.filter(status__in=Statement.ISSUED_STATUSES).exists():
        raise ApplicationError(
            _("Statements under this version have been issued; create a new version.")
        )
    _check_policy_window(
        policy.pk,
        data.get("valid_from", policy.valid_from),
        data.get("valid_to", policy.valid_to),
    )
    return model_update(instance=policy, data=data, actor=actor, reason=reason)


# --- assessments --------------------------------------------------------------------------


@transaction.atomic
def assessment_set(
    *,
    actor: User,
    operator: Operator,
    year: int,
    grade: str,
    score: Decimal | None = None,
    notes: str = "",
    reason: str = "",
    seen_version: int | None = None,
) -> Assessment:
    """Grade an operator-year, or change the grade (audited; an issued year gets adjusted).
    `seen_version` (core/versions.py): the grade's version when the page was drawn, 0 when
    there was none; a page drawn before someone else graded is refused."""
    require(actor, GRADE)
    existing = Assessment.objects.select_for_update().filter(operator=operator, year=year).first()
    if existing is not None:
        check_version(existing, seen_version)
    data = {"grade": grade, "score": score, "notes": notes}
    # The scorecard's proposal under the grading policy in force, and the reason to differ.
    data.update(decision_fields(operator_id=operator.pk, year=year, grade=grade, reason=reason))
    if existing is None:
        return model_create(
            instance=Assessment(
                operator=operator,
                year=year,
                assessed_by=actor,
                assessed_at=timezone.now(),
                **data,
            ),
            actor=actor,
            reason=reason,
        )
    return model_update(
        instance=existing,
        data={**data, "assessed_by": actor, "assessed_at": timezone.now()},
        actor=actor,
        reason=reason,
    )


# --- years ---------------------------------------------------------------------------------


def year_is_over(year: int, *, today: dt.date | None = None) -> bool:
    """Whether `year` has ended in Asia/Shanghai (the project's time zone)."""
    return (today or timezone.localdate()) > dt.date(year, 12, 31)


def compute_refusal(*, year: int) -> None:
    """Refuse (400 naming `year`) a computation for a year not yet started or outside every
    policy version's window, or one whose trips changed around the application since issue;
    the computation itself stays idempotent for any year."""
    if timezone.localdate() < dt.date(year, 1, 1):
        raise ApplicationError(
            _("%(year)s has not started: there is nothing to compute yet.") % {"year": year},
            field="year",
        )
    policy = policy_for_year(year)
    if policy is None:
        raise ApplicationError(_("There is no subsidy policy."), field="year")
    if policy.valid_to.year < year or policy.valid_from.year > year:
        raise ApplicationError(
            _(
                "%(year)s is outside the policy's window (%(first)s to %(last)s): no "
                "kilometre of it can earn a subsidy."
            )
            % {"year": year, "first": policy.valid_from, "last": policy.valid_to},
            field="year",
        )
    refuse_unaudited_changes(year)


def _require_year_over(statement: Statement, *, on: dt.date | None = None) -> None:
    if statement.kind == Statement.Kind.REGULAR and not year_is_over(statement.year, today=on):
        raise ApplicationError(
            _(
                "%(year)s is not over: a regular statement is approved and issued from "
                "1 January %(next)s (Asia/Shanghai)."
            )
            % {"year": statement.year, "next": statement.year + 1},
            field="issued_on" if on is not None else "year",
        )


def _four_eyes(*, actor: User, before: int | None, statement: Statement, step: str) -> None:
    """Refuse `step` by the person who did the step before (unless FOUR_EYES is off, when
    the same person acting twice is recorded in the audit trail instead)."""
    if before is None or before != actor.pk:
        return
    if settings.FOUR_EYES:
        messages = {
            "issue": _("You approved this statement: another finance officer issues it."),
            "pay": _("You issued this statement: another finance officer records its payment."),
        }
        raise ApplicationError(messages[step], field="status")
    audit_record(
        actor=actor,
        obj=statement,
        action="four_eyes_waived",
        changes={"step": [None, step]},
        reason=_("FOUR_EYES is off: the same person acted twice."),
    )


# --- approval, issue, payment -------------------------------------------------------------


def _freeze_lines(statement: Statement) -> None:
    """Snapshot the drill-down of an approved statement: one line per contributing trip and
    day, by one INSERT … SELECT of the very query a draft's drill-down reads live."""
    if statement.counted_from is None or statement.counted_to is None:
        return
    rows = (
        contributing_trip_days(
            first=statement.counted_from,
            last=statement.counted_to,
            operator_ids=[statement.operator_id],
        )
        .annotate(statement_id=Value(statement.pk))
        .values_list("statement_id", "trip_id", "day", "eligible_m")
        .order_by()
    )
    select, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {StatementLine._meta.db_table} "
            f"(statement_id, trip_id, day, eligible_m) {select}",
            params,
        )
    days = line_figures([statement.pk]).get(statement.pk, {})
    metres = sum((m for m, _, _ in days.values()), ZERO)
    trips = StatementLine.objects.filter(statement=statement).values("trip_id").distinct().count()
    if metres != statement.eligible_m or trips != statement.trip_count:
        # Trips changed since the computation: what finance looked at is not what the
        # lines would freeze. The transaction (and the approval) is rolled back.
        raise ApplicationError(
            _("Trips have changed since this statement was computed: recompute, then approve."),
            field="status",
        )


@transaction.atomic
def statement_approve(
    *, actor: User, statement: Statement, reason: str = "", seen_version: int | None = None
) -> Statement:
    """Approve a draft and freeze its drill-down lines (they stay through issue and payment).
    `seen_version` (core/versions.py): a page drawn before the statement changed (another
    approval, a recomputation) is refused; so are issue and payment below."""
    require(actor, SETTLE)
    # Queue behind a computation of the same operator-year, and it behind us.
    operator_year_lock(statement.operator_id, statement.year)
    statement = Statement.objects.select_for_update().get(pk=statement.pk)
    check_version(statement, seen_version)
    _require_year_over(statement)
    if statement.reason == Reason.NO_GRADE:
        raise ApplicationError(
            _("The year has no grade yet: the bureau grades it, then recompute."), field="reason"
        )
    statement = transition(
        instance=statement,
        to=Statement.Status.APPROVED,
        actor=actor,
        reason=reason,
        data={"approved_by": actor, "approved_at": timezone.now()},
    )
    _freeze_lines(statement)
    return statement


def _ledger_append(*, statement: Statement, kind: str, actor: User) -> LedgerEntry:
    return model_create(
        instance=LedgerEntry(
            kind=kind,
            statement=statement,
            operator_id=statement.operator_id,
            year=statement.year,
            amount_yuan=statement.amount_yuan,
            at=timezone.now(),
            actor=actor,
        ),
        actor=actor,
    )


def _check_document(
    statement: Statement, document_number: str, issued_on: dt.date | None
) -> tuple[str, dt.date]:
    today = timezone.localdate()
    issued_on = issued_on or today
    if issued_on > today:
        raise ApplicationError(_("The issue date cannot be in the future."), field="issued_on")
    _require_year_over(statement)
    _require_year_over(statement, on=issued_on)
    # Scripts and tests may leave the number to the ledger; the API and the page ask for it.
    number = document_number.strip() or f"YQAV-{issued_on.year}-{statement.pk}"
    if Statement.objects.filter(document_number=number).exclude(pk=statement.pk).exists():
        raise ApplicationError(
            _("The document number %(number)s has been issued already.") % {"number": number},
            field="document_number",
        )
    return number, issued_on


@transaction.atomic
def statement_issue(
    *,
    actor: User,
    statement: Statement,
    reason: str = "",
    document_number: str = "",
    issued_on: dt.date | None = None,
    seen_version: int | None = None,
) -> Statement:
    """Issue an approved statement under a document number (文号) and date: it becomes
    immutable, its amount accrues, and (payments) its public notice opens."""
    require(actor, SETTLE)
    operator_year_lock(statement.operator_id, statement.year)
    # Issues for one operator queue, so two years cannot both become its last paid year.
    Operator.objects.select_for_update().get(pk=statement.operator_id)
    statement = Statement.objects.select_for_update().get(pk=statement.pk)
    check_version(statement, seen_version)
    if statement.status != Statement.Status.APPROVED:
        raise ApplicationError(_("Only an approved statement can be issued."), field="status")
    number, issued_on = _check_document(statement, document_number, issued_on)
    _four_eyes(actor=actor, before=statement.approved_by_id, statement=statement, step="issue")
    if (
        statement.year_total_yuan > 0
        and paid_years(operator_id=statement.operator_id, other_than=statement.year)
        >= statement.policy.max_paid_years
    ):
        raise ApplicationError(
            _("The company already has its maximum number of paid years; recompute."),
            field="year",
        )
    statement = transition(
        instance=statement,
        to=Statement.Status.ISSUED,
        actor=actor,
        reason=reason,
        data={
            "issued_by": actor,
            "issued_at": timezone.now(),
            "document_number": number,
            "issued_on": issued_on,
        },
    )
    _ledger_append(
        statement=statement,
        kind=(
            LedgerEntry.Kind.ACCRUAL
            if statement.kind == Statement.Kind.REGULAR
            else LedgerEntry.Kind.ADJUSTMENT
        ),
        actor=actor,
    )
    for hook in AFTER_ISSUE:
        hook(statement, actor)
    return statement


@transaction.atomic
def statement_mark_paid(
    *, actor: User, statement: Statement, reason: str = "", seen_version: int | None = None
) -> Statement:
    """Record the payment (拨付) of an issued statement (a recovery, if it is negative)."""
    require(actor, SETTLE)
    statement = Statement.objects.select_for_update().get(pk=statement.pk)
    check_version(statement, seen_version)
    if statement.status != Statement.Status.ISSUED:
        raise ApplicationError(_("Only an issued statement can be marked paid."), field="status")
    for guard in BEFORE_PAYMENT:
        refusal = guard(statement)
        if refusal is not None:
            raise ApplicationError(refusal, field="status")
    _four_eyes(actor=actor, before=statement.issued_by_id, statement=statement, step="pay")
    statement = transition(
        instance=statement,
        to=Statement.Status.PAID,
        actor=actor,
        reason=reason,
        data={"paid_by": actor, "paid_at": timezone.now()},
    )
    _ledger_append(statement=statement, kind=LedgerEntry.Kind.PAYMENT, actor=actor)
    return statement
