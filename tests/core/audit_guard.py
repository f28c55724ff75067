"""Emptying the test database between transactional tests, past the audit trail's guard.

The audit table refuses DELETE (both vendors) and TRUNCATE (PostgreSQL) from every client
(core/migrations/0002_audit_append_only.py), so Django's `flush`, which a transactional
test (`transactional_db`, `django_db(transaction=True)`, the live server, the Celery
worker fixture) runs when it ends, would be refused. Here, and only in the test run, the
flush runs with the table's triggers lifted as its owner would lift them: DDL
(`ALTER TABLE … DISABLE TRIGGER`; SQLite has no such thing, so the triggers are dropped and
created again from the migration's own SQL), in one transaction with the flush, so the
triggers are back when it commits, or nothing happened. Nothing in the triggers themselves
knows about tests: no session setting or database name opens them.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import TransactionTestCase

_migration = importlib.import_module("core.migrations.0002_audit_append_only")
TABLE = "yangquan_av_auditrecord"
# Other triggers that refuse the DELETE of SQLite's flush (PostgreSQL's flush is a
# TRUNCATE, which they leave to the owner): trip verification versions, and the figures
# of trips under an approved statement.
_SQLITE_ALSO = [
    importlib.import_module("trips.migrations.0008_trip_verification_append_only"),
    importlib.import_module("subsidies.migrations.0011_frozen_trip_figures"),
]


@contextmanager
def audit_guard_lifted(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """The audit table's triggers off for the block, in one transaction with it."""
    postgres = connection.vendor == "postgresql"
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            if postgres:
                cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
            else:
                for migration in (_migration, *_SQLITE_ALSO):
                    for sql in migration.SQLITE_DROP:
                        cursor.execute(sql)
        yield
        with connection.cursor() as cursor:
            if postgres:
                cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
            else:
                for migration in (_migration, *_SQLITE_ALSO):
                    for sql in migration.SQLITE_CREATE:
                        cursor.execute(sql)


@pytest.fixture(autouse=True, scope="session")
def flush_past_the_audit_guard() -> Iterator[None]:
    """Every transactional test's closing flush runs with the audit guard lifted."""
    # Django's own hook for the flush; the stubs leave private methods out.
    flush = TransactionTestCase._fixture_teardown  # type: ignore[attr-defined]

    def fixture_teardown(self: TransactionTestCase) -> None:
        with audit_guard_lifted(connections[DEFAULT_DB_ALIAS]):
            flush(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TransactionTestCase, "_fixture_teardown", fixture_teardown)
        yield
