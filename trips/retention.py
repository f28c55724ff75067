"""Retention of a trip's raw file: which trips' files may go, and deleting one under the
rule (the hash, the verified totals, days and segments stay; docs/security.md)."""

from __future__ import annotations

from datetime import datetime

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.roles import ADMINISTER
from core.services import model_update, require
from operators.models import User

from .models import Trip

FINAL_STATUSES = (Trip.Status.ACCEPTED, Trip.Status.REJECTED)


def _trip_years(trip: Trip) -> set[int]:
    """The local years a trip's kilometres (or its upload) belong to."""
    years = {trip_day.day.year for trip_day in trip.days.all()}
    for moment in (trip.started_at, trip.ended_at, trip.received_at):
        if moment is not None:
            years.add(timezone.localdate(moment).year)
    return years


def raw_purge_candidates(*, received_before: datetime, held: set[tuple[int, int]]) -> list[Trip]:
    """Trips whose raw file may be deleted: received before the cut-off, in a final state,
    not purged yet, and no year of theirs held by an unissued statement of their company
    (`held`: (operator id, year) pairs), so a statement in the making can still be checked
    against the raw files behind it."""
    trips = (
        Trip.objects.filter(
            received_at__lt=received_before, status__in=FINAL_STATUSES, raw_purged_at__isnull=True
        )
        .order_by("pk")
        .prefetch_related("days")
    )
    return [
        trip
        for trip in trips
        if not any((trip.operator_id, year) in held for year in _trip_years(trip))
    ]


@transaction.atomic
def trip_raw_purge(*, trip_id: int, actor: User | None, reason: str) -> Trip:
    """Delete a final trip's raw file and full-resolution trace under the retention rule.

    The SHA-256, the verified totals, the per-day and per-segment metres stay; the trip is
    marked so downloads answer 410 and it is never verified again. Files are deleted once the
    mark is committed; the raw file only when no other unpurged trip has the same content
    (raw files are stored once per content). `actor` None is the system (the command).
    """
    if actor is not None:
        require(actor, ADMINISTER)
    trip = Trip.objects.select_for_update().get(pk=trip_id)
    if trip.raw_purged_at is not None:
        return trip
    if trip.status not in FINAL_STATUSES:
        raise ApplicationError(
            _("Only an accepted or rejected trip's raw file can be deleted."), field="status"
        )
    raw_path, trace_path = trip.raw_file.name or "", trip.trace_file.name or ""
    trip = model_update(
        instance=trip,
        data={"raw_purged_at": timezone.now(), "trace_file": ""},
        actor=actor,
        action="purge_raw",
        reason=reason,
    )

    def delete_files() -> None:
        # Checked after the commit, as late as possible: the same bytes may have been
        # uploaded for another vehicle meanwhile (a trip committed between this check and
        # the delete would still lose its file; docs/security.md).
        if not Trip.objects.filter(raw_file=raw_path, raw_purged_at__isnull=True).exists():
            default_storage.delete(raw_path)
        if trace_path:
            default_storage.delete(trace_path)

    transaction.on_commit(delete_files)
    return trip
