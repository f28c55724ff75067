"""`manage.py purge_raw_tracks [--dry-run]`: the retention rule for raw trip files.

Here, not in trips, because the rule looks at statements: a year that a draft or approved
statement is still being made from keeps its raw files until the statement is issued.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from subsidies.models import Statement
from trips.services import raw_purge_candidates, trip_raw_purge


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
        held = set(
            Statement.objects.filter(
                status__in=[Statement.Status.DRAFT, Statement.Status.APPROVED]
            ).values_list("operator_id", "year")
        )
        trips = raw_purge_candidates(
            received_before=timezone.now() - timedelta(days=days), held=held
        )
        for trip in trips:
            if not dry_run:
                trip_raw_purge(
                    trip_id=trip.pk,
                    actor=None,
                    reason=f"Retention: raw files are kept {days} days.",
                )
            self.stdout.write(f"trip {trip.pk} {trip.raw_sha256} {trip.raw_size} bytes")
        verb = "would be deleted" if dry_run else "deleted"
        self.stdout.write(f"{len(trips)} raw files {verb}")
