"""`manage.py requeue_trips`: the stale-trip sweep by hand (Celery beat runs it every 5 min)."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from trips.services import trip_requeue_stale


class Command(BaseCommand):
    help = "Queue again the trips left waiting (broker down at upload, worker killed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=float,
            default=settings.TRIP_REQUEUE_AFTER_S,
            help="seconds a trip has waited (default TRIP_REQUEUE_AFTER_S)",
        )

    def handle(self, *args: Any, older_than: float, **options: Any) -> None:
        ids = trip_requeue_stale(older_than=timedelta(seconds=older_than))
        self.stdout.write(f"{len(ids)} trips queued")
