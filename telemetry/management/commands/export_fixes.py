"""`manage.py export_fixes [--before DATE] [--commit]`: days of fixes past retention to
Parquet in storage (local disk or S3). A dry run lists the days unless told --commit, which
exports each day, checks the file against its hash, then drops the day from the database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db.models.functions import TruncDate
from django.utils import timezone

from telemetry.models import Fix
from telemetry.services import fixes_export_day


class Command(BaseCommand):
    help = "Export days of fixes older than TELEMETRY_FIX_RETENTION_DAYS to Parquet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", type=dt.date.fromisoformat, default=None)
        parser.add_argument("--commit", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        before = options["before"] or (
            timezone.now().astimezone(dt.UTC).date()
            - dt.timedelta(days=settings.TELEMETRY_FIX_RETENTION_DAYS)
        )
        cutoff = dt.datetime(before.year, before.month, before.day, tzinfo=dt.UTC)
        days = sorted(
            set(
                Fix.objects.filter(t__lt=cutoff)
                .annotate(day=TruncDate("t", tzinfo=dt.UTC))
                .values_list("day", flat=True)
            )
        )
        for day in days:
            if not options["commit"]:
                self.stdout.write(f"{day}: would export and drop")
                continue
            path, rows, sha256 = fixes_export_day(day=day, delete=True)
            self.stdout.write(f"{day}: {rows} fixes -> {path} sha256 {sha256}")
        if not options["commit"]:
            self.stdout.write("Dry run: nothing written. Add --commit to export and drop.")
