"""Reading terminals and fixes: scoped by the acting user for people, plain for the system
(the closing sweep and the cross-check in trips.live, which act for no one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import shapely
from django.conf import settings
from django.db.models import Max, OuterRef, QuerySet, Subquery

from core.geo import to_metric
from operators.models import User, Vehicle
from operators.selectors import vehicle_list
from routes.selectors import zones_valid_at

from .models import Fix, Stream, Terminal


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


def fixes_for_vehicle(
    *, vehicle_pk: int, after: datetime | None = None, until: datetime | None = None
) -> QuerySet[Fix]:
    """A vehicle's fixes with `after` < t <= `until`, in fix-time order (the system's read)."""
    fixes = Fix.objects.filter(vehicle_id=vehicle_pk)
    if after is not None:
        fixes = fixes.filter(t__gt=after)
    if until is not None:
        fixes = fixes.filter(t__lte=until)
    return fixes.select_related("terminal").order_by("t", "terminal_id")


def fixes_in_range(*, vehicle_pk: int, start: datetime, end: datetime) -> QuerySet[Fix]:
    """A vehicle's fixes with start <= t <= end (the upload-vs-stream cross-check)."""
    return Fix.objects.filter(vehicle_id=vehicle_pk, t__gte=start, t__lte=end).order_by("t")


@dataclass(frozen=True)
class OpenStream:
    vehicle_pk: int
    closed_until: datetime | None
    checked_received_at: datetime | None
    last_t: datetime
    last_received_at: datetime


def streams_with_new_fixes(*, since: datetime) -> list[OpenStream]:
    """Every vehicle with a fix (of fix time after `since`: on PostgreSQL only the recent
    day partitions are read) after its stream's `closed_until` or received after its
    `checked_received_at`, with its latest fix time and latest receipt time."""
    streams = {s.vehicle_id: s for s in Stream.objects.all()}
    latest = (
        Fix.objects.filter(t__gte=since)
        .values("vehicle_id")
        .annotate(last_t=Max("t"), last_received_at=Max("received_at"))
    )
    out = []
    for row in latest:
        stream = streams.get(row["vehicle_id"])
        closed = stream.closed_until if stream else None
        checked = stream.checked_received_at if stream else None
        if (closed is None or row["last_t"] > closed) or (
            checked is None or row["last_received_at"] > checked
        ):
            out.append(
                OpenStream(
                    row["vehicle_id"], closed, checked, row["last_t"], row["last_received_at"]
                )
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
