"""python manage.py check_ledger — re-derive every issued statement and walk the hash
chains; exit 1 if anything is broken (pending adjustments are reported but are not faults)."""

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
        for fault in check.chain_faults:
            self.stdout.write(str(fault))
        for finding in check.findings:
            self.stdout.write(str(finding))
        summary = (
            f"{check.statements} issued statements checked: {check.broken_count} broken, "
            f"{len(check.pending)} pending adjustment"
        )
        if check.broken_count:
            raise CommandError(summary)
        self.stdout.write(summary)
