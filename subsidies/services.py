"""Every state change of policies, grades, statements and the ledger."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Count, Max, Sum, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.roles import ADMINISTER, GRADE, SETTLE
from core.services import (
    audit_record,
    model_create,
    model_update,
    require,
    transition,
)
from operators.models import Operator
from trips import services as trip_services
from trips.models import Trip

from .models import Assessment, LedgerEntry, Statement, StatementLine, SubsidyPolicy
from .money import ZERO, Reason, YearInput, YearResult, compute_year
from .selectors import contributing_trip_days

if TYPE_CHECKING:
    from operators.models import User

logger = logging.getLogger(__name__)

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
# pg_advisory_xact_lock(int, int) key space of this module: (base + year, operator id).
_LOCK_BASE = 1_530_000_000
CENTIMETRE = Decimal("0.01")


def year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def current_year() -> int:
    return timezone.localdate().year


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


def policy_for_year(year: int) -> SubsidyPolicy | None:
    """The version a year is computed under: the latest whose window overlaps the year.

    A year no window overlaps is computed under the nearest earlier version (or the first)
    and earns nothing, with the reason "outside the policy window".
    """
    first, last = year_bounds(year)
    policies = SubsidyPolicy.objects.order_by("-valid_from")
    return (
        policies.filter(valid_from__lte=last, valid_to__gte=first).first()
        or policies.filter(valid_from__lte=last).first()
        or policies.last()
    )


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
) -> Assessment:
    """Grade an operator-year, or change the grade (audited; an issued year gets adjusted)."""
    require(actor, GRADE)
    existing = Assessment.objects.select_for_update().filter(operator=operator, year=year).first()
    data = {"grade": grade, "score": score, "notes": notes}
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


# --- computation --------------------------------------------------------------------------


@dataclass
class ComputeSummary:
    year: int
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    voided: list[int] = field(default_factory=list)


def _centimetres(value: Decimal) -> Decimal:
    """Metres as stored (to the centimetre). SQLite sums decimals as binary floats, so a sum
    can come back as 12000000.000000001; small sums (a day, a month) are exact to 1e-6."""
    return Decimal(value).quantize(CENTIMETRE)


def _lock_operator_year(operator_id: int, year: int) -> None:
    # SQLite serialises writers itself; PostgreSQL gets an explicit lock per operator-year,
    # held to the end of the transaction, so concurrent runs queue instead of racing.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_BASE + year, operator_id])


# Per local day: eligible metres, number of trip days and the sum of their trip ids.
DayFigures = tuple[Decimal, int, int]


def _daily_figures(year: int) -> dict[int, dict[dt.date, DayFigures]]:
    """Per operator and local day of the year, the accepted trips' eligible metres.

    The count and id sum come along so that an approved statement's frozen lines can be
    checked against the trips (same metres, same number of trips, same trips) cheaply.
    """
    first, last = year_bounds(year)
    rows = (
        contributing_trip_days(first=first, last=last)
        .values_list("trip__operator_id", "day")
        .annotate(metres=Sum("eligible_m"), trips=Count("pk"), ids=Sum("trip_id"))
        .order_by()
    )
    days: dict[int, dict[dt.date, DayFigures]] = defaultdict(dict)
    for operator_id, day, metres, trips, ids in rows:
        days[operator_id][day] = (_centimetres(metres), trips, ids)
    return days


def _line_figures(statement_ids: list[int]) -> dict[int, dict[dt.date, DayFigures]]:
    """The same figures from statements' frozen lines."""
    rows = (
        StatementLine.objects.filter(statement_id__in=statement_ids)
        .values_list("statement_id", "day")
        .annotate(metres=Sum("eligible_m"), trips=Count("pk"), ids=Sum("trip_id"))
        .order_by()
    )
    days: dict[int, dict[dt.date, DayFigures]] = defaultdict(dict)
    for statement_id, day, metres, trips, ids in rows:
        days[statement_id][day] = (_centimetres(metres), trips, ids)
    return days


