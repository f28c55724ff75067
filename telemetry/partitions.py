"""Day partitions of the fix table on PostgreSQL (migration 0002; docs/telemetry.md)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


def partition_name(day: date) -> str:
    return f"telemetry_fix_{day:%Y%m%d}"


def ensure_fix_partitions(*, days_back: int = 1, days_ahead: int = 7) -> list[str]:
    """Create the UTC-day partitions from `days_back` before today to `days_ahead` after.

    Idempotent; a no-op off PostgreSQL. A day whose fixes already went to the default
    partition (a backfill older than the partitions) keeps them there: creating its
    partition would fail, so that day is skipped and logged.
    """
    if connection.vendor != "postgresql":
        return []
    today = timezone.now().astimezone(UTC).date()
    made = []
    for offset in range(-days_back, days_ahead + 1):
        day = today + timedelta(days=offset)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        name = partition_name(day)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT to_regclass(%s)", [name])
                if cursor.fetchone()[0] is not None:
                    continue
                # DDL takes no parameters: the bounds are our own dates, not input.
                end = start + timedelta(days=1)
                cursor.execute(
                    f"CREATE TABLE {name} PARTITION OF telemetry_fix "
                    f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
                )
            made.append(name)
        except DatabaseError:
            logger.warning("Fix partition %s not created (rows in the default?).", name)
    return made
