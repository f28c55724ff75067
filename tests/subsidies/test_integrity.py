"""Ledger integrity: issued statements frozen in the database (PostgreSQL triggers) and the
nightly consistency check that re-derives every issued statement."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from core.models import AuditRecord
from subsidies import computation, integrity, services, tasks
from subsidies.models import LedgerEntry, Statement, StatementLine
from tests.conftest import World
from tests.subsidies import factories
from trips.models import Trip

pytestmark = pytest.mark.django_db

DAY = dt.date(2024, 4, 1)


@pytest.fixture
def issued(world: World) -> Statement:
    """Two trips, 600 m and 400 m on one day, grade A: 1 km × 3.00 = 3.00, issued."""
    factories.trip(vehicle=world.vehicle_a, days={DAY: "600.00"})
    factories.trip(vehicle=world.vehicle_a, days={DAY: "400.00"})
    factories.grade(actor=world.bureau, operator=world.company_a, year=2024, grade="A")
    computation.statements_compute(year=2024)
    statement = Statement.objects.get(operator=world.company_a, year=2024)
    services.statement_approve(actor=world.finance, statement=statement)
    return services.statement_issue(actor=world.finance, statement=statement)


def tamper(sql: str, params: list[Any]) -> None:
    """Change rows behind the application's back, as a hand-typed SQL statement would."""
    with connection.cursor() as cursor:
        postgres = connection.vendor == "postgresql"
        if postgres:
            # The triggers would refuse (tested below); off for this transaction only.
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if postgres:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def broken_figures(check: integrity.LedgerCheck) -> set[str]:
    return {f.figure for f in check.broken}


# ---- the check -------------------------------------------------------------------------


def test_an_untouched_ledger_has_nothing_to_report(world: World, issued: Statement) -> None:
    services.statement_mark_paid(actor=world.finance, statement=issued)
    out = StringIO()
    call_command("check_ledger", stdout=out)
    assert out.getvalue().strip() == "1 issued statements checked: 0 broken, 0 pending adjustment"


def test_a_trip_reverified_after_issue_is_a_pending_adjustment_not_a_fault(
    world: World, issued: Statement
) -> None:
    trip = Trip.objects.get(eligible_m=Decimal("400.00"))
    factories.reverify(trip, {DAY: "150.00"})

    check = integrity.ledger_check()

    assert check.broken == []
    assert [(f.figure, f.expected, f.found) for f in check.pending] == [
        ("eligible_m", "750.00", "1000.00"),
        # 0.75 km × 3.00 = 2.25 now; 3.00 issued
        ("year's amount (yuan)", "2.25", "3.00"),
    ]
    assert all(f.statement_id == issued.pk for f in check.pending)


def test_a_pending_adjustment_names_the_adjustment_until_it_is_issued(
    world: World, issued: Statement
) -> None:
    factories.reverify(Trip.objects.get(eligible_m=Decimal("400.00")), {DAY: "150.00"})
    computation.statements_compute(year=2024)
    adjustment = Statement.objects.get(kind="adjustment")

    pending = integrity.ledger_check().pending
    assert pending != []
    assert all(str(adjustment.pk) in f.note for f in pending)

    services.statement_approve(actor=world.finance, statement=adjustment)
    services.statement_issue(actor=world.finance, statement=adjustment)
    check = integrity.ledger_check()
    assert check.statements == 2
    assert check.findings == []


def test_a_tampered_statement_amount_breaks_the_ledger(world: World, issued: Statement) -> None:
    tamper("UPDATE subsidies_statement SET amount_yuan = 30.00 WHERE id = %s", [issued.pk])

    check = integrity.ledger_check()

    found = {f.figure: (f.expected, f.found) for f in check.broken}
    assert found["amount_yuan"] == ("3.00", "30.00")
    assert found["ledger"] == ("accrual 30.00", "accrual 3.00")
    record = AuditRecord.objects.get(action="ledger_mismatch", changes__has_key="amount_yuan")
    assert record.object_id == str(issued.pk)
    assert record.actor is None


def test_a_tampered_line_no_longer_sums_to_the_statement(world: World, issued: Statement) -> None:
    tamper(
        "UPDATE subsidies_statementline SET eligible_m = 1.00 WHERE statement_id = %s "
        "AND eligible_m = 400.00",
        [issued.pk],
    )

    check = integrity.ledger_check()

    found = {f.figure: (f.expected, f.found) for f in check.broken}
    # lines: 600.00 + 1.00 = 601.00 m; 0.601 km × 3.00 = 1.803 → 1.80
    assert found["eligible_m"] == ("601.00", "1000.00")
    assert found["km"] == ("0.60100", "1.00000")
    assert found["year_total_yuan"] == ("1.80", "3.00")
    # the trips still say 1,000 m: nothing is pending against them
    assert check.pending[0].figure == "eligible_m"


