"""`manage.py purge_raw_tracks [--dry-run]`: the retention rule for raw trip files
(`subsidies.retention.raw_tracks_purge`)."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from subsidies.retention import raw_tracks_purge


class Command(BaseCommand):
    help = (
        "Delete raw trip files (and full traces) older than TRIP_RAW_RETENTION_DAYS of accepted "
        "or rejected trips, keeping their SHA-256 and verified totals."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="list, delete nothing")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        days = settings.TRIP_RAW_RETENTION_DAYS
        if days is None:
            raise CommandError("TRIP_RAW_RETENTION_DAYS is not set: raw files are kept forever.")
        trips = raw_tracks_purge(older_than=timedelta(days=days), dry_run=dry_run)
        for trip in trips:
            self.stdout.write(f"trip {trip.pk} {trip.raw_sha256} {trip.raw_size} bytes")
        verb = "would be deleted" if dry_run else "deleted"
        self.stdout.write(f"{len(trips)} raw files {verb}")
