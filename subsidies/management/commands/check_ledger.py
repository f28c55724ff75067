"""python manage.py check_ledger — re-derive every issued statement; exit 1 if the ledger
is broken (pending adjustments are reported but are not faults)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from subsidies.integrity import ledger_check


class Command(BaseCommand):
    help = (
        "Re-derive every issued statement from its lines, its trips and the ledger, and "
        "report mismatches (exit status 1 when the ledger is broken)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        check = ledger_check()
        for finding in check.findings:
            self.stdout.write(str(finding))
        for a, b in check.overlaps:
            self.stdout.write(f"BROKEN: accepted trips {a} and {b} of one vehicle overlap")
        summary = (
            f"{check.statements} issued statements checked: {len(check.broken)} broken, "
            f"{len(check.pending)} pending adjustment"
        )
        if check.overlaps:
            summary += f", {len(check.overlaps)} overlap(s) of accepted trips"
        if check.broken or check.overlaps:
            raise CommandError(summary)
        self.stdout.write(summary)
