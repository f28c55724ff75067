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

A late fix (a lost ack sent again, a blind-area backfill) whose time falls inside a trip
already closed changes nothing silently: the trip's raw file is evidence and stays as it is;
the late fixes are recorded on the trip and it goes through audited re-verification
(`trip_reverify`). Late fixes outside every closed trip become a trip of their own.
The sweep looks at fixes of the last LIVE_SWEEP_LOOKBACK_S of fix time (a day by default),
so a backfill of fixes older than that is stored but makes no trip (docs/telemetry.md).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.geo import to_metric
from core.services import audit_record, model_update
from telemetry.models import Fix, Stream, Terminal
from telemetry.partitions import ensure_fix_partitions
from telemetry.selectors import OpenStream, fixes_for_vehicle, streams_with_new_fixes, vehicle_of
from telemetry.services import stream_advance

from .models import Trip
from .services import trip_reverify, trip_upload

logger = logging.getLogger(__name__)

_SOURCE = {Terminal.Protocol.JT808: Trip.Source.JT808, Terminal.Protocol.MQTT: Trip.Source.MQTT}


def canonical_csv(fixes: Sequence[Fix]) -> bytes:
    """The canonical CSV of fixes in time order (one per instant: the first terminal's)."""
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


def _extent_m(fixes: Sequence[Fix]) -> float:
    """The largest distance of a fix from the fixes' centre."""
    x, y = to_metric(
        np.array([f.lon for f in fixes]), np.array([f.lat for f in fixes]), settings.METRIC_CRS
    )
    return float(np.hypot(x - x.mean(), y - y.mean()).max())


def _stationary_tail(fixes: Sequence[Fix], idle: timedelta) -> bool:
    last_t = fixes[-1].t
    tail = [f for f in fixes if f.t >= last_t - idle]
    if len(tail) < 2 or tail[-1].t - tail[0].t < idle * 0.9:
        return False
    return bool(_extent_m(tail) <= settings.LIVE_STATIONARY_RADIUS_M)


def _make_trip(fixes: Sequence[Fix]) -> Trip | None:
    """The trip of these fixes, through the upload path; None when they never moved."""
    if len({f.t for f in fixes}) < 2 or _extent_m(fixes) <= settings.LIVE_STATIONARY_RADIUS_M:
        return None
    vehicle = vehicle_of(vehicle_pk=fixes[0].vehicle_id)
    source = _SOURCE[Terminal.Protocol(fixes[0].terminal.protocol)]
    data = canonical_csv(fixes)
    name = f"live-{source}-{vehicle.vin}-{fixes[0].t:%Y%m%dT%H%M%SZ}.csv"
    trip, created = trip_upload(
        actor=None, vin=vehicle.vin, data=data, original_name=name, declared_format="csv"
    )
    if created:
        trip = model_update(
            instance=trip, data={"source": source}, actor=None, reason="closed from the stream"
        )
    return trip


def _late_fixes(stream: OpenStream) -> list[int]:
    """Handle fixes received since the last sweep with a time before `closed_until`."""
    if stream.closed_until is None or stream.checked_received_at is None:
        return []
    late = list(
        fixes_for_vehicle(vehicle_pk=stream.vehicle_pk, until=stream.closed_until).filter(
            received_at__gt=stream.checked_received_at
        )
    )
    if not late:
        return []
    made: list[int] = []
    loose: list[Fix] = []
    trips = Trip.objects.filter(vehicle_id=stream.vehicle_pk).exclude(source=Trip.Source.UPLOAD)
    for fix in late:
        trip = trips.filter(started_at__lte=fix.t, ended_at__gte=fix.t).first()
        if trip is None:
            loose.append(fix)
            continue
        audit_record(
            actor=None,
            obj=trip,
            action="live_backfill",
            changes={"late_fix": [None, fix.t.isoformat()]},
            reason="a fix inside this closed trip arrived late; the raw file is unchanged",
        )
        trip_reverify(actor=None, trip=trip, reason="late live fix inside the trip")
    if loose:
        trip = _make_trip(loose)
        if trip is not None:
            made.append(trip.pk)
    return made


def _sweep_vehicle(vehicle_pk: int, now: datetime, idle: timedelta) -> list[int]:
    with transaction.atomic():
        # One sweep per vehicle at a time (the gateway's, the ingest's, beat's).
        Stream.objects.get_or_create(vehicle_id=vehicle_pk)
        locked = Stream.objects.select_for_update().get(vehicle_id=vehicle_pk)
        pending = list(fixes_for_vehicle(vehicle_pk=vehicle_pk, after=locked.closed_until))
        received = [f.received_at for f in pending]
        state = OpenStream(
            vehicle_pk,
            locked.closed_until,
            locked.checked_received_at,
            pending[-1].t if pending else now,
            max(received) if received else now,
        )
        made = _late_fixes(state)
        if not pending:
            stream_advance(vehicle_pk=vehicle_pk, closed_until=None, checked_received_at=now)
            return made
        silent = now - max(received) >= idle
        if not silent and not _stationary_tail(pending, idle):
            # Still open: late fixes were looked for up to now, nothing closes.
            stream_advance(
                vehicle_pk=vehicle_pk, closed_until=None, checked_received_at=max(received)
            )
            return made
        trip = _make_trip(pending)
        if trip is not None:
            made.append(trip.pk)
        stream_advance(
            vehicle_pk=vehicle_pk, closed_until=pending[-1].t, checked_received_at=max(received)
        )
        return made


def close_live_trips(*, now: datetime | None = None) -> list[int]:
    """Close every live trip that is due; returns the ids of the trips made."""
    now = now or timezone.now()
    idle = timedelta(seconds=settings.LIVE_TRIP_IDLE_S)
    ensure_fix_partitions()
    made: list[int] = []
    since = now - timedelta(seconds=settings.LIVE_SWEEP_LOOKBACK_S)
    for stream in streams_with_new_fixes(since=since):
        try:
            made += _sweep_vehicle(stream.vehicle_pk, now, idle)
        except Exception:  # one vehicle's failure must not stop the others'
            logger.exception("Closing the live trip of vehicle %s failed.", stream.vehicle_pk)
    return made