def test_a_deleted_line_changes_the_trip_count(world: World, issued: Statement) -> None:
    tamper(
        "DELETE FROM subsidies_statementline WHERE statement_id = %s AND eligible_m = 400.00",
        [issued.pk],
    )
    assert {"trip_count", "eligible_m"} <= broken_figures(integrity.ledger_check())


def test_a_tampered_ledger_entry_is_reported(world: World, issued: Statement) -> None:
    tamper("UPDATE subsidies_ledgerentry SET amount_yuan = 0 WHERE statement_id = %s", [issued.pk])
    check = integrity.ledger_check()
    assert [(f.figure, f.expected, f.found) for f in check.broken] == [
        ("ledger", "accrual 3.00", "accrual 0.00")
    ]


def test_a_ledger_entry_for_a_statement_never_issued_is_reported(
    world: World, issued: Statement
) -> None:
    tamper(
        "UPDATE subsidies_statement SET status = 'approved', issued_at = NULL, issued_by_id = NULL "
        "WHERE id = %s",
        [issued.pk],
    )
    check = integrity.ledger_check()
    assert check.statements == 0
    assert [(f.figure, f.found) for f in check.broken] == [("ledger", "accrual 3.00")]


def test_the_command_exits_non_zero_and_prints_the_report_when_broken(
    world: World, issued: Statement
) -> None:
    tamper("UPDATE subsidies_ledgerentry SET amount_yuan = 0 WHERE statement_id = %s", [issued.pk])
    out = StringIO()
    # Found twice: by the ledger's hash chain, and against the statement's figures.
    with pytest.raises(CommandError, match="2 broken, 0 pending adjustment"):
        call_command("check_ledger", stdout=out)
    assert out.getvalue().startswith("BROKEN: ledger chain #1 ")
    assert f"BROKEN: statement {issued.pk} " in out.getvalue()
    assert "ledger: expected accrual 3.00, found accrual 0.00" in out.getvalue()


def test_the_nightly_task_logs_a_broken_ledger_at_error(
    world: World, issued: Statement, caplog: pytest.LogCaptureFixture
) -> None:
    tamper("UPDATE subsidies_ledgerentry SET amount_yuan = 0 WHERE statement_id = %s", [issued.pk])
    with caplog.at_level(logging.WARNING, logger="subsidies.integrity"):
        result = tasks.check_ledger.delay().get()
    # The ledger chain's fault and the statement's ledger figure.
    assert result == {"statements": 1, "broken": 2, "pending": 0}
    levels = [r.levelno for r in caplog.records if r.name == "subsidies.integrity"]
    assert levels == [logging.ERROR, logging.ERROR]


# ---- the database refuses (PostgreSQL) ---------------------------------------------------


@pytest.fixture
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the triggers exist on PostgreSQL only")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE subsidies_statement SET amount_yuan = 0 WHERE id = %s",
        "UPDATE subsidies_statement SET status = 'draft' WHERE id = %s",
        "UPDATE subsidies_statement SET paid_at = now() WHERE id = %s",
        "DELETE FROM subsidies_statement WHERE id = %s",
        "UPDATE subsidies_statementline SET eligible_m = 0 WHERE statement_id = %s",
        "DELETE FROM subsidies_statementline WHERE statement_id = %s",
        "INSERT INTO subsidies_statementline (statement_id, trip_id, day, eligible_m) "
        "SELECT %s, trip_id, day + 1, eligible_m FROM trips_tripday",
    ],
)
def test_postgresql_refuses_raw_sql_changes_to_an_issued_statement(
    postgres_only: None, issued: Statement, sql: str
) -> None:
    with pytest.raises(DatabaseError, match="statement"), transaction.atomic():
        connection.cursor().execute(sql, [issued.pk])
    assert Statement.objects.get(pk=issued.pk).amount_yuan == Decimal("3.00")
    assert StatementLine.objects.filter(statement=issued).count() == 2


def test_postgresql_lets_the_payment_be_recorded_once(
    postgres_only: None, world: World, issued: Statement
) -> None:
    paid = services.statement_mark_paid(actor=world.finance, statement=issued)
    assert paid.status == "paid"
    assert LedgerEntry.objects.filter(statement=issued).count() == 2
    with pytest.raises(DatabaseError, match="only its payment"), transaction.atomic():
        connection.cursor().execute(
            "UPDATE subsidies_statement SET paid_at = now() WHERE id = %s", [issued.pk]
        )


@pytest.mark.postgres
def test_the_check_outside_a_transaction_reads_one_snapshot_on_postgresql(
    transactional_db: None, world: World
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the repeatable-read snapshot is taken on PostgreSQL only")
    factories.trip(vehicle=world.vehicle_a, days={DAY: "1000.00"})
    factories.grade(actor=world.bureau, operator=world.company_a, year=2024, grade="A")
    computation.statements_compute(year=2024)
    statement = Statement.objects.get(operator=world.company_a)
    services.statement_approve(actor=world.finance, statement=statement)
    services.statement_issue(actor=world.finance, statement=statement)

    check = integrity.ledger_check()

    assert (check.statements, check.findings) == (1, [])
    assert not connection.in_atomic_block
