"""Live trips from the stored stream (no sockets: fixes stored through the service), the
upload-vs-stream cross-check, late fixes, and the database rules of the fix store."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.models import AuditRecord
from core.web import audit_trail
from telemetry import services
from telemetry.models import Fix, Terminal
from telemetry.services import FixRow
from tests.conftest import World
from tests.telemetry.live import drive_positions
from tests.trips.csvtrace import metres_per_degree_lat, straight_east
from trips import services as trip_services
from trips.live import close_live_trips
from trips.models import Trip

# Transactional: trips are verified once their upload commits (eager Celery, on_commit).
pytestmark = pytest.mark.django_db(transaction=True)

LAT = 37.86


def stream(world: World, start: dt.datetime, seconds: int, *, speed_ms: float = 10.0) -> Terminal:
    terminal, _code = services.terminal_register(
        actor=world.bureau,
        vehicle_id=world.vehicle_a.pk,
        protocol=Terminal.Protocol.MQTT,
        terminal_id=world.vehicle_a.vin,
    )
    services.fixes_store(
        rows=[
            FixRow(
                terminal_pk=terminal.pk,
                vehicle_pk=world.vehicle_a.pk,
                t=start + dt.timedelta(seconds=i),
                received_at=start + dt.timedelta(seconds=i, milliseconds=300),
                lat=lat,
                lon=lon,
                autonomous=True,
            )
            for i, (lat, lon) in enumerate(drive_positions(seconds, speed_ms))
        ]
    )
    return terminal


def test_a_stream_silent_for_the_idle_time_closes_into_a_trip(world: World) -> None:
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    stream(world, start, 100)
    (trip_id,) = close_live_trips()
    trip = Trip.objects.get(pk=trip_id)
    assert trip.source == Trip.Source.MQTT
    assert trip.status == Trip.Status.ACCEPTED
    assert abs(float(trip.total_m) - 1000.0) < 0.5  # 100 steps of 10 m


def test_two_drives_an_hour_apart_that_arrive_together_are_two_trips(world: World) -> None:
    # A blind-area backfill: the first drive's fixes reach the server only with the second's,
    # so no sweep saw the silence between them while it lasted.
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=3)
    terminal = stream(world, start, 100)
    later = start + dt.timedelta(hours=1)
    services.fixes_store(
        rows=[
            FixRow(
                terminal.pk,
                world.vehicle_a.pk,
                later + dt.timedelta(seconds=i),
                later + dt.timedelta(seconds=i, milliseconds=300),
                lat,
                lon,
                True,
            )
            for i, (lat, lon) in enumerate(drive_positions(50, 10.0))
        ]
    )

    trips = Trip.objects.filter(pk__in=close_live_trips()).order_by("started_at")

    assert [(t.started_at, t.status) for t in trips] == [
        (start, Trip.Status.ACCEPTED),
        (later, Trip.Status.ACCEPTED),
    ]
    assert [round(float(t.total_m)) for t in trips] == [1000, 500]


def second_terminal(
    world: World, start: dt.datetime, seconds: range, *, offset_s: float, north_m: float
) -> Terminal:
    """A JT/T 808 box on the same vehicle as `stream`'s MQTT feed: the same drive, its own
    receiver `north_m` north of the other's, reporting `offset_s` after it each second."""
    terminal, _code = services.terminal_register(
        actor=world.bureau,
        vehicle_id=world.vehicle_a.pk,
        protocol=Terminal.Protocol.JT808,
        terminal_id="013800000001",
    )
    positions = drive_positions(max(seconds) + 1)
    north = north_m / metres_per_degree_lat(LAT)
    services.fixes_store(
        rows=[
            FixRow(
                terminal_pk=terminal.pk,
                vehicle_pk=world.vehicle_a.pk,
                t=start + dt.timedelta(seconds=i + offset_s),
                received_at=start + dt.timedelta(seconds=i + offset_s, milliseconds=300),
                lat=positions[i][0] + north,
                lon=positions[i][1],
                autonomous=True,
            )
            for i in seconds
        ]
    )
    return terminal


def test_two_terminals_on_one_vehicle_make_one_track_not_a_zigzag(world: World) -> None:
    # The MQTT feed reports 101 fixes, the box 90, half a second later and 4 m north:
    # interleaved, each 10 m second would be two 6.4 m zigzags (1,280 m for 1,000).
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    stream(world, start, 100)
    second_terminal(world, start, range(90), offset_s=0.5, north_m=4.0)

    (trip_id,) = close_live_trips()
    trip = Trip.objects.get(pk=trip_id)
    assert trip.source == Trip.Source.MQTT  # the terminal with the most fixes
    assert abs(float(trip.total_m) - 1000.0) < 0.5
    assert trip.points_total == 101


