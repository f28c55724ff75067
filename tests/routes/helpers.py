"""Segments made through the services, as the bureau makes them."""

import datetime as dt
from decimal import Decimal
from typing import Any

from operators.models import User
from routes import services
from routes.models import RoadSegment

UTC = dt.UTC
# Yangquan city centre, about 113.58°E 37.86°N.
LON0, LAT0 = 113.58, 37.86


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


START = at(2024, 1, 1)


def line(*points: tuple[float, ...]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [list(p) for p in points]}


def square(lon: float, lat: float, size_deg: float) -> dict[str, Any]:
    ring = [
        [lon, lat],
        [lon + size_deg, lat],
        [lon + size_deg, lat + size_deg],
        [lon, lat + size_deg],
        [lon, lat],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def east_west_road(lon: float = LON0, lat: float = LAT0, d_lon: float = 0.01) -> dict[str, Any]:
    return line((lon, lat), (lon + d_lon, lat))


def draft_road(actor: User, **fields: Any) -> RoadSegment:
    values: dict[str, Any] = {"name": "德胜街", "kind": "road", "geometry": east_west_road()}
    values.update(fields)
    return services.segment_create(actor=actor, **values)


def approved(
    actor: User,
    segment: RoadSegment,
    valid_from: dt.datetime = START,
    valid_to: dt.datetime | None = None,
    ref: str = "阳交发〔2024〕1号",
) -> RoadSegment:
    segment = services.segment_submit(actor=actor, segment=segment)
    return services.segment_approve(
        actor=actor, segment=segment, valid_from=valid_from, valid_to=valid_to, approval_ref=ref
    )


def approved_road(
    actor: User,
    valid_from: dt.datetime = START,
    valid_to: dt.datetime | None = None,
    half_width: Decimal | None = None,
    **fields: Any,
) -> RoadSegment:
    segment = draft_road(actor, corridor_half_width_m=half_width, **fields)
    return approved(actor, segment, valid_from, valid_to)
