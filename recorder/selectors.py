"""Reading recorder events and incidents, scoped by the acting user; and, for verification
and the scorecard, the recorder's own view of a vehicle (not scoped: their callers are)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from core.roles import Role

from .disengagements import IntArray, control_intervals, exits_system_initiated
from .models import AdsEvent, EventType, Incident

if TYPE_CHECKING:
    from operators.models import User

CONTROL = (EventType.ACTIVATION, EventType.DEACTIVATION)


def event_list(*, user: User) -> QuerySet[AdsEvent]:
    events = AdsEvent.objects.select_related("vehicle")
    if user.role == Role.OPERATOR and user.operator_id is not None:
        return events.filter(vehicle__operator_id=user.operator_id)
    if user.is_government:
        return events
    return AdsEvent.objects.none()


def incident_list(*, user: User) -> QuerySet[Incident]:
    incidents = Incident.objects.select_related("vehicle", "operator", "event")
    if user.role == Role.OPERATOR and user.operator_id is not None:
        return incidents.filter(operator_id=user.operator_id)
    if user.is_government:
        return incidents
    return Incident.objects.none()


@dataclass(frozen=True)
class IncidentCounts:
    open: int
    overdue: int


def incident_counts(*, user: User, now: dt.datetime | None = None) -> IncidentCounts:
    """Open incidents, and those of them whose report is overdue (the dashboard's card)."""
    incidents = incident_list(user=user).filter(status=Incident.Status.OPEN)
    return IncidentCounts(
        open=incidents.count(),
        overdue=incidents.filter(report_due_at__lt=now or timezone.now()).count(),
    )


def _epoch_ns(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1_000_000) * 1000


def recorder_intervals(*, vehicle_id: int, start: dt.datetime, end: dt.datetime) -> IntArray | None:
    """When the ADS was in control between `start` and `end`, by the recorder; None when the
    recorder does not cover that time (no event of the vehicle at or before `start`, or none
    at or after `end`), and then the trace's own mode flags stand.

    Returns a (k, 2) array of [from, to) epoch nanoseconds (docs/verification.md).
    """
    events = AdsEvent.objects.filter(vehicle_id=vehicle_id)
    if not events.filter(at__lte=start).exists() or not events.filter(at__gte=end).exists():
        return None
    control = events.filter(type__in=CONTROL)
    before = control.filter(at__lte=start).order_by("-at").values_list("type", flat=True).first()
    inside = list(
        control.filter(at__gt=start, at__lte=end).order_by("at").values_list("at", "type")
    )
    t_ns = np.array([_epoch_ns(at) for at, _type in inside], dtype=np.int64)
    kinds = np.array([kind for _at, kind in inside], dtype=object)
    return control_intervals(
        t_ns,
        kinds == EventType.ACTIVATION,
        kinds == EventType.DEACTIVATION,
        start_ns=_epoch_ns(start),
        # Intervals are [from, to): a trip's last fix, at `end` itself, is inside an interval
        # still open then, so the clip goes one nanosecond past it.
        end_ns=_epoch_ns(end) + 1,
        active_at_start=before == EventType.ACTIVATION,
    )


@dataclass(frozen=True)
class Disengagement:
    vehicle_id: int
    at: dt.datetime
    system_initiated: bool
    recorded_initiator: str
    lat: float | None
    lon: float | None
    note: str
    # The takeover request that preceded a system-initiated exit, or the events just before.
    circumstances: str


def _epoch_sql() -> str:
    if connection.vendor == "postgresql":
        return "EXTRACT(EPOCH FROM at)::float8"
    return "(julianday(at) - 2440587.5) * 86400.0"


def exit_counts(
    *, start: dt.datetime, end: dt.datetime, operator_ids: list[int] | None = None
) -> dict[int, tuple[int, int]]:
    """Per company: (system-initiated, driver-initiated) exits in [start, end).

    Reads only exits and takeover requests (from `TAKEOVER_WINDOW_S` before `start`, so a
    request just before the year still counts for an exit just inside it), as plain
    numbers, and classifies them all at once with `exits_system_initiated`.
    """
    window = float(settings.TAKEOVER_WINDOW_S)
    sql = (
        f"SELECT e.vehicle_id, v.operator_id, {_epoch_sql()}, e.type = %s "  # noqa: S608
        "FROM recorder_adsevent e JOIN operators_vehicle v ON v.id = e.vehicle_id "
        "WHERE e.type IN (%s, %s) AND e.at >= %s AND e.at < %s"
    )
    params: list[Any] = [
        EventType.DEACTIVATION,
        EventType.DEACTIVATION,
        EventType.TAKEOVER_REQUEST,
        connection.ops.adapt_datetimefield_value(start - dt.timedelta(seconds=window)),
        connection.ops.adapt_datetimefield_value(end),
    ]
    if operator_ids is not None:
        if not operator_ids:
            return {}
        sql += f" AND v.operator_id IN ({', '.join(['%s'] * len(operator_ids))})"
        params.extend(operator_ids)
    sql += " ORDER BY e.vehicle_id, e.at"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return {}
    data = np.array(rows, dtype=np.float64)
    vehicle = data[:, 0].astype(np.int64)
    operator = data[:, 1].astype(np.int64)
    t_s = data[:, 2]
    is_exit = data[:, 3].astype(bool)
    exits, system = exits_system_initiated(vehicle, t_s, is_exit, ~is_exit, window_s=window)
    counted = t_s[exits] >= start.timestamp()
    exits, system = exits[counted], system[counted]
    result: dict[int, tuple[int, int]] = {}
    for company in np.unique(operator[exits]):
        mine = operator[exits] == company
        n_system = int(np.count_nonzero(system[mine]))
        result[int(company)] = (n_system, int(np.count_nonzero(mine)) - n_system)
    return result


def disengagement_list(
    *, operator_id: int, start: dt.datetime, end: dt.datetime
) -> list[Disengagement]:
    """Every exit of a company's vehicles in [start, end), classified, with its place and the
    events just before it (the annual report's lines). Not scoped: its callers are."""
    window = float(settings.TAKEOVER_WINDOW_S)
    events = list(
        AdsEvent.objects.filter(
            vehicle__operator_id=operator_id,
            at__gte=start - dt.timedelta(seconds=window),
            at__lt=end,
        )
        .exclude(type=EventType.ACTIVATION)
        .order_by("vehicle_id", "at")
        .values_list("vehicle_id", "at", "type", "initiator", "lat", "lon", "note")
    )
    if not events:
        return []
    vehicle = np.array([e[0] for e in events], dtype=np.int64)
    t_s = np.array([e[1].timestamp() for e in events], dtype=np.float64)
    kinds = np.array([e[2] for e in events], dtype=object)
    exits, system = exits_system_initiated(
        vehicle,
        t_s,
        kinds == EventType.DEACTIVATION,
        kinds == EventType.TAKEOVER_REQUEST,
        window_s=window,
    )
    result = []
    for index, by_system in zip(exits.tolist(), system.tolist(), strict=True):
        vehicle_id, at, _type, initiator, lat, lon, note = events[index]
        if at < start:
            continue
        result.append(
            Disengagement(
                vehicle_id=vehicle_id,
                at=at,
                system_initiated=by_system,
                recorded_initiator=initiator,
                lat=lat,
                lon=lon,
                note=note,
                circumstances=_circumstances(events, index, t_s, window),
            )
        )
    return result


def _circumstances(
    events: list[tuple[int, dt.datetime, str, str, float | None, float | None, str]],
    index: int,
    t_s: np.ndarray,
    window: float,
) -> str:
    """The vehicle's other events in the window before the exit, e.g. "takeover_request -4 s"."""
    vehicle_id = events[index][0]
    parts = []
    k = index - 1
    while k >= 0 and events[k][0] == vehicle_id and t_s[index] - t_s[k] <= window:
        parts.append(f"{events[k][2]} -{t_s[index] - t_s[k]:.0f} s")
        k -= 1
    return ", ".join(reversed(parts))


# The national rules (2021) keep the data from 90 s before an accident.
BEFORE_INCIDENT_S = 90


def incident_times(*, vehicle_ids: list[int], since: dt.datetime) -> dict[int, list[dt.datetime]]:
    """When each vehicle's incidents since `since` happened (the retention rule's input)."""
    times: dict[int, list[dt.datetime]] = {}
    for vehicle_id, occurred_at in Incident.objects.filter(
        vehicle_id__in=vehicle_ids, occurred_at__gte=since
    ).values_list("vehicle_id", "occurred_at"):
        times.setdefault(vehicle_id, []).append(occurred_at)
    return times


def covers_incident(
    started_at: dt.datetime | None, ended_at: dt.datetime | None, incidents: list[dt.datetime]
) -> bool:
    """Whether a trip holds an incident or the 90 s before one."""
    if started_at is None or ended_at is None:
        return False
    before = dt.timedelta(seconds=BEFORE_INCIDENT_S)
    return any(started_at <= at and ended_at >= at - before for at in incidents)