def test_another_terminal_fills_only_the_main_ones_silence(world: World) -> None:
    # The MQTT feed is silent from 30 s to 90 s (a gap: no credit); the box, with fewer
    # fixes, covers 20 s to 100 s. Its fixes more than 5 s from the feed's fill the silence:
    # 34.5 s to 85.5 s, so every step stays within verification's 10 s.
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    feed = stream(world, start, 160)
    Fix.objects.filter(
        terminal=feed,
        t__gt=start + dt.timedelta(seconds=29),
        t__lt=start + dt.timedelta(seconds=91),
    ).delete()
    second_terminal(world, start, range(20, 101), offset_s=0.5, north_m=4.0)

    (trip_id,) = close_live_trips()
    trip = Trip.objects.get(pk=trip_id)
    assert trip.source == Trip.Source.MQTT  # 100 fixes against 81
    assert trip.points_total == 100 + 52  # 34.5 s to 85.5 s of the box's
    # 1,600 m driven: 290 + 690 m the feed's, 620 m through the filled silence, whose two
    # ends step 4 m north and back (5.5 s ≈ 55 m each, +0.15 m).
    assert abs(float(trip.total_m) - 1600.0) < 1.0


def test_a_stream_received_just_now_stays_open(world: World) -> None:
    start = timezone.now().replace(microsecond=0) - dt.timedelta(seconds=100)
    stream(world, start, 99)
    assert close_live_trips(now=start + dt.timedelta(seconds=120)) == []


def test_a_vehicle_standing_still_for_the_idle_time_closes_its_trip(
    world: World, settings: object
) -> None:
    start = timezone.now().replace(microsecond=0) - dt.timedelta(seconds=400)
    terminal = stream(world, start, 60)  # 600 m driven, then parked for 310 s
    last = Fix.objects.latest("t")
    services.fixes_store(
        rows=[
            FixRow(
                terminal_pk=terminal.pk,
                vehicle_pk=world.vehicle_a.pk,
                t=last.t + dt.timedelta(seconds=i),
                received_at=last.t + dt.timedelta(seconds=i),
                lat=last.lat,
                lon=last.lon,
                autonomous=True,
            )
            for i in range(1, 311)
        ]
    )
    # The last fix was received just now: not silent, but still for 310 s ≥ 300 s.
    assert len(close_live_trips(now=last.t + dt.timedelta(seconds=311))) == 1


def test_late_fixes_inside_a_closed_trip_change_nothing_silently(world: World) -> None:
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    terminal = stream(world, start, 100)
    (trip_id,) = close_live_trips()
    before = Trip.objects.get(pk=trip_id)
    versions = before.verifications.count()
    services.fixes_store(
        rows=[
            FixRow(
                terminal_pk=terminal.pk,
                vehicle_pk=world.vehicle_a.pk,
                t=start + dt.timedelta(seconds=s, milliseconds=500),
                received_at=timezone.now(),
                lat=LAT,
                lon=113.56,
                autonomous=True,
            )
            for s in (20, 50, 80)
        ]
    )
    assert close_live_trips() == []
    after = Trip.objects.get(pk=trip_id)
    assert (after.raw_sha256, after.total_m) == (before.raw_sha256, before.total_m)
    # Recorded once with their number, and verified again once, not once a fix.
    (backfill,) = AuditRecord.objects.filter(object_id=str(trip_id), action="live_backfill")
    assert backfill.changes == {"late_fixes": [None, 3]}
    assert after.verifications.count() == versions + 1
    # The trip page's audit trail says so in words.
    (shown,) = [
        e for e in audit_trail(user=world.bureau, obj=after) if e.action == "记录迟到的实时定位点"
    ]
    assert shown.reason == "该已结束行程时段内的定位点迟到；原始文件未改动。"
    assert [(c.label, c.new) for c in shown.changes] == [("迟到的定位点", "3")]


def test_a_late_fix_received_after_the_streams_newest_is_handled_once(world: World) -> None:
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    terminal = stream(world, start, 100)
    (trip_id,) = close_live_trips()
    now = timezone.now().replace(microsecond=0)

    def fix(t: dt.datetime, received_at: dt.datetime, lon: float) -> FixRow:
        return FixRow(terminal.pk, world.vehicle_a.pk, t, received_at, LAT, lon, True)

    # Driving again (received up to 0.7 s ago), then a late fix inside the closed trip,
    # received after all of them.
    services.fixes_store(
        rows=[
            fix(now - dt.timedelta(seconds=s), now - dt.timedelta(seconds=s - 0.3), 113.6 + s / 1e4)
            for s in range(10, 0, -1)
        ]
    )
    services.fixes_store(
        rows=[fix(start + dt.timedelta(seconds=50, milliseconds=500), now, 113.56)]
    )
    assert close_live_trips(now=now + dt.timedelta(seconds=1)) == []
    assert close_live_trips(now=now + dt.timedelta(seconds=2)) == []
    backfills = AuditRecord.objects.filter(object_id=str(trip_id), action="live_backfill")
    assert backfills.count() == 1


