"""python manage.py compute_subsidies --year 2025 — the annual computation, as the job runs it."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from subsidies.computation import statements_compute
from subsidies.selectors import current_year


class Command(BaseCommand):
    help = "Compute (or recompute) every company's subsidy statement for a year."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--year", type=int, default=None, help="calendar year (default: the current one)"
        )

    def handle(self, *args: Any, year: int | None, **options: Any) -> None:
        summary = statements_compute(year=year or current_year())
        self.stdout.write(
            f"{summary.year}: {len(summary.created)} created, {len(summary.updated)} updated, "
            f"{len(summary.unchanged)} unchanged, {len(summary.voided)} voided"
        )
