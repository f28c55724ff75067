"""Live trips: a vehicle's stream, once it falls silent or stands still, becomes a trip.

The closing sweep (`close_live_trips`) runs in the gateway and the ingest processes with
eager Celery, and under beat (task `trips.close_live_trips`) with a broker. For each vehicle
whose stream has fixes after where the sweep got to (`telemetry.Stream.closed_until`):

- no fix *received* for LIVE_TRIP_IDLE_S of wall-clock time, or the fixes of the last
  LIVE_TRIP_IDLE_S of fix time all within LIVE_STATIONARY_RADIUS_M of their centre: the
  fixes since the last close are written as a canonical CSV (docs/trip-formats.md) and
  become a Trip through `trip_upload`, the upload path (same hash, same verification), with
  `source` jt808 or mqtt; fixes that never moved make no trip;
- otherwise the trip is still open and waits.

Fixes a silence of LIVE_TRIP_IDLE_S or more of fix time lies between are separate trips,
even when they arrive together (a blind-area backfill, a second terminal, a sweep that did
not run in between).

A vehicle with two terminals (a JT/T 808 box and an MQTT feed) reports its positions twice,
from two receivers metres apart and at other instants: interleaved, the track would zigzag
between them and grow longer than the drive. A trip is one terminal's track, the one with
the most fixes of the drive (its `source`); another terminal's fixes only fill its silences
(`telemetry.selectors.one_track`).

A late fix (a lost ack sent again, a blind-area backfill) whose time falls inside a trip
already closed changes nothing silently: the trip's raw file is evidence and stays as it is;
the late fixes are recorded on the trip and it goes through audited re-verification
(`trip_reverify`). Late fixes outside every closed trip become a trip of their own.
The sweep looks at vehicles with a fix in the last LIVE_SWEEP_LOOKBACK_S of fix time (a day),
so a backfill of fixes older than that is stored but makes no trip (docs/telemetry.md).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core.geo import to_metric
from core.services import audit_record, model_update
from telemetry.models import Stream, Terminal
from telemetry.partitions import ensure_fix_partitions
from telemetry.selectors import (
    LiveFix,
    OpenStream,
    fixes_for_vehicle,
    live_fixes,
    one_track,
    streams_with_new_fixes,
    vehicle_of,
)
from telemetry.services import stream_advance, streams_advance_checked

from .models import Trip
from .services import trip_reverify, trip_upload

logger = logging.getLogger(__name__)

_SOURCE = {Terminal.Protocol.JT808: Trip.Source.JT808, Terminal.Protocol.MQTT: Trip.Source.MQTT}


def canonical_csv(fixes: Sequence[LiveFix]) -> bytes:
    """The canonical CSV of a track's fixes (`one_track`) in time order, one per instant (two
    terminals filling the same silence may share one: the first's)."""
    lines = ["timestamp,lat,lon,mode,speed_kmh,hdop,odometer_km"]
    last = None
    for fix in fixes:
        if fix.t == last:
            continue
        last = fix.t
        speed = "" if fix.speed_kmh is None else f"{fix.speed_kmh:.1f}"
        hdop = "" if fix.hdop is None else f"{fix.hdop:.1f}"
        odometer = "" if fix.odometer_m is None else f"{fix.odometer_m / 1000:.3f}"
        mode = "auto" if fix.autonomous else "manual"
        lines.append(
            f"{fix.t.isoformat()},{fix.lat:.7f},{fix.lon:.7f},{mode},{speed},{hdop},{odometer}"
        )
    return ("\n".join(lines) + "\n").encode()


def _extent_m(fixes: Sequence[LiveFix]) -> float:
    """The largest distance of a fix from the fixes' centre."""
    x, y = to_metric(
        np.array([f.lon for f in fixes]), np.array([f.lat for f in fixes]), settings.METRIC_CRS
    )
    return float(np.hypot(x - x.mean(), y - y.mean()).max())


