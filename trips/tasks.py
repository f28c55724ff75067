"""Celery tasks for trips: thin, idempotent, safe to retry (acks late)."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(
    name="trips.process_trip",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def process_trip(trip_id: int) -> None:
    services.trip_process(trip_id=trip_id)
