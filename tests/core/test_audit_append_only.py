"""The audit trail is append-only in the database (core/migrations/0002_audit_append_only):
raw SQL from any client may add a record, never change or remove one."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from core.models import AuditRecord
from tests.conftest import World
from tests.core.audit_guard import audit_guard_lifted

pytestmark = pytest.mark.django_db


@pytest.fixture
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE and pg_trigger exist on PostgreSQL only")


@pytest.fixture
def sqlite_only() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("sqlite_master exists on SQLite only")


def raw(sql: str, params: list[int] | None = None) -> None:
    """One statement as a hand-typed SQL session would send it, in a savepoint of its own
    (a refused statement aborts PostgreSQL's transaction)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def reasons() -> list[str]:
    return list(AuditRecord.objects.order_by("pk").values_list("reason", flat=True))


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE yangquan_av_auditrecord SET reason = 'x'",
        "UPDATE yangquan_av_auditrecord SET reason = 'x' WHERE id = (SELECT MIN(id) FROM "
        "yangquan_av_auditrecord)",
        "DELETE FROM yangquan_av_auditrecord",
        "DELETE FROM yangquan_av_auditrecord WHERE id = (SELECT MIN(id) FROM "
        "yangquan_av_auditrecord)",
    ],
)
def test_raw_sql_cannot_change_or_delete_an_audit_record(world: World, sql: str) -> None:
    before = reasons()
    assert before  # the world's creation is audited

    with pytest.raises(DatabaseError, match="append-only"):
        raw(sql)

    assert reasons() == before


def test_raw_sql_can_still_add_an_audit_record(world: World) -> None:
    record = AuditRecord.objects.order_by("pk").first()
    assert record is not None
    count = AuditRecord.objects.count()

    raw(
        "INSERT INTO yangquan_av_auditrecord "
        "(at, action, content_type_id, object_id, object_repr, changes, reason) "
        "SELECT at, 'note', content_type_id, object_id, object_repr, changes, 'by hand' "
        "FROM yangquan_av_auditrecord WHERE id = %s",
        [record.pk],
    )

    assert AuditRecord.objects.count() == count + 1
    assert AuditRecord.objects.filter(action="note", reason="by hand").exists()


@pytest.mark.parametrize(
    "sql",
    [
        "TRUNCATE yangquan_av_auditrecord",
        # Another table's TRUNCATE that cascades to the audit trail.
        "TRUNCATE operators_user CASCADE",
    ],
)
def test_postgresql_refuses_truncating_the_audit_trail(
    postgres_only: None, world: World, sql: str
) -> None:
    before = reasons()
    # The world's rows were written in this test's transaction: PostgreSQL truncates no
    # table with deferred foreign-key checks pending, so run those first.
    raw("SET CONSTRAINTS ALL IMMEDIATE")

    with pytest.raises(DatabaseError, match="append-only"):
        raw(sql)

    assert reasons() == before


def test_postgresql_has_the_guard_enabled(postgres_only: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, tgenabled FROM pg_trigger "
            "WHERE tgrelid = 'yangquan_av_auditrecord'::regclass AND NOT tgisinternal "
            "ORDER BY tgname"
        )
        triggers = cursor.fetchall()
    # "O": fires in the ordinary (origin) replication role.
    assert triggers == [
        ("yangquan_av_auditrecord_append_only", "O"),
        ("yangquan_av_auditrecord_no_truncate", "O"),
    ]


def test_sqlite_has_the_guard_installed(sqlite_only: None) -> None:
    # SQLite drops triggers with their table: a migration that rebuilds it would lose them.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'yangquan_av_auditrecord' ORDER BY name"
        )
        triggers = [name for (name,) in cursor.fetchall()]
    assert triggers == ["yangquan_av_auditrecord_no_delete", "yangquan_av_auditrecord_no_update"]


def test_the_orm_refuses_too(world: World) -> None:
    with pytest.raises(TypeError, match="append-only"):
        AuditRecord.objects.all().delete()


@pytest.mark.django_db(transaction=True)
def test_a_flush_is_refused_unless_the_test_run_lifts_the_guard(world: World) -> None:
    # `manage.py flush` (TRUNCATE on PostgreSQL, DELETE on SQLite) cannot empty the trail.
    with pytest.raises(CommandError) as refused:
        call_command("flush", interactive=False, verbosity=0)
    assert "append-only" in str(refused.value.__cause__)
    assert AuditRecord.objects.exists()

    # What every transactional test's teardown does (tests/core/audit_guard.py).
    with audit_guard_lifted(connection):
        call_command("flush", interactive=False, verbosity=0)
    assert not AuditRecord.objects.exists()

    # The guard is back.
    AuditRecord.objects.create(
        action="note",
        content_type=ContentType.objects.get_for_model(AuditRecord),
        object_id="1",
        object_repr="after the flush",
    )
    with pytest.raises(DatabaseError, match="append-only"):
        raw("DELETE FROM yangquan_av_auditrecord")
    assert AuditRecord.objects.count() == 1
