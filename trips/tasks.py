"""Celery tasks for trips: thin, idempotent, safe to retry (acks late)."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from core.tasks import RETRYING

from . import services


@shared_task(name="trips.process_trip", **RETRYING)
def process_trip(trip_id: int) -> None:
    services.trip_process(trip_id=trip_id)


@shared_task(name="trips.requeue_stale")
def requeue_stale() -> int:
    """Celery beat's sweep (settings.CELERY_BEAT_SCHEDULE): trips whose message was lost."""
    return len(
        services.trip_requeue_stale(older_than=timedelta(seconds=settings.TRIP_REQUEUE_AFTER_S))
    )
