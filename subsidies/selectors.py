"""Reading policies, grades, statements and the ledger, scoped by the acting user's role.

Companies see only their own statements, and only once issued; finance and admin see
everything; the bureau reads everything and grades.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import ExtractMonth
from django.http import Http404
from django.utils import timezone
from django.utils.http import urlencode

from core.roles import Role
from core.units import centimetres
from operators.models import Operator
from trips.models import Trip, TripDay
from trips.selectors import trip_list

from .glossary import ISSUED_SUBSIDY, PROJECTED_SUBSIDY
from .grading import grade_evidence
from .models import Assessment, LedgerEntry, Statement, StatementLine, SubsidyPolicy
from .money import ZERO, ZERO_REASONS, km_from_metres

if TYPE_CHECKING:
    from operators.models import User

    from .scorecard import Proposal, Scorecard


def year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def current_year() -> int:
    return timezone.localdate().year


def policy_list(*, user: User) -> QuerySet[SubsidyPolicy]:
    """The policy is public: every signed-in user may read it."""
    return SubsidyPolicy.objects.all()


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


def paid_years(*, operator_id: int, other_than: int | None = None) -> int:
    """How many paid years a company has used: the one definition of a "paid year".

    A paid year is a year whose issued (or paid) statements add up to more than 0, so a
    year issued at 0 is not one, nor is a year a negative adjustment brought back to 0.
    The computation and the issue guard count the years `other_than` the one at hand; the
    company's year-to-date panel counts them all. Not scoped by user (its callers are).
    """
    statements = Statement.objects.filter(
        operator_id=operator_id, status__in=Statement.ISSUED_STATUSES
    )
    if other_than is not None:
        statements = statements.exclude(year=other_than)
    return statements.values("year").annotate(total=Sum("amount_yuan")).filter(total__gt=0).count()


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


def assessment_list(*, user: User) -> QuerySet[Assessment]:
    assessments = Assessment.objects.select_related("operator", "assessed_by")
    if user.role == Role.OPERATOR and user.operator_id is not None:
        return assessments.filter(operator_id=user.operator_id)
    if user.is_government:
        return assessments
    return Assessment.objects.none()


@dataclass(frozen=True)
class AssessmentFigures:
    """What informs a grade: the year's kilometres and how the driving went."""

    operator_id: int
    year: int
    eligible_km: Decimal
    autonomous_km: Decimal
    accepted_trips: int
    disengagements: int
    km_per_disengagement: Decimal | None
    flagged_trips: int
    rejected_trips: int
    reviewed_trips: int
    # The recorder's scorecard and the grade the policy in force proposes (None: no policy).
    scorecard: Scorecard | None = None
    proposal: Proposal | None = None


def assessment_figures(*, user: User, operator_id: int, year: int) -> AssessmentFigures:
    """For the bureau (and finance) grading a year; another company's figures are a 404."""
    if not user.is_government or not Operator.objects.filter(pk=operator_id).exists():
        raise Http404
    first, last = year_bounds(year)
    days = TripDay.objects.filter(
        trip__operator_id=operator_id,
        trip__status=Trip.Status.ACCEPTED,
        day__gte=first,
        day__lte=last,
    ).aggregate(eligible=Sum("eligible_m"), autonomous=Sum("autonomous_m"))
    # Trips belong to the year they started in (local time) for counting purposes.
    trips = Trip.objects.filter(
        operator_id=operator_id, started_at__date__gte=first, started_at__date__lte=last
    ).aggregate(
        accepted=Count("pk", filter=Q(status=Trip.Status.ACCEPTED)),
        disengagements=Sum("disengagements", filter=Q(status=Trip.Status.ACCEPTED)),
        flagged=Count("pk", filter=Q(status=Trip.Status.NEEDS_REVIEW)),
        rejected=Count("pk", filter=Q(status=Trip.Status.REJECTED)),
        reviewed=Count("pk", filter=Q(reviewed_at__isnull=False)),
    )
    autonomous_km = km_from_metres(centimetres(days["autonomous"]))
    disengagements = trips["disengagements"] or 0
    evidence = grade_evidence(operator_id=operator_id, year=year)
    return AssessmentFigures(
        operator_id=operator_id,
        year=year,
        eligible_km=km_from_metres(centimetres(days["eligible"])),
        autonomous_km=autonomous_km,
        accepted_trips=trips["accepted"],
        disengagements=disengagements,
        km_per_disengagement=(
            (autonomous_km / disengagements).quantize(Decimal("0.001")) if disengagements else None
        ),
        flagged_trips=trips["flagged"],
        rejected_trips=trips["rejected"],
        reviewed_trips=trips["reviewed"],
        scorecard=evidence.scorecard,
        proposal=evidence.proposal,
    )


