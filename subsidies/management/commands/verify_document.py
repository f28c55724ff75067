"""python manage.py verify_document FILE — check the hash-chain heads printed on a statement
PDF (or a public-notice CSV) against the chains; exit 1 if any does not match."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from subsidies.documents import document_verify


class Command(BaseCommand):
    help = (
        "Check the chain heads printed on a statement PDF or public-notice CSV against the "
        "ledger and audit chains, recomputed from their first record (exit status 1 when "
        "they do not match)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the document as it left the system")

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror}") from error
        check = document_verify(data)
        for line in check.confirmed:
            self.stdout.write(line)
        for fault in check.faults:
            self.stdout.write(fault)
        if check.faults:
            raise CommandError(f"{file}: {len(check.faults)} fault(s); the document does not match")
        self.stdout.write(f"{file}: {len(check.confirmed)} chain head(s) match")
