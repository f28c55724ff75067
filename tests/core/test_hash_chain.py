"""The audit trail's hash chain (core/chain.py, core.models.ChainedModel): every record
links to the one before it, under a lock, and the walk finds any record changed, added or
linked around the application."""

from __future__ import annotations

import itertools
import threading

import pytest
from django.db import connection, connections

from core.chain import GENESIS, link_hash
from core.models import AuditRecord, ChainHead, chain_walk
from core.services import audit_record
from operators.models import User
from tests.conftest import World, make_world
from tests.core.tamper import raw, rechain, triggers_off

pytestmark = pytest.mark.django_db


def faults() -> list[str]:
    return [str(fault) for fault in chain_walk(AuditRecord).faults]


def test_each_audit_record_links_to_the_one_before(world: World) -> None:
    records = list(AuditRecord.objects.order_by("chain_seq"))

    assert [r.chain_seq for r in records] == list(range(1, len(records) + 1))
    assert records[0].chain_prev == GENESIS
    assert all(b.chain_prev == a.chain_sha256 for a, b in itertools.pairwise(records))
    head = ChainHead.objects.get(name="audit")
    assert (head.seq, head.sha256) == (records[-1].chain_seq, records[-1].chain_sha256)


def test_a_record_hash_covers_its_content_its_place_and_the_record_before(world: World) -> None:
    record = AuditRecord.objects.order_by("chain_seq")[2]
    assert record.chain_seq == 3

    assert record.chain_sha256 == link_hash("audit", 3, record.chain_prev, record.chain_content())
    assert record.chain_sha256 != link_hash("audit", 4, record.chain_prev, record.chain_content())


def test_an_untouched_audit_chain_has_no_fault(world: World) -> None:
    assert faults() == []


def test_a_record_changed_with_the_triggers_off_is_found_by_its_hash(world: World) -> None:
    record = AuditRecord.objects.order_by("chain_seq")[1]
    with triggers_off():
        raw("UPDATE yangquan_av_auditrecord SET reason = 'changed' WHERE id = %s", [record.pk])

    assert faults() == [
        f"BROKEN: audit chain #2 (record {record.pk}): content does not match its hash"
    ]


def test_a_record_deleted_with_the_triggers_off_breaks_the_link_after_it(world: World) -> None:
    second, third = AuditRecord.objects.order_by("chain_seq")[1:3]
    with triggers_off():
        raw("DELETE FROM yangquan_av_auditrecord WHERE id = %s", [second.pk])

    assert faults() == [
        f"BROKEN: audit chain #3 (record {third.pk}): expected place 2",
        f"BROKEN: audit chain #3 (record {third.pk}): does not follow the record before it",
    ]


def test_a_record_inserted_by_hand_has_no_place_in_the_chain(world: World) -> None:
    raw(
        "INSERT INTO yangquan_av_auditrecord "
        "(at, action, content_type_id, object_id, object_repr, changes, reason) "
        "SELECT at, 'note', content_type_id, object_id, object_repr, changes, 'by hand' "
        "FROM yangquan_av_auditrecord WHERE chain_seq = 1"
    )
    added = AuditRecord.objects.get(action="note")

    assert faults() == [
        f"BROKEN: audit chain (outside the chain) (record {added.pk}): a record with no "
        "place in the chain"
    ]


def test_a_chain_head_moved_by_hand_is_found(world: World) -> None:
    ChainHead.objects.filter(name="audit").update(seq=1)

    assert len(faults()) == 1
    assert "the chain head says #1" in faults()[0]


def test_a_consistent_rewrite_passes_the_walk_so_only_a_printed_head_can_find_it(
    world: World,
) -> None:
    """What the chain alone cannot do: tests/subsidies/test_integrity_chain.py shows the
    document's printed head finding the same rewrite."""
    before = ChainHead.objects.get(name="audit").sha256
    with triggers_off():
        raw("UPDATE yangquan_av_auditrecord SET reason = 'changed' WHERE chain_seq = 2")
        rechain(AuditRecord)

    assert faults() == []
    assert ChainHead.objects.get(name="audit").sha256 != before


def test_audit_records_cannot_be_bulk_created(world: World) -> None:
    with pytest.raises(TypeError, match="chained one at a time"):
        AuditRecord.objects.bulk_create([AuditRecord(action="x")])


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_on_postgresql_never_fork_the_chain() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the row lock is PostgreSQL's")
    world = make_world()
    before = AuditRecord.objects.count()
    threads, per_thread = 6, 15
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def write(actor: User) -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                audit_record(actor=actor, obj=actor, action="note", reason="concurrent")
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=write, args=(world.finance,)) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    # 6 threads × 15 records, each with its own place: 90 more, one chain.
    assert AuditRecord.objects.count() == before + threads * per_thread
    assert faults() == []
    assert ChainHead.objects.get(name="audit").seq == before + threads * per_thread
