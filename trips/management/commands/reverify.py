"""`manage.py reverify`: verify trips again from their raw files (e.g. after a correction)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from trips.models import Trip
from trips.services import trip_reverify


class Command(BaseCommand):
    help = "Queue trips for verification from their raw files again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--trip", type=int, action="append", default=[], help="trip id")
        parser.add_argument("--all", action="store_true", help="every processed trip")
        parser.add_argument("--reason", required=True)

    def handle(self, *args: Any, trip: list[int], all: bool, reason: str, **options: Any) -> None:
        if not trip and not all:
            raise CommandError("--trip or --all: say which trips")
        trips = Trip.objects.exclude(
            status__in=[Trip.Status.RECEIVED, Trip.Status.PROCESSING]
        ).filter(raw_purged_at__isnull=True)  # no raw file left to verify from
        if trip:
            trips = trips.filter(pk__in=trip)
        ids = list(trips.values_list("pk", flat=True))
        for pk in tqdm(ids, unit="trip"):
            trip_reverify(actor=None, trip=Trip.objects.get(pk=pk), reason=reason)
        self.stdout.write(f"{len(ids)} trips queued")
