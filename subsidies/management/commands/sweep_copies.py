"""python manage.py sweep_copies [--year Y] — the dry report for finance before it issues a
year: every accepted trip not yet in an issued statement, checked again against all other
trips for overlaps, the same content and near copies. Writes nothing; exit 1 on findings."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from subsidies.integrity import copies_report


class Command(BaseCommand):
    help = (
        "Check every accepted trip not yet in an issued statement against all other trips "
        "(overlaps, same content, same fixes, near copies); a dry report, exit 1 on findings."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, help="only trips with days in this local year")

    def handle(self, *args: Any, **options: Any) -> None:
        report = copies_report(year=options["year"])
        for a, b in report.overlaps:
            self.stdout.write(f"trip {a} overlaps_accepted_trip trip {b}")
        for finding in report.findings:
            self.stdout.write(str(finding))
        summary = (
            f"{report.trips} accepted trips checked: {len(report.findings)} conflict(s), "
            f"{len(report.overlaps)} overlap(s) of accepted trips"
        )
        if report.findings or report.overlaps:
            raise CommandError(summary)
        self.stdout.write(summary)
