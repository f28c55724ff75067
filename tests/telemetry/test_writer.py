"""The fix store and its writer: duplicates kept once however they come, every field as
given, acknowledgements only once stored, and the latency figures the processes print."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from django.utils import timezone

from telemetry import services
from telemetry.models import Fix, RawArchive, Terminal
from telemetry.services import FixRow
from telemetry.writer import FixWriter, WriterStats
from tests.conftest import World


def terminal_of(world: World) -> Terminal:
    terminal, _code = services.terminal_register(
        actor=world.bureau,
        vehicle_id=world.vehicle_a.pk,
        protocol=Terminal.Protocol.MQTT,
        terminal_id=world.vehicle_a.vin,
    )
    return terminal


def row(terminal: Terminal, t: dt.datetime, **fields: object) -> FixRow:
    values: dict[str, object] = {
        "terminal_pk": terminal.pk,
        "vehicle_pk": terminal.vehicle_id,
        "t": t,
        "received_at": t + dt.timedelta(milliseconds=250),
        "lat": 37.86,
        "lon": 113.55,
        "autonomous": True,
    }
    return FixRow(**{**values, **fields})  # type: ignore[arg-type]


@pytest.mark.django_db
def test_a_batch_with_a_fix_twice_and_one_already_stored_keeps_each_once(world: World) -> None:
    """Through COPY and the staging table on PostgreSQL, INSERT OR IGNORE on SQLite."""
    terminal = terminal_of(world)
    t0 = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=10)
    services.fixes_store(rows=[row(terminal, t0)])
    batch = [
        row(terminal, t0, lat=1.0),  # already stored: the first one stays
        row(terminal, t0 + dt.timedelta(seconds=1)),
        row(terminal, t0 + dt.timedelta(seconds=1)),  # twice in the same batch
        row(
            terminal,
            t0 + dt.timedelta(seconds=2),
            autonomous=False,
            speed_kmh=36.5,
            hdop=0.8,
            satellites=14,
            odometer_m=12_345_600.0,
            backfill=True,
        ),
    ]
    assert services.fixes_store(rows=batch) == 4
    services.fixes_store(rows=batch)  # a whole batch again (a lost ack): nothing new
    fixes = list(Fix.objects.order_by("t"))
    assert [f.t for f in fixes] == [t0 + dt.timedelta(seconds=s) for s in range(3)]
    assert fixes[0].lat == 37.86
    last = fixes[2]
    assert (last.autonomous, last.speed_kmh, last.hdop, last.satellites) == (False, 36.5, 0.8, 14)
    assert (last.odometer_m, last.backfill) == (12_345_600.0, True)
    assert last.received_at == t0 + dt.timedelta(seconds=2, milliseconds=250)


@pytest.mark.django_db(transaction=True)
def test_the_writer_acknowledges_once_stored_and_archives_on_stop(world: World) -> None:
    terminal = terminal_of(world)
    t0 = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=10)
    writer = FixWriter(batch_s=0.02, archive_s=3600.0).start()
    acked = threading.Event()
    stored_when_acked: list[int] = []

    def ack() -> None:
        stored_when_acked.append(Fix.objects.count())
        acked.set()

    writer.put([row(terminal, t0)], [(terminal.pk, t0, "a message")], ack)
    assert acked.wait(10)
    writer.stop()
    assert stored_when_acked == [1]
    assert writer.stats.fixes_stored == 1
    assert writer.stats.latency_ms.total() == 1
    archive = RawArchive.objects.get()
    assert archive.messages == 1


def test_the_latency_percentiles_count_every_fix() -> None:
    stats = WriterStats(latency_ms=Counter({10: 98, 200: 1, 1500: 1}))
    assert stats.percentile(0.5) == 0.010
    assert stats.percentile(0.98) == 0.010
    assert stats.percentile(0.99) == 0.200
    assert stats.percentile(1.0) == 1.5
    assert WriterStats().percentile(0.99) == 0.0
    assert "p99 0.200 s" in stats.summary()


def test_stopping_with_the_database_away_ends_and_acknowledges_nothing() -> None:
    from django.db import OperationalError  # noqa: PLC0415

    def away(rows: object) -> None:
        raise OperationalError("the database is away")

    writer = FixWriter(batch_s=3600.0, store=away).start()  # flushed only by stop
    t0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
    acked: list[bool] = []
    fix = FixRow(1, 1, t0, t0, 37.86, 113.55, autonomous=True)
    writer.put([fix], (), lambda: acked.append(True))
    writer.stop()
    assert not writer._thread.is_alive()
    assert acked == []
    assert writer.stats.failures == 1
