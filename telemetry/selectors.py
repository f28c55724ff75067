"""Reading terminals and fixes: scoped by the acting user for people, plain for the system
(the closing sweep and the cross-check in trips.live, which act for no one)."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import numpy as np
import shapely
from django.conf import settings
from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_aware, make_aware

from core.geo import to_metric
from operators.models import User, Vehicle
from operators.selectors import vehicle_list
from routes.selectors import zones_valid_at

from .models import Fix, Terminal


def terminal_list(*, user: User) -> QuerySet[Terminal]:
    """The terminals of the vehicles the user may see."""
    return Terminal.objects.select_related("vehicle").filter(
        vehicle__in=vehicle_list(user=user).values("pk")
    )


def active_terminal(*, protocol: str, terminal_id: str) -> Terminal | None:
    return Terminal.objects.filter(protocol=protocol, terminal_id=terminal_id, active=True).first()


def active_mqtt_terminals() -> dict[str, tuple[int, int]]:
    """VIN -> (terminal pk, vehicle pk) of every active MQTT terminal (the ingest's cache)."""
    return {
        vin: (pk, vehicle_pk)
        for vin, pk, vehicle_pk in Terminal.objects.filter(
            protocol=Terminal.Protocol.MQTT, active=True
        ).values_list("terminal_id", "pk", "vehicle_id")
    }


class LiveFix(NamedTuple):
    """A fix as the closing sweep reads it: plain values, no model instance."""

    t: datetime
    received_at: datetime
    lat: float
    lon: float
    autonomous: bool
    speed_kmh: float | None
    hdop: float | None
    odometer_m: float | None
    protocol: str  # its terminal's
    terminal_pk: int


# A vehicle with two terminals (a JT/T 808 box and an MQTT feed) reports its positions twice,
# from two receivers metres apart and at other instants: interleaved, its track zigzags
# between them and grows longer than the drive. Another terminal's fix fills a silence of
# the track's own terminal when that one has no fix within this of it: half of trip
# verification's 10 s `max_gap_s`, so that the steps into and out of the filled stretch
# still earn, and a silence too short to lose credit is not filled.
FILL_MARGIN = timedelta(seconds=5)


def one_track(fixes: Sequence[LiveFix]) -> tuple[list[LiveFix], str]:
    """Of fixes (not none, in time order) the main terminal's (most fixes; the first
    registered of equals), and another terminal's only where the main one has none within
    FILL_MARGIN; and the main terminal's protocol."""
    counts = Counter(fix.terminal_pk for fix in fixes)
    main = min(counts, key=lambda pk: (-counts[pk], pk))
    protocol = next(fix.protocol for fix in fixes if fix.terminal_pk == main)
    if len(counts) == 1:
        return list(fixes), protocol
    own = [fix.t for fix in fixes if fix.terminal_pk == main]
    track = []
    for fix in fixes:
        if fix.terminal_pk != main:
            i = bisect.bisect_left(own, fix.t)
            near = [own[j] for j in (i - 1, i) if 0 <= j < len(own)]
            if any(abs(fix.t - t) <= FILL_MARGIN for t in near):
                continue
        track.append(fix)
    return track, protocol


def fixes_for_vehicle(
    *, vehicle_pk: int, after: datetime | None = None, until: datetime | None = None
) -> QuerySet[Fix]:
    """A vehicle's fixes with `after` < t <= `until`, in fix-time order (the system's read)."""
    fixes = Fix.objects.filter(vehicle_id=vehicle_pk)
    if after is not None:
        fixes = fixes.filter(t__gt=after)
    if until is not None:
        fixes = fixes.filter(t__lte=until)
    return fixes.order_by("t", "terminal_id")


def live_fixes(fixes: QuerySet[Fix]) -> list[LiveFix]:
    """These fixes as value tuples (the sweep reads thousands: no model instances)."""
    return [
        LiveFix(*row)
        for row in fixes.values_list(
            "t", "received_at", "lat", "lon", "autonomous", "speed_kmh", "hdop", "odometer_m",
            "terminal__protocol", "terminal_id",
        )
    ]  # fmt: skip


def fixes_in_range(*, vehicle_pk: int, start: datetime, end: datetime) -> QuerySet[Fix]:
    """A vehicle's fixes with start <= t <= end (the upload-vs-stream cross-check)."""
    return Fix.objects.filter(vehicle_id=vehicle_pk, t__gte=start, t__lte=end).order_by(
        "t", "terminal_id"
    )


@dataclass(frozen=True)
class OpenStream:
    """A vehicle with fixes the sweep has not looked at, as its terminals' heads say
    (telemetry.heads; over several terminals, the newest of each)."""

    vehicle_pk: int
    closed_until: datetime | None
    checked_received_at: datetime | None
    last_t: datetime
    last_received_at: datetime
    # A fix may have been received after `checked_received_at` with a time at or before
    # `closed_until` (certain when False; True means "look").
    late: bool
    # The earlier time of the latest pair of its fixes too far apart to stand still.
    moved_at: datetime | None


def db_datetime(value: datetime | str) -> datetime:
    """A datetime as read by raw SQL, aware (SQLite hands back text)."""
    parsed = value if isinstance(value, datetime) else parse_datetime(value)
    if parsed is None:
        raise ValueError(f"not a datetime: {value!r}")
    return parsed if is_aware(parsed) else make_aware(parsed, UTC)


# The terminals' heads joined to their streams, grouped per vehicle: the ORM has no path
# from Terminal to Stream (Stream's vehicle has no reverse accessor). No fix is read.
_STREAMS_SQL = """
SELECT tm.vehicle_id, MAX(s.closed_until), MAX(s.checked_received_at), MAX(tm.last_fix_at),
       MAX(tm.last_received_at), MAX(tm.late_received_at), MAX(tm.moved_at)
FROM telemetry_terminal tm LEFT JOIN telemetry_stream s ON s.vehicle_id = tm.vehicle_id
WHERE tm.last_fix_at >= %s
GROUP BY tm.vehicle_id
"""


def streams_with_new_fixes(*, since: datetime) -> list[OpenStream]:
    """Every vehicle whose newest fix is after `since` and which has a fix after its
    stream's `closed_until` or received after its `checked_received_at`, with its latest
    fix time and receipt time, whether it may have late fixes, and when it last moved —
    from its terminals' rows (one per terminal), whatever the number of fixes."""
    with connection.cursor() as cursor:
        cursor.execute(_STREAMS_SQL, [connection.ops.adapt_datetimefield_value(since)])
        rows = cursor.fetchall()
    out = []
    for vehicle_pk, *times in rows:
        closed, checked, _last_t, _last_received, late, moved = (
            None if v is None else db_datetime(v) for v in times
        )
        last_t, last_received = db_datetime(times[2]), db_datetime(times[3])
        if (closed is None or last_t > closed) or (checked is None or last_received > checked):
            may_be_late = (
                closed is not None and checked is not None and late is not None and late > checked
            )
            out.append(
                OpenStream(vehicle_pk, closed, checked, last_t, last_received, may_be_late, moved)
            )
    return out


@dataclass(frozen=True)
class LivePosition:
    vehicle_id: int
    vin: str
    plate: str
    operator_name: str
    lat: float
    lon: float
    autonomous: bool
    speed_kmh: float | None
    last_fix_at: datetime
    last_received_at: datetime
    in_zone: bool


def live_positions(*, user: User, now: datetime) -> list[LivePosition]:
    """The last position of every vehicle the user may see that has reported, with whether
    it lies inside a segment or zone approved and valid now."""
    vehicles = vehicle_list(user=user)
    last = Fix.objects.filter(vehicle_id=OuterRef("pk")).order_by("-t")
    rows = (
        vehicles.filter(pk__in=Terminal.objects.values("vehicle_id"))
        .annotate(fix_id=Subquery(last.values("pk")[:1]))
        .exclude(fix_id=None)
        .values_list("pk", "vin", "plate", "operator__name", "fix_id")
    )
    info = {fix_id: (pk, vin, plate, name) for pk, vin, plate, name, fix_id in rows}
    fixes = list(Fix.objects.filter(pk__in=info).order_by("vehicle_id"))
    if not fixes:
        return []
    x, y = to_metric(
        np.array([f.lon for f in fixes]), np.array([f.lat for f in fixes]), settings.METRIC_CRS
    )
    points = shapely.points(x, y)
    inside = np.zeros(len(fixes), dtype=bool)
    for zone in zones_valid_at(at=now):
        inside |= shapely.intersects(zone.polygon, points)
    out = []
    for fix, in_zone in zip(fixes, inside, strict=True):
        pk, vin, plate, name = info[fix.pk]
        out.append(
            LivePosition(
                pk,
                vin,
                plate,
                name,
                fix.lat,
                fix.lon,
                fix.autonomous,
                fix.speed_kmh,
                fix.t,
                fix.received_at,
                bool(in_zone),
            )
        )
    return out


def vehicle_of(*, vehicle_pk: int) -> Vehicle:
    return Vehicle.objects.get(pk=vehicle_pk)
