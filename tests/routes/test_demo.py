"""The demo segments load through the services and give the summary a real figure."""

import pytest

from operators import demo as operators_demo
from routes import demo
from routes.models import RoadSegment
from routes.selectors import segment_summary, zones_valid_at
from tests.routes.helpers import at

pytestmark = pytest.mark.django_db


def test_demo_segments_load_with_approved_drafts_and_a_reinstated_road() -> None:
    operators_demo.load()
    demo.load()
    statuses = set(RoadSegment.objects.values_list("status", flat=True))
    assert statuses == {"approved", "draft", "submitted", "suspended"}
    south = RoadSegment.objects.filter(name="南大街").order_by("version")
    assert [s.status for s in south] == ["suspended", "approved"]
    # two long roads open since 2023, for the demo companies' trips
    early = RoadSegment.objects.filter(kind="road", valid_from__lt=at(2023, 1, 2))
    assert sum(1 for s in early if (s.length_m or 0) > 3000) >= 2


def test_demo_summary_shows_tens_of_two_way_kilometres() -> None:
    operators_demo.load()
    demo.load()
    bureau = RoadSegment.objects.first().approved_by  # type: ignore[union-attr]
    assert bureau is not None
    summary = segment_summary(user=bureau, at=at(2026, 1, 1))
    assert 20_000 < summary.open_road_m < 30_000
    assert 30_000 < summary.two_way_operating_m < 50_000
    # during the works on 南大街 (Aug–Oct 2025) it is not a zone
    names = {
        RoadSegment.objects.get(pk=z.segment_id).name for z in zones_valid_at(at=at(2025, 9, 1))
    }
    assert "南大街" not in names
    assert "德胜街" in names
