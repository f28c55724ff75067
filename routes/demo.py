"""Demo roads and districts (routes/demo_segments.geojson: hand-drawn, approximate)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from operators.models import User, local_day_start

from . import services
from .models import RoadSegment

DEMO_FILE = Path(__file__).with_name("demo_segments.geojson")


def _day(text: str) -> dt.datetime:
    return local_day_start(dt.date.fromisoformat(text))


def load_feature(bureau: User, feature: dict[str, Any]) -> RoadSegment:
    props = feature["properties"]
    width = props.get("corridor_half_width_m")
    segment = services.segment_create(
        actor=bureau,
        name=props["name"],
        kind=props["kind"],
        geometry=feature["geometry"],
        two_way=props.get("two_way", True),
        road_code=props.get("road_code", ""),
        corridor_half_width_m=None if width is None else Decimal(str(width)),
        reason="示例数据（手绘坐标）",
    )
    if props["status"] == RoadSegment.Status.DRAFT:
        return segment
    segment = services.segment_submit(actor=bureau, segment=segment)
    if props["status"] == RoadSegment.Status.SUBMITTED:
        return segment
    segment = services.segment_approve(
        actor=bureau,
        segment=segment,
        valid_from=_day(props["valid_from"]),
        approval_ref=props["approval_ref"],
        reason="示例数据",
    )
    for event in props.get("events", []):
        if "suspend" in event:
            segment = services.segment_suspend(
                actor=bureau,
                segment=segment,
                reason=event["reason"],
                effective_at=_day(event["suspend"]),
            )
        elif "reinstate" in event:
            segment = services.segment_reinstate(
                actor=bureau,
                segment=segment,
                valid_from=_day(event["reinstate"]),
                approval_ref=event["approval_ref"],
                reason=event["reason"],
            )
    return segment


def load() -> list[RoadSegment]:
    """Draw, submit and approve the demo segments through the services (audited), as the
    `bureau` demo account; some stay draft or submitted so the workflow shows."""
    bureau = User.objects.get(username="bureau")
    document = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    return [load_feature(bureau, feature) for feature in document["features"]]
