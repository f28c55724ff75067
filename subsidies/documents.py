"""The hash-chain heads printed on documents that leave the system, and checking a document
against the chains (`manage.py verify_document FILE`).

A statement PDF carries, once issued, the head of the ledger chain at its issue (its own
accrual or adjustment entry) and of the audit chain (that entry's creation record); the
public-notice list carries the same for the newest issue of its year. A printed head is
found again only if every record up to it is unchanged: a rewrite of the whole database,
hashes recomputed, still changes the hash at the printed place.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType

from core.chain import ChainWalk
from core.models import AUDIT_CHAIN, AuditRecord, chain_walk

from .models import LedgerEntry, Statement

HEAD_LINE = re.compile(r"\b(LEDGER|AUDIT)-CHAIN #(\d+) ([0-9a-f]{64})\b")
ISSUE_KINDS = (LedgerEntry.Kind.ACCRUAL, LedgerEntry.Kind.ADJUSTMENT)


def _head_lines(entry: LedgerEntry | None) -> list[str]:
    if entry is None or entry.chain_seq is None:
        return []
    lines = [f"LEDGER-CHAIN #{entry.chain_seq} {entry.chain_sha256}"]
    created = (
        AuditRecord.objects.filter(
            content_type=ContentType.objects.get_for_model(LedgerEntry),
            object_id=str(entry.pk),
            action="create",
            chain_seq__isnull=False,
        )
        .order_by("chain_seq")
        .first()
    )
    if created is not None:
        lines.append(f"AUDIT-CHAIN #{created.chain_seq} {created.chain_sha256}")
    return lines


def statement_head_lines(statement: Statement) -> list[str]:
    """The chain heads at the statement's issue (none before it is issued)."""
    entry = (
        LedgerEntry.objects.filter(statement=statement, kind__in=ISSUE_KINDS)
        .order_by("chain_seq")
        .first()
    )
    return _head_lines(entry)


def year_head_lines(year: int) -> list[str]:
    """The chain heads at the newest issue of a year (the public-notice list)."""
    entry = (
        LedgerEntry.objects.filter(year=year, kind__in=ISSUE_KINDS, chain_seq__isnull=False)
        .order_by("-chain_seq")
        .first()
    )
    return _head_lines(entry)


@dataclass
class DocumentCheck:
    heads: list[tuple[str, int, str]] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    confirmed: list[str] = field(default_factory=list)


def document_text(data: bytes) -> str:
    """A PDF's text (pypdf), or a CSV's."""
    if data.startswith(b"%PDF"):
        from pypdf import PdfReader  # noqa: PLC0415 - only this command reads PDFs

        pages = PdfReader(io.BytesIO(data)).pages
        # Text in a two-byte (CID) font can come out with NULs between the characters.
        return "\n".join(page.extract_text() or "" for page in pages).replace("\x00", "")
    return data.decode("utf-8-sig", errors="replace")


def document_verify(data: bytes) -> DocumentCheck:
    """Each chain head printed in the document against the chain as it is now, recomputed
    from its first record."""
    check = DocumentCheck()
    check.heads = [
        (name.lower(), int(seq), sha) for name, seq, sha in HEAD_LINE.findall(document_text(data))
    ]
    if not check.heads:
        check.faults.append("no chain head printed in the document")
        return check
    walks: dict[str, ChainWalk] = {}
    for chain, seq, sha in check.heads:
        if chain not in walks:
            walks[chain] = chain_walk(AuditRecord if chain == AUDIT_CHAIN else LedgerEntry)
            check.faults += [str(fault) for fault in walks[chain].faults]
        found = walks[chain].hashes.get(seq)
        if found == sha:
            check.confirmed.append(f"{chain} chain #{seq} {sha}: found")
        else:
            check.faults.append(
                f"BROKEN: {chain} chain #{seq}: the document says {sha}, the chain has "
                f"{found or 'no such record'}"
            )
    return check
