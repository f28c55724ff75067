"""The contract between routes and trips: the zones approved and valid over an interval of
time, as metric polygons. Routes builds them (`routes.selectors.zone_intervals`); the trip
verifier cuts steps with them. Pure, no Django."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class Zone:
    """One approved road corridor or area version, as a polygon in the metric CRS."""

    segment_id: int
    polygon: BaseGeometry


@dataclass(frozen=True)
class ZoneInterval:
    """The zones approved and valid throughout [start, end); None means unbounded."""

    start: datetime | None
    end: datetime | None
    zones: tuple[Zone, ...]
