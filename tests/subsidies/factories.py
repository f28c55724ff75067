"""Trips as verification leaves them: accepted, with metres per local day (and segment).

Rows are made directly, each trip with its verification version 1 as processing writes it:
verification is another app's job, the subsidy only reads them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Mapping
from decimal import Decimal

from django.utils import timezone

from core.services import audit_record
from operators.models import Operator, User, Vehicle
from routes.models import RoadSegment
from subsidies import services
from subsidies.models import Assessment
from trips.models import Trip, TripDay, TripSegment, TripVerification

_serial = itertools.count(1)


def segment(*, valid_from: dt.date, name: str = "") -> RoadSegment:
    """An approved zone, valid from a local day on."""
    return RoadSegment.objects.create(
        kind=RoadSegment.Kind.AREA,
        name=name or f"示范区{next(_serial)}",
        geometry={
            "type": "Polygon",
            "coordinates": [[[113.5, 37.8], [113.6, 37.8], [113.6, 37.9], [113.5, 37.8]]],
        },
        status=RoadSegment.Status.APPROVED,
        valid_from=timezone.make_aware(dt.datetime.combine(valid_from, dt.time.min)),
        approval_ref=f"阳交批{next(_serial)}",
    )


def trip(
    *,
    vehicle: Vehicle,
    days: Mapping[dt.date, str | Decimal | tuple[str | Decimal, str | Decimal]],
    status: str = Trip.Status.ACCEPTED,
    on_segment: RoadSegment | None = None,
) -> Trip:
    """A trip with eligible metres per day; a (autonomous, eligible) pair where they differ."""
    pairs = {
        day: (Decimal(m[0]), Decimal(m[1])) if isinstance(m, tuple) else (Decimal(m),) * 2
        for day, m in days.items()
    }
    autonomous = sum((a for a, _ in pairs.values()), Decimal(0))
    eligible = sum((e for _, e in pairs.values()), Decimal(0))
    first, last = min(pairs), max(pairs)
    serial = next(_serial)
    # Each trip its own half minute of the local day(s): one vehicle's accepted trips never
    # overlap in time (the database refuses it on PostgreSQL, the computation on SQLite).
    slot = dt.timedelta(minutes=serial % 1380)
    made = Trip.objects.create(
        operator=vehicle.operator,
        vehicle=vehicle,
        raw_sha256=hashlib.sha256(f"trip-{serial}".encode()).hexdigest(),
        raw_file=f"trips/test-{serial}.csv",
        raw_size=1000,
        crs=Trip.Crs.WGS84,
        format=Trip.Format.CSV,
        status=status,
        started_at=timezone.make_aware(dt.datetime.combine(first, dt.time.min) + slot),
        ended_at=timezone.make_aware(
            dt.datetime.combine(last, dt.time.min) + slot + dt.timedelta(seconds=30)
        ),
        total_m=autonomous,
        autonomous_m=autonomous,
        eligible_m=eligible,
    )
    segment_m = [[on_segment.pk, str(eligible)]] if on_segment is not None and eligible else []
    version = TripVerification.objects.create(
        trip=made,
        number=1,
        created_at=timezone.now(),
        outcome=status,
        total_m=autonomous,
        autonomous_m=autonomous,
        eligible_m=eligible,
        days=[[d.isoformat(), str(a), str(e)] for d, (a, e) in sorted(pairs.items())],
        segments=segment_m,
    )
    Trip.objects.filter(pk=made.pk).update(current_verification=version)
    made.current_verification = version
    TripDay.objects.bulk_create(
        TripDay(trip=made, verification=version, day=day, autonomous_m=a, eligible_m=e)
        for day, (a, e) in pairs.items()
    )
    if on_segment is not None and segment_m:
        TripSegment.objects.create(
            trip=made, verification=version, segment=on_segment, eligible_m=eligible
        )
    return made


def grade(*, actor: User, operator: Operator, year: int, grade: str) -> Assessment:
    return services.assessment_set(actor=actor, operator=operator, year=year, grade=grade)


def reject(trip: Trip) -> None:
    """What a review that rejects an accepted trip leaves behind (trips' own service does it)."""
    Trip.objects.filter(pk=trip.pk).update(status=Trip.Status.REJECTED)


def reverify(trip: Trip, days: Mapping[dt.date, str | Decimal]) -> None:
    """What verifying a trip again leaves behind (trips' job, trips.services.trip_process):
    a new version with new metres per day, the trip pointing at it (audited) and its days
    replaced.
    Never an edit of the rows a statement may rest on (subsidies migration 0009)."""
    current = {d.day: (d.autonomous_m, d.eligible_m) for d in trip.days.all()}
    current.update({day: (Decimal(m), Decimal(m)) for day, m in days.items()})
    autonomous = sum((a for a, _ in current.values()), Decimal(0))
    eligible = sum((e for _, e in current.values()), Decimal(0))
    total = max(Trip.objects.get(pk=trip.pk).total_m, autonomous)
    number = trip.verifications.count() + 1
    version = TripVerification.objects.create(
        trip=trip,
        number=number,
        created_at=timezone.now(),
        outcome=Trip.Status.ACCEPTED,
        total_m=total,
        autonomous_m=autonomous,
        eligible_m=eligible,
        days=[[d.isoformat(), str(a), str(e)] for d, (a, e) in sorted(current.items())],
    )
    previous = Trip.objects.get(pk=trip.pk).current_verification_id
    Trip.objects.filter(pk=trip.pk).update(
        current_verification=version, total_m=total, autonomous_m=autonomous, eligible_m=eligible
    )
    audit_record(
        actor=None,
        obj=trip,
        action="reverify",
        changes={"current_verification": [previous, version.pk]},
    )
    TripDay.objects.filter(trip=trip).exclude(verification=version).delete()
    TripDay.objects.bulk_create(
        TripDay(trip=trip, verification=version, day=d, autonomous_m=a, eligible_m=e)
        for d, (a, e) in current.items()
    )
