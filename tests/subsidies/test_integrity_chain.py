"""The ledger's hash chain, the heads printed on documents that leave the system, and
`manage.py verify_document`: a rewrite of the database with every hash recomputed still
does not match what was printed at issue."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command

from core.models import AuditRecord, ChainHead
from subsidies import computation, integrity, services
from subsidies.documents import HEAD_LINE, document_text, statement_head_lines
from subsidies.models import LedgerEntry, Statement
from tests.conftest import World, client_for
from tests.core.tamper import raw, rechain, triggers_off
from tests.subsidies import factories

pytestmark = pytest.mark.django_db

DAY = dt.date(2024, 4, 1)


@pytest.fixture
def issued(world: World) -> Statement:
    """One trip of 1,000 m, grade A: 1 km × 3.00 = 3.00, issued."""
    factories.trip(vehicle=world.vehicle_a, days={DAY: "1000.00"})
    factories.grade(actor=world.bureau, operator=world.company_a, year=2024, grade="A")
    computation.statements_compute(year=2024)
    statement = Statement.objects.get(operator=world.company_a, year=2024)
    services.statement_approve(actor=world.finance, statement=statement)
    return services.statement_issue(actor=world.finance, statement=statement)


def pdf_of(world: World, statement: Statement, tmp_path: Path) -> Path:
    response = client_for(world.finance).get(f"/api/v1/statements/{statement.pk}/pdf/")
    assert response.status_code == 200
    path = tmp_path / f"statement-{statement.pk}.pdf"
    path.write_bytes(response.content)
    return path


def verify(path: Path) -> str:
    out = StringIO()
    call_command("verify_document", str(path), stdout=out)
    return out.getvalue()


def test_ledger_entries_are_chained_and_the_issue_is_the_head(
    world: World, issued: Statement
) -> None:
    entry = LedgerEntry.objects.get(statement=issued)
    head = ChainHead.objects.get(name="ledger")
    assert (entry.chain_seq, head.seq, head.sha256) == (1, 1, entry.chain_sha256)

    services.statement_mark_paid(actor=world.finance, statement=issued)

    payment = LedgerEntry.objects.get(kind="payment")
    assert (payment.chain_seq, payment.chain_prev) == (2, entry.chain_sha256)


def test_the_statement_pdf_prints_the_ledger_and_audit_heads_at_issue(
    world: World, issued: Statement, tmp_path: Path
) -> None:
    entry = LedgerEntry.objects.get(statement=issued)
    created = AuditRecord.objects.get(
        action="create", object_id=str(entry.pk), changes__kind=[None, "accrual"]
    )

    text = document_text(pdf_of(world, issued, tmp_path).read_bytes())

    assert HEAD_LINE.findall(text) == [
        ("LEDGER", str(entry.chain_seq), entry.chain_sha256),
        ("AUDIT", str(created.chain_seq), created.chain_sha256),
    ]


def test_a_draft_statement_pdf_prints_no_head(world: World) -> None:
    factories.trip(vehicle=world.vehicle_a, days={DAY: "1000.00"})
    computation.statements_compute(year=2024)
    assert statement_head_lines(Statement.objects.get()) == []


def test_verify_document_confirms_an_untouched_statement(
    world: World, issued: Statement, tmp_path: Path
) -> None:
    path = pdf_of(world, issued, tmp_path)
    services.statement_mark_paid(actor=world.finance, statement=issued)  # the chains grow on

    assert verify(path).endswith(f"{path}: 2 chain head(s) match\n")


def test_a_consistent_rewrite_of_the_ledger_passes_the_check_but_not_the_printed_head(
    world: World, issued: Statement, tmp_path: Path
) -> None:
    path = pdf_of(world, issued, tmp_path)
    with triggers_off():
        # Who issued the accrual, rewritten; every ledger hash and the head recomputed.
        raw("UPDATE subsidies_ledgerentry SET actor_id = %s", [world.admin.pk])
        rechain(LedgerEntry)

    assert integrity.ledger_check().broken_count == 0  # every link follows
    with pytest.raises(CommandError, match="the document does not match"):
        verify(path)


def test_a_consistent_rewrite_of_the_audit_trail_is_found_by_the_printed_head(
    world: World, issued: Statement, tmp_path: Path
) -> None:
    path = pdf_of(world, issued, tmp_path)
    approval = AuditRecord.objects.get(
        action="approved",
        content_type=ContentType.objects.get_for_model(Statement),
        object_id=str(issued.pk),
    )
    with triggers_off():
        # Who approved the statement, rewritten, and the audit chain recomputed after it.
        raw(
            "UPDATE yangquan_av_auditrecord SET actor_id = %s WHERE id = %s",
            [world.admin.pk, approval.pk],
        )
        rechain(AuditRecord)
    out = StringIO()

    with pytest.raises(CommandError, match="1 fault"):
        call_command("verify_document", str(path), stdout=out)
    assert "BROKEN: audit chain #" in out.getvalue()
    assert "ledger chain #1" in out.getvalue()  # the ledger was not touched: its head matches


def test_a_change_without_rehashing_is_found_by_the_nightly_check(
    world: World, issued: Statement
) -> None:
    with triggers_off():
        raw("UPDATE subsidies_ledgerentry SET actor_id = %s", [world.admin.pk])
    out = StringIO()

    with pytest.raises(CommandError, match="1 broken"):
        call_command("check_ledger", stdout=out)
    assert out.getvalue().startswith("BROKEN: ledger chain #1 ")


def test_the_public_notice_carries_the_heads_of_the_year_and_verifies(
    world: World, issued: Statement, tmp_path: Path
) -> None:
    response = client_for(world.finance).get("/api/v1/statements/public-notice/", {"year": 2024})
    path = tmp_path / "notice.csv"
    path.write_bytes(response.content)

    assert HEAD_LINE.findall(document_text(response.content))[0][0] == "LEDGER"
    assert verify(path).endswith("2 chain head(s) match\n")


def test_a_document_without_a_head_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("operator_name\n甲公司\n")
    with pytest.raises(CommandError, match="1 fault"):
        verify(path)
