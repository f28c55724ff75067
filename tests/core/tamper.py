"""Changing chained records behind the application's back, as someone with the table
owner's database login would: triggers off for one transaction, then the chain's hashes
recomputed so every link looks right (a "consistent rewrite")."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction

from core.chain import GENESIS, link_hash
from core.models import ChainedModel, ChainHead
from tests.core.audit_guard import audit_guard_lifted


@contextmanager
def triggers_off() -> Iterator[None]:
    """Every table's triggers off for the block (PostgreSQL: replica role, as a superuser
    may; SQLite: the audit trail's triggers dropped and created again)."""
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            yield
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    else:
        with audit_guard_lifted(connection):
            yield


def raw(sql: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def rechain(model: type[ChainedModel]) -> None:
    """Recompute every link of `model`'s chain and its head from the rows as they are now
    (inside `triggers_off`)."""
    table = model._meta.db_table
    prev, seq = GENESIS, 0
    for record in model.objects.filter(chain_seq__isnull=False).order_by("chain_seq"):
        seq = record.chain_seq or 0
        sha = link_hash(model.CHAIN, seq, prev, record.chain_content())
        raw(
            f"UPDATE {table} SET chain_prev = %s, chain_sha256 = %s WHERE id = %s",  # noqa: S608
            [prev, sha, record.pk],
        )
        prev = sha
    ChainHead.objects.filter(name=model.CHAIN).update(seq=seq, sha256=prev)
