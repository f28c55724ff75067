"""`manage.py purge_raw_tracks [--commit]`: the retention rule for raw trip files
(`subsidies.retention.raw_tracks_purge`). A dry run that lists what would go unless
`--commit` is given, like the segment import."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from subsidies.retention import raw_tracks_purge


class Command(BaseCommand):
    help = (
        "List raw trip files (and full traces) older than TRIP_RAW_RETENTION_DAYS of accepted "
        "or rejected trips; with --commit, delete them, keeping their SHA-256 and verified "
        "totals."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--commit", action="store_true", help="delete the files (default: only list them)"
        )

    def handle(self, *args: Any, commit: bool, **options: Any) -> None:
        days = settings.TRIP_RAW_RETENTION_DAYS
        if days is None:
            raise CommandError("TRIP_RAW_RETENTION_DAYS is not set: raw files are kept forever.")
        trips = raw_tracks_purge(older_than=timedelta(days=days), commit=commit)
        for trip in trips:
            self.stdout.write(f"trip {trip.pk} {trip.raw_sha256} {trip.raw_size} bytes")
        if commit:
            self.stdout.write(f"{len(trips)} raw files deleted")
        else:
            self.stdout.write(
                f"{len(trips)} raw files would be deleted (dry run; --commit deletes them)"
            )
