"""python manage.py check_ledger — re-derive every issued statement and walk the hash
chains; exit 1 if anything is broken (pending adjustments are reported but are not faults)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from subsidies.integrity import ledger_check


class Command(BaseCommand):
    help = (
        "Re-derive every issued statement from its lines, its trips and the ledger, and "
        "report mismatches (exit status 1 when the ledger is broken)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--deep",
            action="store_true",
            help="also verify every trip of an issued statement again from its raw file",
        )
        parser.add_argument(
            "--year", type=int, default=None, help="with --deep: only that year's statements"
        )

    def handle(self, *args: Any, deep: bool, year: int | None, **options: Any) -> None:
        check = ledger_check(deep=deep, year=year)
        for fault in [*check.chain_faults, *check.version_findings]:
            self.stdout.write(str(fault))
        if check.deep is not None:
            for deep_finding in check.deep.findings:
                self.stdout.write(str(deep_finding))
            self.stdout.write(
                f"deep: {check.deep.trips} trips verified again from their raw files in "
                f"{check.deep.seconds:.1f} s ({check.deep.purged} with the raw file purged)"
            )
        for finding in check.findings:
            self.stdout.write(str(finding))
        for a, b in check.overlaps:
            self.stdout.write(f"BROKEN: accepted trips {a} and {b} of one vehicle overlap")
        summary = (
            f"{check.statements} issued statements checked: {check.broken_count} broken, "
            f"{len(check.pending)} pending adjustment"
        )
        if check.overlaps:
            summary += f", {len(check.overlaps)} overlap(s) of accepted trips"
        if check.broken_count:
            raise CommandError(summary)
        self.stdout.write(summary)