def _trip_counts(windows: dict[int, tuple[dt.date, dt.date]]) -> dict[int, int]:
    """Distinct contributing trips per operator over its counted days (a trip across
    midnight is one trip). Operators sharing a window, nearly always all, share a query."""
    by_window: dict[tuple[dt.date, dt.date], set[int]] = defaultdict(set)
    for operator_id, window in windows.items():
        by_window[window].add(operator_id)
    counts: dict[int, int] = {}
    for (first, last), operator_ids in by_window.items():
        # Every company's trips in one pass over the window (the usual case is a single
        # window), then only this window's companies are kept. Trips with a contributing
        # day (a semi-join) counted per company: no COUNT(DISTINCT) sorting a million rows.
        counted = (
            Trip.objects.filter(
                pk__in=contributing_trip_days(first=first, last=last).values("trip_id")
            )
            .values_list("operator_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        counts.update((pk, n) for pk, n in counted if pk in operator_ids)
    return counts


def _paid_years_other_than(operator: Operator, year: int) -> int:
    """Distinct other years whose issued statements add up to a positive amount."""
    return (
        Statement.objects.filter(operator=operator, status__in=Statement.ISSUED_STATUSES)
        .exclude(year=year)
        .values("year")
        .annotate(total=Sum("amount_yuan"))
        .filter(total__gt=0)
        .count()
    )


@dataclass(frozen=True)
class _Plan:
    """What one operator-year's statement is computed from."""

    policy: SubsidyPolicy
    assessment: Assessment | None
    operator_eligible: bool
    counted_from: dt.date | None
    counted_to: dt.date | None
    other_paid_years: int

    def result(self, eligible_m: Decimal) -> YearResult:
        return compute_year(
            YearInput(
                eligible_m=eligible_m,
                operator_eligible=self.operator_eligible,
                counting_days=self.counted_from is not None,
                grade=self.assessment.grade if self.assessment else None,
                rates=self.policy.rates,
                cap_yuan=self.policy.annual_cap_yuan,
                max_paid_years=self.policy.max_paid_years,
                other_paid_years=self.other_paid_years,
            )
        )


def _plan(operator: Operator, year: int, policy: SubsidyPolicy) -> _Plan:
    first, last = year_bounds(year)
    eligible_from = operator.eligible_from
    operator_eligible = eligible_from is not None and eligible_from <= last
    counted_from = max(first, policy.valid_from, eligible_from or first)
    counted_to = min(last, policy.valid_to)
    counting = operator_eligible and counted_from <= counted_to
    return _Plan(
        policy=policy,
        assessment=Assessment.objects.filter(operator=operator, year=year).first(),
        operator_eligible=operator_eligible,
        counted_from=counted_from if counting else None,
        counted_to=counted_to if counting else None,
        other_paid_years=_paid_years_other_than(operator, year),
    )


def _figures(
    plan: _Plan, result: YearResult, eligible_m: Decimal, trip_count: int, previously: Decimal
) -> dict[str, Any]:
    return {
        "policy": plan.policy,
        "assessment": plan.assessment,
        "counted_from": plan.counted_from,
        "counted_to": plan.counted_to,
        "eligible_m": eligible_m,
        "km": result.km,
        "trip_count": trip_count,
        "grade": plan.assessment.grade if plan.assessment else "",
        "rate_yuan_per_km": result.rate_yuan_per_km,
        "gross_yuan": result.gross_yuan,
        "cap_yuan": plan.policy.annual_cap_yuan,
        "cap_applied": result.cap_applied,
        "cap_reduction_yuan": result.cap_reduction_yuan,
        "year_total_yuan": result.amount_yuan,
        "previously_issued_yuan": previously,
        "amount_yuan": result.amount_yuan - previously,
        "reason": str(result.reason),
    }


def _unfreeze_lines(statement: Statement) -> None:
    """An approval is withdrawn (back to draft, or void): its frozen drill-down goes with it,
    and the draft reads its trip days live again."""
    StatementLine.objects.filter(statement=statement).delete()


def _write(
    statement: Statement | None,
    *,
    kind: str,
    operator: Operator,
    year: int,
    figures: dict[str, Any],
    frozen_lines_hold: bool,
    summary: ComputeSummary,
) -> None:
    """Create the open statement, or bring the open one up to date (audited either way).

    `frozen_lines_hold` is False when an approved statement's frozen lines no longer match
    the trip days, even if every figure does (a trip swapped for another of equal length).
    """
    now = timezone.now()
    if statement is None:
        created = model_create(
            instance=Statement(kind=kind, operator=operator, year=year, computed_at=now, **figures),
            actor=None,
        )
        summary.created.append(created.pk)
        return
    changed = any(getattr(statement, name) != value for name, value in figures.items())
    if not changed and frozen_lines_hold:
        summary.unchanged.append(statement.pk)
        return
    data = {**figures, "computed_at": now}
    if statement.status == Statement.Status.APPROVED:
        # The approval was for other figures or other trips: back to draft for a new look.
        transition(
            instance=statement,
            to=Statement.Status.DRAFT,
            actor=None,
            reason=_("Recomputed with different figures."),
            data={**data, "approved_by": None, "approved_at": None},
        )
        _unfreeze_lines(statement)
    else:
        model_update(instance=statement, data=data, actor=None, action="recompute")
    summary.updated.append(statement.pk)


@transaction.atomic
def compute_statements(*, year: int, actor: User | None = None) -> ComputeSummary:
    """Compute every operator's statement for `year`: idempotent, safe to run concurrently.

    Before issue the one open statement (regular) is brought up to date; after issue a
    changed amount becomes an adjustment statement for the difference — never an edit.
    Drafts store no drill-down (it is read live from the trip days); approval freezes it.
    `actor` is None when the scheduler runs it.
    """
    if actor is not None:
        require(actor, SETTLE)
    policy = policy_for_year(year)
    if policy is None:
        raise ApplicationError(_("There is no subsidy policy."), field="year")
    summary = ComputeSummary(year=year)
    operators = list(Operator.objects.order_by("pk"))
    for operator in operators:
        _lock_operator_year(operator.pk, year)
    daily = _daily_figures(year)

    stated = set(Statement.objects.filter(year=year).values_list("operator_id", flat=True))
    counted: dict[int, tuple[_Plan, dict[dt.date, DayFigures]]] = {}
    for operator in operators:
        if operator.pk not in daily and operator.pk not in stated:
            continue  # drove nothing that year: nothing to state
        plan = _plan(operator, year, policy)
        days: dict[dt.date, DayFigures] = {}
        if plan.counted_from is not None and plan.counted_to is not None:
            days = {
                day: figures
                for day, figures in daily[operator.pk].items()
                if plan.counted_from <= day <= plan.counted_to
            }
        counted[operator.pk] = (plan, days)
    trip_counts = _trip_counts(
        {
            pk: (plan.counted_from, plan.counted_to)
            for pk, (plan, days) in counted.items()
            if days and plan.counted_from is not None and plan.counted_to is not None
        }
    )
    approved = list(
        Statement.objects.filter(year=year, status=Statement.Status.APPROVED).values_list(
            "pk", flat=True
        )
    )
    frozen = _line_figures(approved)

    for operator in operators:
        if operator.pk not in counted:
            continue
        plan, days = counted[operator.pk]
        metres = sum((m for m, _, _ in days.values()), ZERO)
        result = plan.result(metres)
        existing = list(
            Statement.objects.select_for_update()
            .filter(operator=operator, year=year)
            .exclude(status=Statement.Status.VOID)
        )
        issued = [s for s in existing if s.status in Statement.ISSUED_STATUSES]
        open_ = next((s for s in existing if s.status in Statement.OPEN), None)
        previously = sum((s.amount_yuan for s in issued), ZERO)
        if issued and result.amount_yuan == previously:
            if open_ is not None:  # an adjustment that is no longer needed
                transition(
                    instance=open_,
                    to=Statement.Status.VOID,
                    actor=None,
                    reason=_("Recomputed: the issued amount stands."),
                )
                _unfreeze_lines(open_)
                summary.voided.append(open_.pk)
            continue
        _write(
            open_,
            kind=Statement.Kind.ADJUSTMENT if issued else Statement.Kind.REGULAR,
            operator=operator,
            year=year,
            figures=_figures(plan, result, metres, trip_counts.get(operator.pk, 0), previously),
            frozen_lines_hold=open_ is None
            or open_.status != Statement.Status.APPROVED
            or frozen.get(open_.pk, {}) == days,
            summary=summary,
        )
    return summary


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
    days = _line_figures([statement.pk]).get(statement.pk, {})
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
def statement_approve(*, actor: User, statement: Statement, reason: str = "") -> Statement:
    """Approve a draft and freeze its drill-down lines (they stay through issue and payment)."""
    require(actor, SETTLE)
    # Queue behind a computation of the same operator-year, and it behind us.
    _lock_operator_year(statement.operator_id, statement.year)
    statement = Statement.objects.select_for_update().get(pk=statement.pk)
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


@transaction.atomic
def statement_issue(*, actor: User, statement: Statement, reason: str = "") -> Statement:
    """Issue an approved statement: it becomes immutable and its amount accrues."""
    require(actor, SETTLE)
    _lock_operator_year(statement.operator_id, statement.year)
    # Issues for one operator queue, so two years cannot both become its last paid year.
    Operator.objects.select_for_update().get(pk=statement.operator_id)
    statement = Statement.objects.select_for_update().get(pk=statement.pk)
    if statement.status != Statement.Status.APPROVED:
        raise ApplicationError(_("Only an approved statement can be issued."), field="status")
    if (
        statement.year_total_yuan > 0
        and _paid_years_other_than(statement.operator, statement.year)
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
        data={"issued_by": actor, "issued_at": timezone.now()},
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
    return statement


@transaction.atomic
def statement_mark_paid(*, actor: User, statement: Statement, reason: str = "") -> Statement:
    """Record the payment (拨付) of an issued statement (a recovery, if it is negative)."""
    require(actor, SETTLE)
    statement = Statement.objects.select_for_update().get(pk=statement.pk)
    if statement.status != Statement.Status.ISSUED:
        raise ApplicationError(_("Only an issued statement can be marked paid."), field="status")
    statement = transition(
        instance=statement,
        to=Statement.Status.PAID,
        actor=actor,
        reason=reason,
        data={"paid_by": actor, "paid_at": timezone.now()},
    )
    _ledger_append(statement=statement, kind=LedgerEntry.Kind.PAYMENT, actor=actor)
    return statement


def years_to_recompute() -> list[int]:
    """The nightly run: the current year, and earlier years that already have statements
    (so a trip rejected after issue flows into an adjustment without anyone asking)."""
    years = set(
        Statement.objects.exclude(status=Statement.Status.VOID)
        .values_list("year", flat=True)
        .distinct()
    )
    today = current_year()
    return sorted({y for y in years if y < today} | {today})


# --- retention of raw tracks ---------------------------------------------------------------


def raw_tracks_purge(*, older_than: dt.timedelta, dry_run: bool) -> list[Trip]:
    """Delete (or, dry run, list) the raw files past the retention of final trips.

    Here, not in trips, because the rule looks at statements: a company-year that a draft
    or approved statement is still being made from keeps its raw files until it is issued.
    """
    held = set(
        Statement.objects.filter(
            status__in=[Statement.Status.DRAFT, Statement.Status.APPROVED]
        ).values_list("operator_id", "year")
    )
    trips = trip_services.raw_purge_candidates(
        received_before=timezone.now() - older_than, held=held
    )
    if not dry_run:
        for trip in trips:
            trip_services.trip_raw_purge(
                trip_id=trip.pk,
                actor=None,
                reason=f"Retention: raw files are kept {older_than.days} days.",
            )
    return trips


# --- ledger integrity ---------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerFinding:
    """One figure of an issued statement that does not agree with what it is derived from.

    `pending` findings are not faults: a trip re-verified (or a grade changed) after issue
    differs from the issued lines until an adjustment is issued. Everything else is a
    broken ledger: lines that do not sum to the statement, figures that do not follow
    from the lines, ledger entries that do not match the issued amounts.
    """

    statement_id: int
    operator_id: int
    year: int
    figure: str
    expected: str
    found: str
    pending: bool = False
    note: str = ""

    def __str__(self) -> str:
        label = "PENDING ADJUSTMENT" if self.pending else "BROKEN"
        text = (
            f"{label}: statement {self.statement_id} (company {self.operator_id}, "
            f"{self.year}) {self.figure}: expected {self.expected}, found {self.found}"
        )
        return f"{text} — {self.note}" if self.note else text


@dataclass
class LedgerCheck:
    statements: int = 0
    findings: list[LedgerFinding] = field(default_factory=list)

    @property
    def broken(self) -> list[LedgerFinding]:
        return [f for f in self.findings if not f.pending]

    @property
    def pending(self) -> list[LedgerFinding]:
        return [f for f in self.findings if f.pending]


def _rederive(statement: Statement, eligible_m: Decimal) -> YearResult:
    """The statement's figures computed again from `eligible_m` and its own stored inputs
    (grade, rate, cap, and the zero reason, which rests on facts outside the lines)."""
    reason = statement.reason
    return compute_year(
        YearInput(
            eligible_m=eligible_m,
            operator_eligible=reason != Reason.NOT_ELIGIBLE,
            counting_days=reason != Reason.OUTSIDE_WINDOW,
            grade=statement.grade or None,
            rates=(
                {statement.grade: statement.rate_yuan_per_km}
                if statement.grade and statement.rate_yuan_per_km is not None
                else {}
            ),
            cap_yuan=statement.cap_yuan,
            max_paid_years=1,
            other_paid_years=1 if reason == Reason.PAID_YEARS_USED else 0,
        )
    )


def _check_statement(
    statement: Statement,
    days: dict[dt.date, DayFigures],
    trips: int,
    issued_before: Decimal,
    entries: dict[str, Decimal],
) -> list[LedgerFinding]:
    """An issued statement against its own frozen lines and its ledger entries."""
    metres = sum((m for m, _, _ in days.values()), ZERO)
    result = _rederive(statement, metres)
    expected: list[tuple[str, Any, Any]] = [
        ("eligible_m", metres, statement.eligible_m),
        ("trip_count", trips, statement.trip_count),
        ("km", result.km, statement.km),
        ("gross_yuan", result.gross_yuan, statement.gross_yuan),
        ("cap_reduction_yuan", result.cap_reduction_yuan, statement.cap_reduction_yuan),
        ("year_total_yuan", result.amount_yuan, statement.year_total_yuan),
        ("previously_issued_yuan", issued_before, statement.previously_issued_yuan),
        ("amount_yuan", result.amount_yuan - issued_before, statement.amount_yuan),
    ]
    money_kind = (
        LedgerEntry.Kind.ACCRUAL
        if statement.kind == Statement.Kind.REGULAR
        else LedgerEntry.Kind.ADJUSTMENT
    )
    owed = {str(money_kind): statement.amount_yuan}
    if statement.status == Statement.Status.PAID:
        owed[LedgerEntry.Kind.PAYMENT] = statement.amount_yuan
    expected.append(("ledger", _entries_text(owed), _entries_text(entries)))
    return [
        LedgerFinding(
            statement_id=statement.pk,
            operator_id=statement.operator_id,
            year=statement.year,
            figure=figure,
            expected=str(want),
            found=str(have),
            note=_("derived from its own lines and ledger entries"),
        )
        for figure, want, have in expected
        if want != have
    ]


def _entries_text(entries: dict[str, Decimal]) -> str:
    return ", ".join(f"{kind} {amount}" for kind, amount in sorted(entries.items())) or "-"


def _check_against_trips(
    latest: Statement,
    issued_total: Decimal,
    frozen: dict[dt.date, DayFigures],
    daily: dict[dt.date, DayFigures],
) -> list[LedgerFinding]:
    """The year's latest issued statement against its trips as they are now."""
    plan = _plan(latest.operator, latest.year, latest.policy)
    now: dict[dt.date, DayFigures] = {}
    if plan.counted_from is not None and plan.counted_to is not None:
        now = {d: f for d, f in daily.items() if plan.counted_from <= d <= plan.counted_to}
    metres = sum((m for m, _, _ in now.values()), ZERO)
    amount = plan.result(metres).amount_yuan
    differences: list[tuple[str, Any, Any]] = []
    if now != frozen:
        issued_metres = sum((m for m, _, _ in frozen.values()), ZERO)
        differences.append(("eligible_m", metres, issued_metres))
    if amount != issued_total:
        differences.append(("year's amount (yuan)", amount, issued_total))
    if not differences:
        return []
    open_ = (
        Statement.objects.filter(
            operator_id=latest.operator_id, year=latest.year, status__in=Statement.OPEN
        )
        .values_list("pk", "status")
        .first()
    )
    note = (
        _("adjustment %(id)s is %(status)s") % {"id": open_[0], "status": open_[1]}
        if open_
        else _("trips changed after issue; the next computation makes the adjustment")
    )
    return [
        LedgerFinding(
            statement_id=latest.pk,
            operator_id=latest.operator_id,
            year=latest.year,
            figure=figure,
            expected=str(want),
            found=str(have),
            pending=True,
            note=note,
        )
        for figure, want, have in differences
    ]


def ledger_check() -> LedgerCheck:
    """Re-derive every issued (and paid) statement and report what does not agree.

    For each: its figures from its own frozen lines (metres, trips, km, money), what was
    issued before it for the year, and its ledger entries; for each company-year, the
    ledger against the issued amounts and the latest issued statement against the trips
    as they are now (a difference there is a pending adjustment, not a fault). Broken
    figures are logged at ERROR and recorded in the audit trail; pending ones at WARNING.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            # One snapshot for all the reads: a statement issued or paid while the check
            # runs must not look like entries without their statement, or the reverse.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        check = _ledger_findings()
        _report(check)
    return check


def _ledger_findings() -> LedgerCheck:
    issued = list(
        Statement.objects.filter(status__in=Statement.ISSUED_STATUSES)
        .select_related("operator", "policy")
        .order_by("operator_id", "year", "issued_at", "pk")
    )
    ids = [s.pk for s in issued]
    frozen = _line_figures(ids)
    trips = dict(
        StatementLine.objects.filter(statement_id__in=ids)
        .values_list("statement_id")
        .annotate(n=Count("trip_id", distinct=True))
        .order_by()
    )
    entries: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for statement_id, kind, amount in LedgerEntry.objects.values_list(
        "statement_id", "kind", "amount_yuan"
    ):
        entries[statement_id][kind] = amount
    check = LedgerCheck(statements=len(issued))
    # Entries whose statement was never issued (or no longer reads as issued).
    for statement in Statement.objects.filter(pk__in=set(entries) - set(ids)):
        check.findings.append(
            LedgerFinding(
                statement_id=statement.pk,
                operator_id=statement.operator_id,
                year=statement.year,
                figure="ledger",
                expected="-",
                found=_entries_text(entries[statement.pk]),
                note=_("ledger entries for a statement that is %(status)s")
                % {"status": statement.status},
            )
        )
    daily_by_year: dict[int, dict[int, dict[dt.date, DayFigures]]] = {}
    years: dict[tuple[int, int], list[Statement]] = defaultdict(list)
    for statement in issued:
        years[statement.operator_id, statement.year].append(statement)
    for (operator_id, year), statements in years.items():
        issued_before = ZERO
        for statement in statements:
            check.findings += _check_statement(
                statement,
                frozen.get(statement.pk, {}),
                trips.get(statement.pk, 0),
                issued_before,
                entries.get(statement.pk, {}),
            )
            issued_before += statement.amount_yuan
        if year not in daily_by_year:
            daily_by_year[year] = _daily_figures(year)
        latest = statements[-1]
        check.findings += _check_against_trips(
            latest, issued_before, frozen.get(latest.pk, {}), daily_by_year[year][operator_id]
        )
    return check


def _report(check: LedgerCheck) -> None:
    by_statement = {
        s.pk: s for s in Statement.objects.filter(pk__in={f.statement_id for f in check.broken})
    }
    for finding in check.pending:
        logger.warning("ledger check: %s", finding)
    for finding in check.broken:
        logger.error("ledger check: %s", finding)
        audit_record(
            actor=None,
            obj=by_statement[finding.statement_id],
            action="ledger_mismatch",
            changes={finding.figure: [finding.expected, finding.found]},
            reason=finding.note,
        )
