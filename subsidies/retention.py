"""Retention of raw trip files: which may go, and deleting them when told to."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from recorder.selectors import covers_incident, incident_times
from trips import retention as trip_retention
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
    trips = trip_retention.raw_purge_candidates(
        received_before=timezone.now() - older_than, held=held
    )
    trips = _without_incidents(trips)
    if commit:
        for trip in trips:
            trip_retention.trip_raw_purge(
                trip_id=trip.pk,
                actor=None,
                reason=f"Retention: raw files are kept {older_than.days} days.",
            )
    return trips


def _without_incidents(trips: list[Trip]) -> list[Trip]:
    """Keep the raw file of a trip holding an incident (or the 90 s before one) for
    INCIDENT_RAW_RETENTION_DAYS after the incident, whatever the retention says."""
    since = timezone.now() - dt.timedelta(days=settings.INCIDENT_RAW_RETENTION_DAYS)
    incidents = incident_times(vehicle_ids=sorted({t.vehicle_id for t in trips}), since=since)
    return [
        trip
        for trip in trips
        if not covers_incident(trip.started_at, trip.ended_at, incidents.get(trip.vehicle_id, []))
    ]
