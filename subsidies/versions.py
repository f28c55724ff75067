"""Each trip an issued statement rests on, against its verification versions (trips
.models.TripVerification, append-only): the trip's totals, days and segments must be its
current version's figures, and each frozen line must follow from the version that was
current when the statement was approved. A re-verification adds a version, so a changed
figure with a newer version is an audited change (the ledger check's pending adjustment);
one without is a change around the application: broken. Part of the nightly check.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _

from core.chain import link_hash
from core.errors import ApplicationError
from core.models import AuditRecord
from trips.models import Trip, TripVerification

from .models import Statement, StatementLine


@dataclass(frozen=True)
class VersionFinding:
    trip_id: int
    figure: str
    expected: str
    found: str

    def __str__(self) -> str:
        return (
            f"BROKEN: trip {self.trip_id} {self.figure}: its verification says "
            f"{self.expected}, stored {self.found}"
        )


def _version_days(version: TripVerification) -> dict[str, tuple[Decimal, Decimal]]:
    return {day: (Decimal(a), Decimal(e)) for day, a, e in version.days}


def _current(trip: Trip, version: TripVerification) -> list[tuple[str, Any, Any]]:
    """(figure, the version's, stored) for every figure of the trip's current version."""
    pairs: list[tuple[str, Any, Any]] = [
        (name, getattr(version, name), getattr(trip, name))
        for name in ("total_m", "autonomous_m", "eligible_m")
    ]
    stored_days = {d.day.isoformat(): (d.autonomous_m, d.eligible_m) for d in trip.days.all()}
    pairs.append(("days", _version_days(version), stored_days))
    stored_segments = {s.segment_id: s.eligible_m for s in trip.segments.all()}
    version_segments = {int(s): Decimal(m) for s, m in version.segments}
    pairs.append(("segments", version_segments, stored_segments))
    rows = {d.verification_id for d in trip.days.all()}
    rows |= {s.verification_id for s in trip.segments.all()}
    other = sorted(rows - {version.pk}, key=str)
    if other:
        pairs.append(("rows of version", version.pk, other))
    return pairs


def _at_approval(
    versions: list[TripVerification], approved_at: dt.datetime | None
) -> TripVerification | None:
    before = [v for v in versions if approved_at is None or v.created_at <= approved_at]
    return max(before, key=lambda v: v.number) if before else None


def _audited_versions(trip_ids: Collection[int]) -> set[tuple[str, Any]]:
    """(trip id, version id) of every change of a trip's current version in the audit trail
    (a version made around the application has none). A record counts only if it holds its
    place in the audit chain with its own content (core.chain): one inserted or edited with
    the triggers off does not, unless the whole chain after it was rewritten too, which the
    nightly walk and the heads printed on documents find."""
    records = AuditRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(Trip),
        object_id__in=[str(pk) for pk in trip_ids],
        changes__has_key="current_verification",
        chain_seq__isnull=False,
    )
    return {
        (record.object_id, record.changes["current_verification"][1])
        for record in records
        if link_hash(
            AuditRecord.CHAIN, record.chain_seq or 0, record.chain_prev, record.chain_content()
        )
        == record.chain_sha256
    }


def version_check(trip_ids: Collection[int] | None = None) -> tuple[int, list[VersionFinding]]:
    """(trips checked, findings) over the trips of every issued or paid statement, and over
    `trip_ids` (only those, when given: the computation checks the trips an adjustment
    would rest on)."""
    lines: dict[int, list[tuple[dt.datetime | None, dt.date, Decimal]]] = defaultdict(list)
    issued_lines = StatementLine.objects.filter(statement__status__in=Statement.ISSUED_STATUSES)
    if trip_ids is not None:
        issued_lines = issued_lines.filter(trip_id__in=trip_ids)
    for trip_id, approved_at, day, metres in issued_lines.values_list(
        "trip_id", "statement__approved_at", "day", "eligible_m"
    ):
        lines[trip_id].append((approved_at, day, metres))
    checked_ids = set(lines) if trip_ids is None else set(trip_ids)
    trips = (
        Trip.objects.filter(pk__in=checked_ids, current_verification__isnull=False)
        .select_related("current_verification")
        .prefetch_related("days", "segments", "verifications")
        .order_by("pk")
    )
    findings: list[VersionFinding] = []
    checked = 0
    audited = _audited_versions(checked_ids)
    for trip in trips.iterator(chunk_size=500):
        checked += 1
        version = trip.current_verification
        assert version is not None  # noqa: S101 - filtered above
        if version.trip_id != trip.pk or (
            version.number > 1 and (str(trip.pk), version.pk) not in audited
        ):
            findings.append(
                VersionFinding(
                    trip.pk,
                    "current version",
                    "one made through the audited path",
                    f"version {version.number} (id {version.pk})",
                )
            )
        for figure, want, have in _current(trip, version):
            if want != have:
                findings.append(VersionFinding(trip.pk, figure, str(want), str(have)))
        versions = list(trip.verifications.all())
        for approved_at, day, metres in lines.get(trip.pk, []):
            then = _at_approval(versions, approved_at)
            want = _version_days(then).get(day.isoformat(), (None, None))[1] if then else None
            if want != metres:
                findings.append(
                    VersionFinding(
                        trip.pk,
                        f"statement line {day} eligible_m",
                        f"{want} (version {then.number if then else '-'})",
                        str(metres),
                    )
                )
    return checked, findings


def refuse_unaudited(*, trip_ids: Collection[int]) -> None:
    """Refuse to pay from trips whose stored figures are not their audited current
    version's (or whose issued lines do not follow from the version approved on), naming
    each trip and figure. The computation asks it for the trips an adjustment would rest
    on. (Not approval for every trip it freezes: at ~1.6 ms a trip, a year of a million
    trips would add ~27 min; the nightly check covers them from issue on.)"""
    _checked, findings = version_check(trip_ids=trip_ids)
    if not findings:
        return
    raise ApplicationError(
        _(
            "Trip figures differ from their audited verification versions, so they cannot "
            "be paid: %(findings)s. Run check_ledger and restore the trips from their "
            "versions before computing the year."
        )
        % {
            "findings": "; ".join(
                _("trip #%(trip)s %(figure)s: version says %(expected)s, stored %(found)s")
                % {"trip": f.trip_id, "figure": f.figure, "expected": f.expected, "found": f.found}
                for f in findings
            )
        },
        field="year",
    )
