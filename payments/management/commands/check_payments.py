"""Re-derive payment batches and clawbacks now (the nightly task does the same)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from payments.integrity import payments_check


class Command(BaseCommand):
    help = "Check payment batches and clawbacks against the ledger; exit 1 on a mismatch."

    def handle(self, *args: Any, **options: Any) -> None:
        findings = payments_check()
        for finding in findings:
            self.stdout.write(str(finding))
        if findings:
            raise CommandError(f"{len(findings)} mismatch(es)")
        self.stdout.write("payments: clean")