def statement_list(*, user: User) -> QuerySet[Statement]:
    statements = Statement.objects.select_related("operator", "policy")
    if user.role == Role.OPERATOR and user.operator_id is not None:
        return statements.filter(operator_id=user.operator_id, status__in=Statement.ISSUED_STATUSES)
    if user.is_government:
        return statements
    return Statement.objects.none()


def year_issued(*, user: User, operator_id: int, year: int) -> bool:
    """Whether a statement of the company-year has been issued: a grade changed now makes
    an adjustment statement at the next computation."""
    return (
        statement_list(user=user)
        .filter(operator_id=operator_id, year=year, status__in=Statement.ISSUED_STATUSES)
        .exists()
    )


def statement_get(*, user: User, statement_id: int) -> Statement:
    statement = statement_list(user=user).filter(pk=statement_id).first()
    if statement is None:
        raise Http404
    return statement


def contributing_trip_days(
    *, first: dt.date, last: dt.date, operator_ids: Collection[int] | None = None
) -> QuerySet[TripDay]:
    """What a subsidy counts: accepted trips' local days with eligible metres, `first` to
    `last` inclusive. The one definition behind the computation, a draft's live drill-down
    and the lines frozen at approval; not scoped by user (its callers are)."""
    days = TripDay.objects.filter(day__gte=first, day__lte=last, eligible_m__gt=0)
    if operator_ids is None:
        return days.filter(trip__status=Trip.Status.ACCEPTED)
    # The trips as a subquery, not a join: SQLite then starts from the companies' trips
    # (an index) instead of every trip day of the year (bench/README.md, the computation);
    # PostgreSQL plans both forms alike.
    trips = Trip.objects.filter(operator_id__in=operator_ids, status=Trip.Status.ACCEPTED)
    return days.filter(trip__in=trips.values("pk"))


# A line of a statement's drill-down: frozen (approved and later) or read live (draft).
DrillDownLine = StatementLine | TripDay


def _drill_down(statement: Statement) -> QuerySet[StatementLine] | QuerySet[TripDay]:
    """A draft's trip days read live (drafts change every night); from approval on, the
    lines frozen then, so an approved or issued statement explains itself whatever
    happens to its trips later."""
    if statement.status != Statement.Status.DRAFT:
        return statement.lines.all()
    if statement.counted_from is None or statement.counted_to is None:
        return TripDay.objects.none()
    return contributing_trip_days(
        first=statement.counted_from,
        last=statement.counted_to,
        operator_ids=[statement.operator_id],
    )


def statement_lines(*, statement: Statement) -> QuerySet[StatementLine] | QuerySet[TripDay]:
    """The drill-down of a statement the caller already may see (got through statement_list):
    one row per contributing trip and local day, with `trip`, `day` and `eligible_m`."""
    return _drill_down(statement).select_related("trip", "trip__vehicle").order_by("day", "trip_id")


@dataclass(frozen=True)
class SummaryRow:
    key: str
    trips: int
    eligible_m: Decimal
    # The trip list filtered to this row (trips.forms.TripFilterForm's own parameters):
    # the company, the started-on days and, per vehicle, the vehicle.
    trips_query: str = ""

    @property
    def km(self) -> Decimal:
        return km_from_metres(self.eligible_m)


def _trips_query(operator_id: int, first: dt.date, last: dt.date, origin: str, **more: int) -> str:
    """The trip list's query for a company's trips started `first` to `last` (a trip is
    listed by its start: one across midnight at a month's end shows under that month);
    `origin` is where the trips' breadcrumbs lead back to (core.web.came_from)."""
    query: dict[str, str | int] = {"operator": operator_id, **more}
    query |= {"started_from": first.isoformat(), "started_to": last.isoformat()}
    query["from"] = origin
    return urlencode(query)


