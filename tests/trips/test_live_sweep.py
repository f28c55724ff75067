"""The closing sweep at fleet scale: one pass over vehicles still driving reads no fix at
all (the terminals' heads say who is due) and costs the same number of queries for 5
vehicles as for 50; only vehicles that are due (silent, standing still) are locked and
read."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from telemetry import services
from telemetry.models import Stream, Terminal
from telemetry.partitions import ensure_fix_partitions
from telemetry.services import FixRow
from tests import factories
from tests.conftest import World
from tests.telemetry.live import drive_positions
from trips.live import close_live_trips
from trips.models import Trip

pytestmark = pytest.mark.django_db(transaction=True)


def fleet(world: World, count: int, start: dt.datetime, *, parked: int = 0) -> list[int]:
    """`count` vehicles streaming 400 s from `start` (the last `parked` of them stand still
    after 60 s); returns their pks."""
    pks = []
    rows = []
    for n in range(count):
        car = factories.vehicle(actor=world.bureau, operator=world.company_a)
        terminal, _code = services.terminal_register(
            actor=world.bureau,
            vehicle_id=car.pk,
            protocol=Terminal.Protocol.MQTT,
            terminal_id=car.vin,
        )
        positions = drive_positions(400)
        stops = n >= count - parked
        rows += [
            FixRow(
                terminal_pk=terminal.pk,
                vehicle_pk=car.pk,
                t=start + dt.timedelta(seconds=i),
                received_at=start + dt.timedelta(seconds=i, milliseconds=300),
                lat=positions[min(i, 60) if stops else i][0],
                lon=positions[min(i, 60) if stops else i][1],
                autonomous=True,
            )
            for i in range(401)
        ]
        pks.append(car.pk)
    services.fixes_store(rows=rows)
    return pks


def pass_queries(now: dt.datetime) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert close_live_trips(now=now) == []
    return [q["sql"] for q in queries.captured_queries]


def test_a_pass_over_moving_vehicles_reads_none_of_their_fixes(world: World) -> None:
    start = timezone.now().replace(microsecond=0) - dt.timedelta(seconds=400)
    now = start + dt.timedelta(seconds=401)  # the last fixes were received a second ago
    ensure_fix_partitions()  # so that both passes only check for them
    fleet(world, 5, start)
    few = pass_queries(now)
    fleet(world, 45, start)
    many = pass_queries(now)
    assert len(many) == len(few)
    assert not [sql for sql in many if "FROM telemetry_fix" in sql]  # no fix read at all
    reads = [sql for sql in many if "FROM telemetry_terminal" in sql]
    assert len(reads) == 1  # the one grouped read of the terminals' heads
    assert "GROUP BY" in reads[0]
    # Every stream advanced: the next pass reads or writes no stream through the ORM (which
    # quotes the table's name; the grouped read joins it unquoted).
    assert Stream.objects.filter(checked_received_at__isnull=False).count() == 50
    assert not [sql for sql in pass_queries(now) if 'telemetry_stream"' in sql]


def test_only_the_vehicles_that_are_due_close(world: World) -> None:
    start = timezone.now().replace(microsecond=0) - dt.timedelta(seconds=400)
    pks = fleet(world, 12, start, parked=2)
    now = start + dt.timedelta(seconds=401)
    made = close_live_trips(now=now)  # two parked for 340 s: their trips close
    assert sorted(Trip.objects.filter(pk__in=made).values_list("vehicle_id", flat=True)) == pks[-2:]
    # The others fall silent later: each closes once, into one trip.
    later = close_live_trips(now=now + dt.timedelta(seconds=300))
    assert (
        sorted(Trip.objects.filter(pk__in=later).values_list("vehicle_id", flat=True)) == (pks[:-2])
    )
    assert close_live_trips(now=now + dt.timedelta(seconds=600)) == []


def test_streams_advance_together_never_backwards(world: World) -> None:
    at = timezone.now().replace(microsecond=0)
    a, b = world.vehicle_a.pk, world.vehicle_b.pk
    services.stream_advance(vehicle_pk=a, closed_until=None, checked_received_at=at)
    services.streams_advance_checked(
        checked={a: at - dt.timedelta(seconds=5), b: at - dt.timedelta(seconds=5)}
    )
    checked = dict(Stream.objects.values_list("vehicle_id", "checked_received_at"))
    assert checked == {a: at, b: at - dt.timedelta(seconds=5)}  # b's stream made
    services.streams_advance_checked(checked={a: at + dt.timedelta(seconds=1)})
    assert Stream.objects.get(vehicle_id=a).checked_received_at == at + dt.timedelta(seconds=1)
