"""The annual computation: every company's statement for a year, from its trips' days.

Idempotent and safe to run concurrently (per company-year locks on PostgreSQL). Before
issue the one open statement is brought up to date; after issue a changed amount becomes
an adjustment statement. The ledger check (integrity.py) and approval (services.py) read
the same day figures from here.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.roles import SETTLE
from core.services import model_create, model_update, require, transition
from core.units import centimetres
from operators.models import Operator
from trips.copies import accepted_overlaps
from trips.models import Trip, TripDay

from .models import Assessment, Statement, StatementLine, SubsidyPolicy
from .money import ZERO, YearInput, YearResult, compute_year
from .selectors import contributing_trip_days, paid_years, policy_for_year, year_bounds
from .versions import refuse_unaudited

if TYPE_CHECKING:
    from operators.models import User

# pg_advisory_xact_lock(int, int) key space of this module: (base + year, operator id).
_LOCK_BASE = 1_530_000_000


@dataclass
class ComputeSummary:
    year: int
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    voided: list[int] = field(default_factory=list)


def operator_year_lock(operator_id: int, year: int) -> None:
    """Queue behind whoever computes, approves or issues the same company-year.

    SQLite serialises writers itself; PostgreSQL gets an explicit lock per operator-year,
    held to the end of the transaction, so concurrent runs queue instead of racing.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_BASE + year, operator_id])


# Per local day: eligible metres, number of trip days and the sum of their trip ids.
DayFigures = tuple[Decimal, int, int]


def _by_day(
    rows: QuerySet[TripDay] | QuerySet[StatementLine], key: str
) -> dict[int, dict[dt.date, DayFigures]]:
    """Per `key` (a company, a statement) and local day: metres, trip days, sum of trip ids.

    The count and id sum come along so that an approved statement's frozen lines can be
    checked against the trips (same metres, same number of trips, same trips) cheaply.
    """
    grouped = (
        rows.values_list(key, "day")
        .annotate(metres=Sum("eligible_m"), trips=Count("pk"), ids=Sum("trip_id"))
        .order_by()
    )
    days: dict[int, dict[dt.date, DayFigures]] = defaultdict(dict)
    for owner, day, metres, trips, ids in grouped:
        days[owner][day] = (centimetres(metres), trips, ids)
    return days


def daily_figures(year: int) -> dict[int, dict[dt.date, DayFigures]]:
    """Per company and local day of the year, the accepted trips' eligible metres."""
    first, last = year_bounds(year)
    return _by_day(contributing_trip_days(first=first, last=last), "trip__operator_id")


def line_figures(statement_ids: list[int]) -> dict[int, dict[dt.date, DayFigures]]:
    """The same figures from statements' frozen lines."""
    return _by_day(StatementLine.objects.filter(statement_id__in=statement_ids), "statement_id")


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


@dataclass(frozen=True)
class YearPlan:
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


def year_plan(operator: Operator, year: int, policy: SubsidyPolicy) -> YearPlan:
    first, last = year_bounds(year)
    eligible_from = operator.eligible_from
    operator_eligible = eligible_from is not None and eligible_from <= last
    counted_from = max(first, policy.valid_from, eligible_from or first)
    counted_to = min(last, policy.valid_to)
    counting = operator_eligible and counted_from <= counted_to
    return YearPlan(
        policy=policy,
        assessment=Assessment.objects.filter(operator=operator, year=year).first(),
        operator_eligible=operator_eligible,
        counted_from=counted_from if counting else None,
        counted_to=counted_to if counting else None,
        other_paid_years=paid_years(operator_id=operator.pk, other_than=year),
    )


def _figures(
    plan: YearPlan, result: YearResult, eligible_m: Decimal, trip_count: int, previously: Decimal
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


def _refuse_overlapping_trips(year: int) -> None:
    """A kilometre is paid once: one vehicle's accepted trips overlapping in time are not
    counted, the year is refused until the bureau rejects one of each pair.

    PostgreSQL's exclusion constraint makes such a pair impossible; on SQLite only the
    trips' services keep the rule, so it is checked here before any metre is summed.
    """
    if connection.vendor == "postgresql":
        return
    first, last = year_bounds(year)
    trips = contributing_trip_days(first=first, last=last).values_list("trip_id", flat=True)
    pairs = accepted_overlaps(trip_ids=trips)
    if pairs:
        raise ApplicationError(
            _(
                "Accepted trips of one vehicle overlap in time (%(pairs)s): their kilometres "
                "would be paid twice. Reject one trip of each pair before computing the year."
            )
            % {"pairs": ", ".join(f"#{a} / #{b}" for a, b in pairs)},
            field="year",
        )


def _trips_changed_since_issue(year: int) -> set[int]:
    """Trips whose contributing days differ from the lines of their company's latest issued
    statement of `year` (new, changed or gone): what an adjustment would rest on."""
    latest: dict[int, int] = {}
    for operator_id, pk in (
        Statement.objects.filter(year=year, status__in=Statement.ISSUED_STATUSES)
        .order_by("issued_at", "pk")
        .values_list("operator_id", "pk")
    ):
        latest[operator_id] = pk
    if not latest:
        return set()
    first, last = year_bounds(year)
    issued = (
        StatementLine.objects.filter(statement_id__in=latest.values())
        .values_list("trip_id", "day", "eligible_m")
        .order_by()
    )
    now = (
        contributing_trip_days(first=first, last=last, operator_ids=list(latest))
        .values_list("trip_id", "day", "eligible_m")
        .order_by()
    )
    # Both directions in the database (EXCEPT): only the differing rows come back.
    return {row[0] for rows in (now.difference(issued), issued.difference(now)) for row in rows}


def refuse_unaudited_changes(year: int) -> None:
    """An adjustment is derived from two audited verification versions, never from figures
    changed around the application (issue #12): every trip whose figures moved since issue
    is checked as the nightly check reads it (subsidies/versions.py), before any statement
    is written. Also asked before a computation is queued (services.compute_refusal), so the
    API and the page refuse at once rather than in a worker's log."""
    changed = _trips_changed_since_issue(year)
    if changed:
        refuse_unaudited(trip_ids=changed)


@transaction.atomic
def statements_compute(*, year: int, actor: User | None = None) -> ComputeSummary:
    """Compute every operator's statement for `year`: idempotent, safe to run concurrently.

    Before issue the one open statement (regular) is brought up to date; after issue a
    changed amount becomes an adjustment statement for the difference — never an edit.
    Drafts store no drill-down (it is read live from the trip days); approval freezes it.
    Refused, before anything is written, when one vehicle's accepted trips overlap or a
    trip changed since issue does not hold its audited version's figures.
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
        operator_year_lock(operator.pk, year)
    _refuse_overlapping_trips(year)
    refuse_unaudited_changes(year)
    daily = daily_figures(year)

    stated = set(Statement.objects.filter(year=year).values_list("operator_id", flat=True))
    counted: dict[int, tuple[YearPlan, dict[dt.date, DayFigures]]] = {}
    for operator in operators:
        if operator.pk not in daily and operator.pk not in stated:
            continue  # drove nothing that year: nothing to state
        plan = year_plan(operator, year, policy)
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
    frozen = line_figures(approved)

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