def _km_by_month(
    days: QuerySet[StatementLine] | QuerySet[TripDay], *, year: int, operator_id: int, origin: str
) -> list[SummaryRow]:
    rows = (
        days.annotate(month=ExtractMonth("day"))
        .values("month")
        .annotate(trips=Count("trip_id", distinct=True), metres=Sum("eligible_m"))
        .order_by("month")
    )
    summary = []
    for r in rows:
        first = dt.date(year, r["month"], 1)
        last = dt.date(year + first.month // 12, first.month % 12 + 1, 1)
        summary.append(
            SummaryRow(
                f"{year}-{r['month']:02d}",
                r["trips"],
                centimetres(r["metres"]),
                _trips_query(operator_id, first, last - dt.timedelta(days=1), origin),
            )
        )
    return summary


def _km_by_vehicle(
    days: QuerySet[StatementLine] | QuerySet[TripDay],
    *,
    operator_id: int,
    first: dt.date,
    last: dt.date,
    origin: str,
) -> list[SummaryRow]:
    rows = (
        days.values("trip__vehicle_id", "trip__vehicle__plate")
        .annotate(trips=Count("trip_id", distinct=True), metres=Sum("eligible_m"))
        .order_by("trip__vehicle__plate")
    )
    return [
        SummaryRow(
            r["trip__vehicle__plate"],
            r["trips"],
            centimetres(r["metres"]),
            _trips_query(operator_id, first, last, origin, vehicle=r["trip__vehicle_id"]),
        )
        for r in rows
    ]


def statement_by_month(*, statement: Statement) -> list[SummaryRow]:
    return _km_by_month(
        _drill_down(statement),
        year=statement.year,
        operator_id=statement.operator_id,
        origin=f"statement:{statement.pk}",  # the trips' breadcrumbs lead back here
    )


def statement_by_vehicle(*, statement: Statement) -> list[SummaryRow]:
    first, last = year_bounds(statement.year)
    return _km_by_vehicle(
        _drill_down(statement),
        operator_id=statement.operator_id,
        first=statement.counted_from or first,
        last=statement.counted_to or last,
        origin=f"statement:{statement.pk}",
    )


def year_km(*, user: User, year: int) -> tuple[list[SummaryRow], list[SummaryRow]]:
    """A company's own year as it stands, before any computation: the trip days a subsidy
    would count (contributing_trip_days), per month and per vehicle. Company staff only
    (nothing for anyone else); the trips' breadcrumbs lead back to the statement list."""
    if user.role != Role.OPERATOR or user.operator_id is None:
        return [], []
    first, last = year_bounds(year)
    operator_id = user.operator_id
    days = contributing_trip_days(first=first, last=last, operator_ids=[operator_id])
    return (
        _km_by_month(days, year=year, operator_id=operator_id, origin="statement"),
        _km_by_vehicle(days, operator_id=operator_id, first=first, last=last, origin="statement"),
    )


def statement_trips_changed(*, statement: Statement, by_vehicle: list[SummaryRow]) -> bool:
    """A draft reads its trips live (statement_by_vehicle): True when they no longer add up
    to the kilometres and trips it was computed with, as shown (km to 3 decimals), because
    a trip was withdrawn or rejected since. Approval refuses such a draft until it is
    recomputed (services._freeze_lines); the page says so instead of two totals."""
    if statement.status != Statement.Status.DRAFT:
        return False
    metres = sum((row.eligible_m for row in by_vehicle), ZERO)
    trips = sum(row.trips for row in by_vehicle)
    return km_from_metres(metres) != km_from_metres(statement.eligible_m) or (
        trips != statement.trip_count
    )


@dataclass(frozen=True)
class NoticeRow:
    operator_name: str
    credit_code: str
    year: int
    eligible_km: Decimal
    grade: str
    amount_yuan: Decimal
    issued_on: dt.date | None


def public_notice(*, user: User, year: int) -> list[NoticeRow]:
    """The public-notice list (公示): each company's issued total for the year.

    Figures are those of the latest issued statement (the year's totals after any
    adjustment); the amount is the sum of what was issued.
    """
    if not user.is_government:
        raise Http404
    issued = (
        Statement.objects.filter(year=year, status__in=Statement.ISSUED_STATUSES)
        .select_related("operator")
        .order_by("operator__name", "operator_id", "issued_at", "pk")
    )
    rows: dict[int, NoticeRow] = {}
    for statement in issued:
        before = rows.get(statement.operator_id)
        rows[statement.operator_id] = NoticeRow(
            operator_name=statement.operator.name,
            credit_code=statement.operator.credit_code,
            year=year,
            eligible_km=statement.km,
            grade=statement.grade,
            amount_yuan=(before.amount_yuan if before else ZERO) + statement.amount_yuan,
            issued_on=timezone.localdate(statement.issued_at) if statement.issued_at else None,
        )
    return list(rows.values())


def ledger_for(*, statement: Statement) -> QuerySet[LedgerEntry]:
    return statement.ledger.select_related("actor").order_by("at", "pk")


@dataclass(frozen=True)
class YearToDate:
    """A company's year so far: what it drove and what the last computation projects."""

    year: int
    eligible_km: Decimal
    projection: Statement | None  # the year's latest statement, None until computed
    cap_yuan: Decimal
    paid_years: int
    max_paid_years: int
    # The year's latest issued (or paid) statement: once there is one, its year total is
    # the figure, said as issued, not projected (glossary.ISSUED_SUBSIDY).
    issued: Statement | None = None

    @property
    def year_total_yuan(self) -> Decimal | None:
        shown = self.issued or self.projection
        return shown.year_total_yuan if shown else None

    @property
    def figure_term(self) -> str:
        return str(ISSUED_SUBSIDY if self.issued else PROJECTED_SUBSIDY)

    @property
    def cap_percent(self) -> int:
        if self.year_total_yuan is None or not self.cap_yuan:
            return 0
        return min(100, int(self.year_total_yuan * 100 / self.cap_yuan))


def year_to_date(*, user: User, year: int) -> YearToDate | None:
    """For company staff only (None for anyone else)."""
    if user.role != Role.OPERATOR or user.operator_id is None:
        return None
    accepted = trip_list(user=user).filter(status=Trip.Status.ACCEPTED)
    metres = TripDay.objects.filter(trip__in=accepted, day__year=year).aggregate(
        m=Sum("eligible_m")
    )["m"]
    policy = policy_for_year(year)
    # statement_list shows companies only issued statements; the projection also reads
    # their own company's draft, for its year total only (the page never shows the draft).
    projection = (
        Statement.objects.filter(operator_id=user.operator_id, year=year)
        .exclude(status=Statement.Status.VOID)
        .order_by("-computed_at", "-pk")
        .first()
    )
    issued = (
        Statement.objects.filter(
            operator_id=user.operator_id, year=year, status__in=Statement.ISSUED_STATUSES
        )
        .order_by("-issued_at", "-pk")
        .first()
    )
    return YearToDate(
        year=year,
        eligible_km=km_from_metres(centimetres(metres)),
        projection=projection,
        issued=issued,
        cap_yuan=policy.annual_cap_yuan if policy else ZERO,
        paid_years=paid_years(operator_id=user.operator_id),
        max_paid_years=policy.max_paid_years if policy else 0,
    )


@dataclass(frozen=True)
class YearTotals:
    """Government's view of a year: computed and issued against the companies' caps."""

    year: int
    companies: int
    computed_yuan: Decimal
    issued_yuan: Decimal
    caps_yuan: Decimal
    capped: int
    open_statements: int

    @property
    def computed_percent(self) -> int:
        return min(100, int(self.computed_yuan * 100 / self.caps_yuan)) if self.caps_yuan else 0


def year_totals(*, user: User, year: int) -> YearTotals:
    statements = list(
        statement_list(user=user).filter(year=year).exclude(status=Statement.Status.VOID)
    )
    caps: dict[int, Decimal] = {s.operator_id: s.cap_yuan for s in statements}
    # Adjustments carry differences, so the amounts of a year's statements add up to its total.
    return YearTotals(
        year=year,
        companies=len(caps),
        computed_yuan=sum((s.amount_yuan for s in statements), ZERO),
        issued_yuan=sum(
            (s.amount_yuan for s in statements if s.status in Statement.ISSUED_STATUSES), ZERO
        ),
        caps_yuan=sum(caps.values(), ZERO),
        capped=len({s.operator_id for s in statements if s.cap_applied}),
        open_statements=sum(1 for s in statements if s.status in Statement.OPEN),
    )


def statement_totals(*, statements: QuerySet[Statement]) -> tuple[Decimal, Decimal]:
    """The amount (yuan) and kilometres of a list of statements the caller may see.

    Summed in Python: SQLite sums decimals as binary floats, and a total must be exact.
    """
    figures = list(statements.values_list("amount_yuan", "km"))
    return (
        sum((amount for amount, _km in figures), ZERO),
        sum((km for _amount, km in figures), ZERO),
    )


def zero_amounts(*, user: User, year: int) -> list[Statement]:
    """The year's statements at 0.00 yuan for a stated reason (no grade, no eligible km,
    …), each company once, so that the computation page can say why."""
    return list(
        statement_list(user=user)
        .filter(year=year, reason__in=[str(r) for r in ZERO_REASONS])
        .exclude(status=Statement.Status.VOID)
        .select_related("operator")
        .order_by("operator__name", "-computed_at")
        .distinct()
    )
