"""Retention of raw trip files: which may go, and deleting them when told to."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from trips import services as trip_services
from trips.models import Trip

from .models import Statement


def raw_tracks_purge(*, older_than: dt.timedelta, commit: bool = False) -> list[Trip]:
    """List the raw files past the retention of final trips; delete them only if `commit`.

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
    if commit:
        for trip in trips:
            trip_services.trip_raw_purge(
                trip_id=trip.pk,
                actor=None,
                reason=f"Retention: raw files are kept {older_than.days} days.",
            )
    return trips