def test_an_upload_that_disagrees_with_the_stream_is_held_as_live_mismatch(world: World) -> None:
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=3)
    stream(world, start, 100)
    # The same minute and a half, uploaded 0.001° (≈ 111 m) further north: median 111 m > 20 m.
    data = straight_east(start=start, lat=LAT + 0.001, lon0=113.55, metres=1000.0)
    trip, _ = trip_services.trip_upload(actor=world.staff_a, vin=world.vehicle_a.vin, data=data)
    trip.refresh_from_db()
    assert trip.status == Trip.Status.NEEDS_REVIEW
    (reason,) = [r for r in trip.reasons if r["code"] == "live_mismatch"]
    assert reason["median_m"] > 100
    assert reason["live_km"] == pytest.approx(1.0, abs=0.001)


def test_an_upload_that_matches_the_stream_is_not_held(world: World) -> None:
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=3)
    stream(world, start, 100)
    data = straight_east(start=start, lat=LAT, lon0=113.55, metres=1000.0)
    trip, _ = trip_services.trip_upload(actor=world.staff_a, vin=world.vehicle_a.vin, data=data)
    trip.refresh_from_db()
    assert "live_mismatch" not in {r["code"] for r in trip.reasons}


def test_an_upload_is_compared_with_one_track_of_a_vehicle_with_two_terminals(
    world: World,
) -> None:
    # Both terminals' fixes interleaved measure 1.43 km for the 1 km drive: the honest
    # upload would differ by 30 % and be held.
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=3)
    stream(world, start, 100)
    second_terminal(world, start, range(90), offset_s=0.5, north_m=4.0)
    data = straight_east(start=start, lat=LAT, lon0=113.55, metres=1000.0)
    trip, _ = trip_services.trip_upload(actor=world.staff_a, vin=world.vehicle_a.vin, data=data)
    trip.refresh_from_db()
    assert "live_mismatch" not in {r["code"] for r in trip.reasons}

    moved = straight_east(start=start, lat=LAT + 0.001, lon0=113.55, metres=1000.0)
    other, _ = trip_services.trip_upload(actor=world.staff_a, vin=world.vehicle_a.vin, data=moved)
    other.refresh_from_db()
    (reason,) = [r for r in other.reasons if r["code"] == "live_mismatch"]
    assert reason["live_km"] == pytest.approx(1.0, abs=0.001)  # one track's, not 1.431


def test_the_database_keeps_a_fix_once_per_terminal_and_time(world: World) -> None:
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    terminal = stream(world, start, 0)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO telemetry_fix (terminal_id, vehicle_id, t, received_at, lat, lon, "
            "autonomous, backfill) VALUES (%s, %s, %s, %s, 37.86, 113.55, true, false)",
            [terminal.pk, world.vehicle_a.pk, start, start],
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions and triggers: PostgreSQL")
def test_on_postgresql_fixes_are_partitioned_by_day_and_archives_append_only(
    world: World,
) -> None:
    from telemetry.partitions import ensure_fix_partitions, partition_name  # noqa: PLC0415

    ensure_fix_partitions()
    # The fix's own UTC day names its partition; five minutes ago may be yesterday.
    at = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    day = at.astimezone(dt.UTC).date()
    stream(world, at, 0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM telemetry_fix")
        assert cursor.fetchone()[0] in {partition_name(day), "telemetry_fix_default"}
    archive = services.archive_write(
        terminal_pk=Terminal.objects.get().pk, day=day, lines=["a frame"]
    )
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE telemetry_rawarchive SET size = 0 WHERE id = %s", [archive.pk])


def test_a_day_past_retention_goes_to_parquet_and_leaves_the_database(world: World) -> None:
    import io  # noqa: PLC0415

    import pyarrow.parquet as pq  # noqa: PLC0415
    from django.core.files.storage import default_storage  # noqa: PLC0415
    from django.core.management import call_command  # noqa: PLC0415

    old = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)
    stream(world, old, 9)  # 10 fixes on 5 January
    out = io.StringIO()
    call_command("export_fixes", "--before", "2026-01-06", stdout=out)
    assert Fix.objects.count() == 10  # a dry run by default
    call_command("export_fixes", "--before", "2026-01-06", "--commit", stdout=out)
    assert Fix.objects.count() == 0
    path = out.getvalue().split("-> ")[1].split(" ")[0]
    with default_storage.open(path, "rb") as stored:
        assert pq.read_table(stored).num_rows == 10
