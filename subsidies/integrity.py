"""The ledger check: every issued (and paid) statement re-derived from its own frozen lines,
its ledger entries and its trips as they are now, and the ledger and audit hash chains
walked from their first record. Nightly (Celery beat), and `manage.py check_ledger`."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from core.chain import ChainFault
from core.models import AuditRecord, chain_walk
from core.services import audit_record
from trips.copies import SweepFinding, accepted_overlaps, copies_sweep
from trips.models import Trip
from trips.verification.params import replay_params

from .computation import DayFigures, daily_figures, line_figures, year_plan
from .deep_check import DeepCheck, deep_check
from .models import LedgerEntry, Statement, StatementLine
from .money import ZERO, Reason, YearInput, YearResult, compute_year
from .versions import VersionFinding, version_check

logger = logging.getLogger(__name__)


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
    # One vehicle's accepted trips overlapping in time (ids): a kilometre counted twice.
    # Impossible on PostgreSQL (exclusion constraint); reported as broken wherever found.
    overlaps: list[tuple[int, int]] = field(default_factory=list)
    # Records walked per chain, and what does not follow (every fault is broken).
    chained: dict[str, int] = field(default_factory=dict)
    chain_faults: list[ChainFault] = field(default_factory=list)
    deep: DeepCheck | None = None  # only when asked (`--deep`)
    # Trips of issued statements against their verification versions (subsidies/versions.py).
    versioned_trips: int = 0
    version_findings: list[VersionFinding] = field(default_factory=list)

    @property
    def broken(self) -> list[LedgerFinding]:
        return [f for f in self.findings if not f.pending]

    @property
    def broken_count(self) -> int:
        deep = len(self.deep.findings) if self.deep else 0
        faults = len(self.chain_faults) + len(self.version_findings) + len(self.overlaps)
        return len(self.broken) + faults + deep

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
    plan = year_plan(latest.operator, latest.year, latest.policy)
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


def ledger_check(*, deep: bool = False, year: int | None = None) -> LedgerCheck:
    """Re-derive every issued (and paid) statement and report what does not agree; `deep`
    also verifies their trips again from the raw bytes (subsidies/deep_check.py; of `year`
    only, if given).

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
        for model in (LedgerEntry, AuditRecord):
            walked = chain_walk(model)
            check.chained[walked.chain] = walked.records
            check.chain_faults += walked.faults
        check.versioned_trips, check.version_findings = version_check()
        if deep:
            check.deep = deep_check(year=year)
        _report(check)
    return check


def _ledger_findings() -> LedgerCheck:
    issued = list(
        Statement.objects.filter(status__in=Statement.ISSUED_STATUSES)
        .select_related("operator", "policy")
        .order_by("operator_id", "year", "issued_at", "pk")
    )
    ids = [s.pk for s in issued]
    frozen = line_figures(ids)
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
    check = LedgerCheck(statements=len(issued), overlaps=accepted_overlaps())
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
            daily_by_year[year] = daily_figures(year)
        latest = statements[-1]
        check.findings += _check_against_trips(
            latest, issued_before, frozen.get(latest.pk, {}), daily_by_year[year][operator_id]
        )
    return check


def _report(check: LedgerCheck) -> None:
    for a, b in check.overlaps:
        logger.error("ledger check: BROKEN: accepted trips %s and %s of one vehicle overlap", a, b)
    by_statement = {
        s.pk: s for s in Statement.objects.filter(pk__in={f.statement_id for f in check.broken})
    }
    for finding in check.pending:
        logger.warning("ledger check: %s", finding)
    deep = check.deep.findings if check.deep else []
    for fault in [*check.chain_faults, *check.version_findings, *deep]:
        logger.error("ledger check: %s", fault)
    for finding in check.broken:
        logger.error("ledger check: %s", finding)
        audit_record(
            actor=None,
            obj=by_statement[finding.statement_id],
            action="ledger_mismatch",
            changes={finding.figure: [finding.expected, finding.found]},
            reason=finding.note,
        )


@dataclass
class CopiesReport:
    """The sweep for finance before a year is issued: accepted trips not yet in an issued
    statement, checked again against every other trip (trips.copies.copies_sweep)."""

    trips: int
    findings: list[SweepFinding]
    overlaps: list[tuple[int, int]]


def copies_report(*, year: int | None = None) -> CopiesReport:
    """A dry report: accepted trips (of `year`, local days, when given) in no issued
    statement, against all others. Writes nothing; logged at WARNING per finding."""
    issued = StatementLine.objects.filter(statement__status__in=Statement.ISSUED_STATUSES).values(
        "trip_id"
    )
    trips = Trip.objects.filter(status=Trip.Status.ACCEPTED).exclude(pk__in=issued)
    if year is not None:
        trips = trips.filter(days__day__year=year).distinct()
    ids = list(trips.order_by("pk").values_list("pk", flat=True))
    report = CopiesReport(
        trips=len(ids),
        findings=copies_sweep(trip_ids=ids, params=replay_params()),
        overlaps=accepted_overlaps(trip_ids=ids),
    )
    for finding in report.findings:
        logger.warning("copies sweep: %s", finding)
    for a, b in report.overlaps:
        logger.error("copies sweep: accepted trips %s and %s of one vehicle overlap", a, b)
    return report