def _stationary_tail(fixes: Sequence[LiveFix], idle: timedelta) -> bool:
    last_t = fixes[-1].t
    tail = [f for f in fixes if f.t >= last_t - idle]
    if len(tail) < 2 or tail[-1].t - tail[0].t < idle * 0.9:
        return False
    return bool(_extent_m(tail) <= settings.LIVE_STATIONARY_RADIUS_M)


def _may_stand_still(stream: OpenStream, idle: timedelta) -> bool:
    """Whether a stream not silent could satisfy the exact rule (its pending fixes of the
    last idle time within LIVE_STATIONARY_RADIUS_M of their centre), from its head alone;
    True means "read its fixes and apply the exact rule", False is certain."""
    if stream.closed_until is not None and stream.last_t - stream.closed_until < idle * 0.9:
        return False  # its pending fixes span less than the exact rule's 90 % of the idle time
    moved = stream.moved_at
    # Two of its pending fixes of the last idle time too far apart to lie in the circle.
    return not (
        moved is not None
        and moved >= stream.last_t - idle
        and (stream.closed_until is None or moved > stream.closed_until)
    )


def _drives(fixes: Sequence[LiveFix], idle: timedelta) -> list[Sequence[LiveFix]]:
    """The fixes cut where LIVE_TRIP_IDLE_S or more of fix time has none: a silence that
    arrived in one burst (a blind-area backfill, two terminals, a sweep that did not run
    meanwhile) is still a silence, and separate drives are separate trips."""
    if not fixes:
        return []
    cuts = [i for i in range(1, len(fixes)) if fixes[i].t - fixes[i - 1].t >= idle]
    return [fixes[a:b] for a, b in zip([0, *cuts], [*cuts, len(fixes)], strict=True)]


def _make_trips(fixes: Sequence[LiveFix], vehicle_pk: int, idle: timedelta) -> list[int]:
    """The trips of these fixes, a drive each; fixes that never moved make none."""
    made = (_make_trip(drive, vehicle_pk) for drive in _drives(fixes, idle))
    return [trip.pk for trip in made if trip is not None]


def _make_trip(fixes: Sequence[LiveFix], vehicle_pk: int) -> Trip | None:
    """The trip of these fixes (one track of them), through the upload path; None when they
    never moved."""
    fixes, protocol = one_track(fixes)
    if len({f.t for f in fixes}) < 2 or _extent_m(fixes) <= settings.LIVE_STATIONARY_RADIUS_M:
        return None
    vehicle = vehicle_of(vehicle_pk=vehicle_pk)
    source = _SOURCE[Terminal.Protocol(protocol)]
    data = canonical_csv(fixes)
    name = f"live-{source}-{vehicle.vin}-{fixes[0].t:%Y%m%dT%H%M%SZ}.csv"
    trip, created = trip_upload(
        actor=None, vin=vehicle.vin, data=data, original_name=name, declared_format="csv"
    )
    if created:
        trip = model_update(
            instance=trip,
            data={"source": source},
            actor=None,
            reason=_("Closed from the live stream."),
        )
    return trip


def _late_fixes(
    stream: Stream, since: datetime, idle: timedelta
) -> tuple[list[int], datetime | None]:
    """Handle fixes received since the last sweep with a time before `closed_until`;
    returns the trips made and the newest receipt handled."""
    if stream.closed_until is None or stream.checked_received_at is None:
        return [], None
    late = live_fixes(
        fixes_for_vehicle(
            vehicle_pk=stream.vehicle_id, after=since, until=stream.closed_until
        ).filter(received_at__gt=stream.checked_received_at)
    )
    if not late:
        return [], None
    loose: list[LiveFix] = []
    inside: dict[int, tuple[Trip, list[LiveFix]]] = {}
    trips = Trip.objects.filter(vehicle_id=stream.vehicle_id).exclude(source=Trip.Source.UPLOAD)
    for fix in late:
        trip = trips.filter(started_at__lte=fix.t, ended_at__gte=fix.t).first()
        if trip is None:
            loose.append(fix)
        else:
            inside.setdefault(trip.pk, (trip, []))[1].append(fix)
    # One record and one re-verification per trip, however many of its fixes came late.
    for trip, fixes in inside.values():
        audit_record(
            actor=None,
            obj=trip,
            action="live_backfill",
            changes={"late_fixes": [None, len(fixes)]},  # the fixes themselves are stored
            reason=_("Fixes inside this closed trip arrived late; the raw file is unchanged."),
        )
        trip_reverify(actor=None, trip=trip, reason=_("Live fixes inside the trip arrived late."))
    return _make_trips(loose, stream.vehicle_id, idle), max(fix.received_at for fix in late)


