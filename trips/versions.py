"""A trip's verification versions (trips.models.TripVerification, append-only): the one
audited way its figures or outcome change. Processing writes a version of what it measured;
a decision (review, withdrawal) writes one with the current version's figures and the new
outcome. Used by trips.services only."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.services import transition
from operators.models import User

from .models import Trip, TripDay, TripSegment, TripVerification


def version_record(
    *,
    trip: Trip,
    to: str,
    data: dict[str, Any],
    days: list[TripDay],
    segments: list[TripSegment],
    actor: User | None,
    reason: str,
    created_at: datetime,
    decision: dict[str, Any] | None = None,
) -> Trip:
    """Move the trip to `to` with a new version of its result (the one audited way a trip's
    figures or outcome change: processing, review, a declared mode, withdrawal).

    A new version, never an edit of the last one; the trip points at it first, so the last
    version's days and segments are superseded rows when they go (the triggers of
    subsidies.0011 keep the current ones of a frozen trip).
    """
    version = verification_create(
        trip=trip,
        data=data,
        outcome=to,
        days=days,
        segments=segments,
        actor=actor,
        created_at=created_at,
    )
    trip = transition(
        instance=trip,
        to=to,
        actor=actor,
        reason=reason,
        data={**data, **(decision or {}), "current_verification": version},
    )
    TripDay.objects.filter(trip=trip).exclude(verification=version).delete()
    TripSegment.objects.filter(trip=trip).exclude(verification=version).delete()
    for day_row in days:
        day_row.verification = version
    for segment_row in segments:
        segment_row.verification = version
    TripDay.objects.bulk_create(days)
    TripSegment.objects.bulk_create(segments)
    return trip


def version_decide(
    *, trip: Trip, to: str, actor: User, reason: str, decision: dict[str, Any]
) -> Trip:
    """A decision on a verified trip (review, withdrawal): a new version with the current
    version's figures, as they were verified (never the trip's stored rows, which a change
    around the application may have altered), and the new outcome."""
    current = trip.current_verification
    if current is None:  # every processed trip has one (trips.0007 back-filled them)
        raise ApplicationError(_("This trip has not been verified yet."), field="status")
    data: dict[str, Any] = {
        name: getattr(current, name)
        for name in (
            "format",
            "started_at",
            "ended_at",
            "points_total",
            "points_used",
            "total_m",
            "autonomous_m",
            "eligible_m",
            "disengagements",
            "reasons",
            "params",
            "code_version",
        )
    }
    days = [
        TripDay(
            trip=trip,
            day=date.fromisoformat(day),
            autonomous_m=Decimal(auto_m),
            eligible_m=Decimal(eligible_m),
        )
        for day, auto_m, eligible_m in current.days
    ]
    segments = [
        TripSegment(trip=trip, segment_id=int(segment_id), eligible_m=Decimal(metres))
        for segment_id, metres in current.segments
    ]
    return version_record(
        trip=trip,
        to=to,
        data=data,
        days=days,
        segments=segments,
        actor=actor,
        reason=reason,
        created_at=timezone.now(),
        decision=decision,
    )


def verification_create(
    *,
    trip: Trip,
    data: dict[str, Any],
    outcome: str,
    days: list[TripDay],
    segments: list[TripSegment],
    actor: User | None,
    created_at: datetime,
) -> TripVerification:
    """The next version of a trip's verification result (append-only)."""
    last = trip.verifications.order_by("-number").values_list("number", flat=True).first()
    version = TripVerification(
        trip=trip,
        number=(last or 0) + 1,
        created_at=created_at,
        actor=actor,
        outcome=outcome,
        format=data["format"],
        started_at=data.get("started_at"),
        ended_at=data.get("ended_at"),
        points_total=data["points_total"],
        points_used=data["points_used"],
        total_m=data["total_m"],
        autonomous_m=data["autonomous_m"],
        eligible_m=data["eligible_m"],
        disengagements=data["disengagements"],
        days=[[d.day.isoformat(), str(d.autonomous_m), str(d.eligible_m)] for d in days],
        segments=[[s.segment_id, str(s.eligible_m)] for s in segments],
        reasons=data["reasons"],
        params=data["params"],
        code_version=data["code_version"],
    )
    version.full_clean(exclude=["trip"])
    version.save()
    return version
