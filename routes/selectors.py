"""Reading segments, scoped by role; and the zones the trip verifier checks against.

`zones_valid_at` and `zone_timeline` need no acting user: the verifier is the system.
They answer from a per-process cache:

- a zone polygon per segment version (a row's geometry never changes once approved: a
  changed geometry is a new row), built and prepared once;
- the timeline of windows of every version ever approved, with the zones valid in each
  interval between consecutive window boundaries. It is rebuilt when the *window stamp*
  changes: the sum of `window_revision` over approved rows, which every approval,
  suspension, retirement and supersession increments (rows that were approved are never
  deleted), so every process sees every change on its next call, at the cost of one
  aggregate query.
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce

from core.roles import Role
from operators.models import User
from routes.zones import Zone, ZoneInterval

from .geometry import zone_polygon
from .models import RoadSegment
from .validity import EVER_APPROVED, valid_at_q, window_contains, window_is_empty


def segment_list(*, user: User) -> QuerySet[RoadSegment]:
    """Government staff see every version; company staff only approved ones, never drafts."""
    segments = RoadSegment.objects.select_related("approved_by", "superseded_by")
    if user.is_government:
        return segments
    if user.role == Role.OPERATOR:
        return segments.filter(status=RoadSegment.Status.APPROVED)
    return RoadSegment.objects.none()


@dataclass(frozen=True)
class Summary:
    at: dt.datetime
    open_road_m: float
    two_way_operating_m: float
    target_two_way_km: float
    open_roads: int
    open_areas: int
    open_area_m2: float
    by_status: dict[str, int]


def segment_summary(*, user: User, at: dt.datetime) -> Summary:
    """The plan's figure as of `at`: open road (centreline) metres, two-way operating metres
    (a two-way road of length L counts 2L), the target, and versions per status."""
    valid = RoadSegment.objects.filter(valid_at_q(at))
    roads = valid.filter(kind=RoadSegment.Kind.ROAD).values_list("length_m", "two_way")
    open_road_m = sum(length or 0.0 for length, _ in roads)
    two_way_m = sum((length or 0.0) * (2 if two_way else 1) for length, two_way in roads)
    areas = valid.filter(kind=RoadSegment.Kind.AREA).aggregate(
        n=Count("id"), m2=Coalesce(Sum("area_m2"), 0.0)
    )
    counts = dict(segment_list(user=user).order_by().values_list("status").annotate(n=Count("id")))
    return Summary(
        at=at,
        open_road_m=open_road_m,
        two_way_operating_m=two_way_m,
        target_two_way_km=float(settings.PLAN_TWO_WAY_TARGET_KM),
        open_roads=len(roads),
        open_areas=int(areas["n"]),
        open_area_m2=float(areas["m2"]),
        by_status={status: int(counts.get(status, 0)) for status in RoadSegment.Status.values},
    )


def two_way_history(*, ends: list[dt.datetime]) -> list[float]:
    """Two-way operating metres open at each instant of `ends` (the dashboard's chart), from
    one read of every road version ever approved; the same rule as `segment_summary`."""
    roads = list(
        RoadSegment.objects.filter(EVER_APPROVED, kind=RoadSegment.Kind.ROAD).values_list(
            "valid_from", "valid_to", "length_m", "two_way"
        )
    )
    return [
        sum(
            (length or 0.0) * (2 if two_way else 1)
            for start, end, length, two_way in roads
            if start is not None and window_contains(start, end, at)
        )
        for at in ends
    ]


# --- zones for the verifier ----------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    segment_id: int
    series: uuid.UUID
    start: dt.datetime
    end: dt.datetime | None


_STAMP_SQL = (
    "SELECT COUNT(*), COALESCE(SUM(window_revision), 0), MAX(approved_at) "  # noqa: S608 - no input
    f"FROM {RoadSegment._meta.db_table} WHERE approved_at IS NOT NULL"
)


class _Timeline:
    """The windows of every version ever approved, as one immutable snapshot, with the zone
    tuple of each interval between consecutive boundaries filled in on first use."""

    def __init__(self, stamp: tuple[Any, ...] | None, windows: list[_Window]) -> None:
        self.stamp = stamp
        self.windows = windows
        points = {w.start for w in windows} | {w.end for w in windows if w.end is not None}
        self.boundaries = sorted(points)
        self.interval_zones: dict[int, tuple[Zone, ...]] = {}

    def index_at(self, at: dt.datetime) -> int:
        """The interval holding `at`: 0 before the first boundary, i after boundary i-1."""
        return bisect.bisect_right(self.boundaries, at)

    def zones_in(self, index: int, polygons: _Polygons) -> tuple[Zone, ...]:
        """Zones valid throughout interval `index` (from boundary index-1 to boundary index)."""
        cached = self.interval_zones.get(index)
        if cached is not None:
            return cached
        start = self.boundaries[index - 1] if index > 0 else None
        keys = [
            (w.segment_id, w.series)
            for w in self.windows
            if start is not None and window_contains(w.start, w.end, start)
        ]
        zones = polygons.get(keys)
        self.interval_zones[index] = zones
        return zones


class _Polygons:
    """Prepared zone polygons per version, keyed by (id, series) so that an id reused after
    a rolled-back test transaction can never hit a stale entry."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[int, uuid.UUID], Zone] = {}

    def get(self, keys: list[tuple[int, uuid.UUID]]) -> tuple[Zone, ...]:
        missing = [pk for pk, series in keys if (pk, series) not in self.by_key]
        if missing:  # built in one query rather than one per segment
            for segment in RoadSegment.objects.filter(pk__in=missing).only(
                "series", "geometry", "kind", "corridor_half_width_m"
            ):
                width = segment.corridor_half_width_m
                polygon = zone_polygon(
                    segment.geometry,
                    kind=segment.kind,
                    corridor_half_width_m=None if width is None else float(width),
                    crs=settings.METRIC_CRS,
                )
                self.by_key[segment.pk, segment.series] = Zone(segment.pk, polygon)
        return tuple(self.by_key[key] for key in keys)


class _ZoneCache:
    """Per-process cache: the polygons, and the current timeline snapshot."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.polygons = _Polygons()
        self.timeline = _Timeline(None, [])

    def clear(self) -> None:
        with self.lock:
            self.polygons = _Polygons()
            self.timeline = _Timeline(None, [])

    def current(self) -> _Timeline:
        """The timeline, reloaded first if any approval, suspension or retirement happened.

        Callers keep the returned snapshot for the whole call, so a reload by another
        thread halfway through cannot mix two timelines.
        """
        # Plain SQL: the ORM's aggregate machinery costs ~1 ms a call, the query ~0.1 ms.
        with connections[RoadSegment.objects.db].cursor() as cursor:
            cursor.execute(_STAMP_SQL)
            stamp = tuple(cursor.fetchone() or ())
        timeline = self.timeline
        if stamp == timeline.stamp:
            return timeline
        rows = (
            RoadSegment.objects.filter(EVER_APPROVED)
            .order_by("pk")
            .values_list("pk", "series", "valid_from", "valid_to")
        )
        # An empty window [t, t) (suspended before it started) is never valid: left out.
        windows = [
            _Window(pk, series, start, end)
            for pk, series, start, end in rows
            if start is not None and not window_is_empty(start, end)
        ]
        timeline = _Timeline(stamp, windows)
        with self.lock:
            self.timeline = timeline
        return timeline


_cache = _ZoneCache()


def zones_cache_clear() -> None:
    """Forget every cached polygon and interval (tests; a changed METRIC_CRS)."""
    _cache.clear()


def zones_valid_at(*, at: dt.datetime) -> tuple[Zone, ...]:
    """The zones (metric CRS polygons) of every version approved and valid at `at`."""
    timeline = _cache.current()
    return timeline.zones_in(timeline.index_at(at), _cache.polygons)


def zone_timeline(*, start: dt.datetime, end: dt.datetime) -> list[ZoneInterval]:
    """[start, end) cut at every window boundary inside it, each piece with its zones.

    The pieces cover [start, end) exactly, in order; a piece with no approved zone has
    an empty `zones`.
    """
    if end <= start:
        return []
    timeline = _cache.current()
    polygons = _cache.polygons
    first = timeline.index_at(start)
    last = timeline.index_at(end)  # boundaries[first:last] lie in (start, end]
    cuts = [b for b in timeline.boundaries[first:last] if start < b < end]
    edges = [start, *cuts, end]
    return [
        ZoneInterval(
            start=edges[i],
            end=edges[i + 1],
            zones=timeline.zones_in(timeline.index_at(edges[i]), polygons),
        )
        for i in range(len(edges) - 1)
    ]