def _sweep_vehicle(vehicle_pk: int, now: datetime, idle: timedelta, since: datetime) -> list[int]:
    """Close one vehicle's trip if it is due, under its stream's lock: the grouped read
    only chose it; what it saw may have changed since (another sweep, new fixes)."""
    with transaction.atomic():
        # One sweep per vehicle at a time (the gateway's, the ingest's, beat's).
        Stream.objects.get_or_create(vehicle_id=vehicle_pk)
        locked = Stream.objects.select_for_update().get(vehicle_id=vehicle_pk)
        made, late_received = _late_fixes(locked, since, idle)
        pending = fixes_for_vehicle(vehicle_pk=vehicle_pk, after=locked.closed_until)
        latest = pending.aggregate(last_t=Max("t"), last_received_at=Max("received_at"))
        if latest["last_t"] is None:
            stream_advance(vehicle_pk=vehicle_pk, closed_until=None, checked_received_at=now)
            return made
        # Late fixes handled are checked too, even when received after every pending one
        # (else the next pass would handle them again).
        received = max(latest["last_received_at"], late_received or latest["last_received_at"])
        silent = now - received >= idle
        # The exact rule needs only the last idle time of fixes; all of them only to close.
        if not silent and not _stationary_tail(
            live_fixes(pending.filter(t__gte=latest["last_t"] - idle)), idle
        ):
            # Still open: late fixes were looked for up to now, nothing closes.
            stream_advance(vehicle_pk=vehicle_pk, closed_until=None, checked_received_at=received)
            return made
        fixes = live_fixes(pending)
        made += _make_trips(fixes, vehicle_pk, idle)
        stream_advance(
            vehicle_pk=vehicle_pk, closed_until=fixes[-1].t, checked_received_at=received
        )
        return made


def close_live_trips(*, now: datetime | None = None) -> list[int]:
    """Close every live trip that is due; returns the ids of the trips made.

    The terminals' heads (kept by the fix writer, telemetry.heads) say which vehicles are
    due (silent, or possibly standing still) or may have late fixes; only those are locked
    and have their fixes read. The others advance together (`streams_advance_checked`).
    """
    now = now or timezone.now()
    idle = timedelta(seconds=settings.LIVE_TRIP_IDLE_S)
    ensure_fix_partitions()
    since = now - timedelta(seconds=settings.LIVE_SWEEP_LOOKBACK_S)
    made: list[int] = []
    still_open = []
    for stream in streams_with_new_fixes(since=since):
        pending = stream.closed_until is None or stream.last_t > stream.closed_until
        due = pending and (now - stream.last_received_at >= idle or _may_stand_still(stream, idle))
        if not (due or stream.late):
            if stream.checked_received_at is None or (
                stream.last_received_at > stream.checked_received_at
            ):
                still_open.append(stream)
            continue
        try:
            made += _sweep_vehicle(stream.vehicle_pk, now, idle, since)
        except Exception:  # one vehicle's failure must not stop the others'
            logger.exception("Closing the live trip of vehicle %s failed.", stream.vehicle_pk)
    # Still open: their late fixes were looked for up to their latest receipt.
    streams_advance_checked(checked={s.vehicle_pk: s.last_received_at for s in still_open})
    return made
