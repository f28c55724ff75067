"""Celery tasks for trips: thin, idempotent, safe to retry (acks late)."""

import ctypes
import sys
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from core.tasks import RETRYING

from . import services

# glibc's malloc keeps the pages of freed blocks in the process: after a big trip, the
# arrays it released stay resident and the next trip's file comes on top of them.
# malloc_trim hands them back (figures in bench/README.md). Other C libraries: nothing to do.
_MALLOC_TRIM = getattr(ctypes.CDLL(None), "malloc_trim", None) if sys.platform == "linux" else None


def release_free_memory() -> None:
    """Hand the C heap's free pages back to the OS, once a trip is done with them."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


@shared_task(name="trips.process_trip", **RETRYING)
def process_trip(trip_id: int) -> None:
    try:
        services.trip_process(trip_id=trip_id)
    finally:
        release_free_memory()


@shared_task(name="trips.requeue_stale")
def requeue_stale() -> int:
    """Celery beat's sweep (settings.CELERY_BEAT_SCHEDULE): trips whose message was lost."""
    return len(
        services.trip_requeue_stale(older_than=timedelta(seconds=settings.TRIP_REQUEUE_AFTER_S))
    )


@shared_task(name="trips.close_live_trips")
def close_live_trips() -> int:
    """Celery beat's sweep (settings.CELERY_BEAT_SCHEDULE): live streams that fell silent or
    stood still become trips (trips.live)."""
    from . import live  # noqa: PLC0415 - live imports services, as this module does

    return len(live.close_live_trips())
