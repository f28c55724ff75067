"""The trip map's server side (trips.map_layers): the roads and areas drawn are the ones the
verifier used for the trip's time, the trace carries each vertex's time for a step's popup,
and a trip far from every approved road says so first, in words."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client

from operators.models import User
from routes import services as routes_services
from routes.models import RoadSegment
from tests.conftest import World
from tests.trips.csvtrace import straight_east
from trips import services
from trips.models import Trip

pytestmark = pytest.mark.django_db

# Beside the clone (../shared), or beside a worktree's parent (../../shared).
REAL = next(
    (
        folder / "shared" / "real-traces"
        for folder in Path(__file__).resolve().parents[2].parents
        if (folder / "shared" / "real-traces").is_dir()
    ),
    Path("shared/real-traces"),
)
# A real bus drive of 2019-02-18 in Europe, about 7,500 km from Yangquan.
BUS_DRIVE = REAL / "movingpandas__304_to_UL_2019-02-18_0745.gpx"
T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 in Yangquan
ROAD = {"type": "LineString", "coordinates": [[113.54, 37.86], [113.60, 37.86]]}


def browser_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def approved_road(
    world: World, name: str, valid_from: dt.datetime, valid_to: dt.datetime | None = None
) -> RoadSegment:
    road = routes_services.segment_create(
        actor=world.bureau,
        name=name,
        kind="road",
        geometry=ROAD,
        corridor_half_width_m=Decimal(15),
    )
    road = routes_services.segment_submit(actor=world.bureau, segment=road)
    road = routes_services.segment_approve(
        actor=world.bureau, segment=road, valid_from=valid_from, approval_ref=f"阳交〔{name}〕"
    )
    if valid_to is not None:
        road = routes_services.segment_suspend(
            actor=world.bureau, segment=road, effective_at=valid_to, reason="到期"
        )
    return road


def processed(world: World, data: bytes, name: str = "trip.csv", mode: str = "") -> Trip:
    trip, _ = services.trip_upload(
        actor=world.staff_a,
        vin=world.vehicle_a.vin,
        data=data,
        original_name=name,
        declared_mode=mode,
    )
    return services.trip_process(trip_id=trip.pk)


def text_of(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_map_draws_the_roads_approved_at_the_trips_time_and_no_others(world: World) -> None:
    approved_road(world, "当时的路", dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
    approved_road(world, "后来的路", T0 + dt.timedelta(days=30))
    approved_road(
        world, "已停用的路", dt.datetime(2023, 1, 1, tzinfo=dt.UTC), T0 - dt.timedelta(days=1)
    )
    trip = processed(world, straight_east(start=T0, metres=1000))
    assert trip.eligible_m > 0

    page = browser_for(world.staff_a).get(f"/trips/{trip.pk}/")

    assert page.status_code == 200
    zones = page.context["zones_geojson"]["features"]
    assert [zone["properties"]["name"] for zone in zones] == ["当时的路"]
    # The corridor (15 m either side), not only the centreline: a polygon around the road.
    assert zones[0]["geometry"]["type"] == "Polygon"
    text = text_of(page.content.decode())
    assert "当时的路" in text
    assert "后来的路" not in text
    assert "已停用的路" not in text
    assert "1 条在行程时已批准的路段或区域" in text
    assert page.context["far_notice"] == ""


def test_the_trace_carries_each_vertexs_time_for_the_step_popup(world: World) -> None:
    approved_road(world, "测试大道", dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
    trip = processed(world, straight_east(start=T0, metres=200, speed_ms=10.0))

    answer = browser_for(world.staff_a).get(f"/api/v1/trips/{trip.pk}/trace/")
    geojson = json.loads(b"".join(answer.streaming_content))  # type: ignore[attr-defined]

    line = next(f for f in geojson["features"] if f["geometry"]["type"] == "LineString")
    times = line["properties"]["t"]
    assert len(times) == len(line["geometry"]["coordinates"])
    # 1 Hz from T0: the first vertex at T0, the next a second later.
    assert times[0] == T0.timestamp()
    assert times[1] - times[0] == pytest.approx(1.0)


@pytest.mark.skipif(not BUS_DRIVE.is_file(), reason="../shared/real-traces not beside the clone")
def test_a_recording_from_europe_is_explained_by_its_distance_first(world: World) -> None:
    # Roads in Yangquan approved since 2018, so the 2019 drive had zones at its time; the
    # vehicle's permit (2023 on) did not cover it either, which must come second.
    approved_road(world, "测试大道", dt.datetime(2018, 1, 1, tzinfo=dt.UTC))
    trip = processed(world, BUS_DRIVE.read_bytes(), name="bus.gpx", mode="auto")
    assert trip.eligible_m == 0

    page = browser_for(world.staff_a).get(f"/trips/{trip.pk}/")

    text = text_of(page.content.decode())
    # Grouped by thousands as every figure is (Django's Chinese format would group none).
    found = re.search(r"此行程距其时已批准的最近路段或区域 (\d{1,3}(?:,\d{3})+\.\d{3}) 公里", text)
    assert found, text[:2000]
    # Europe to Yangquan: several thousand kilometres (great-circle, not a projection's guess).
    assert 6000 < float(found[1].replace(",", "")) < 9000
    assert text.index(found[0]) < text.index("车辆无有效许可")


@pytest.mark.skipif(not BUS_DRIVE.is_file(), reason="../shared/real-traces not beside the clone")
def test_a_trip_before_any_approval_says_none_was_approved_then(world: World) -> None:
    approved_road(world, "测试大道", dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
    trip = processed(world, BUS_DRIVE.read_bytes(), name="bus.gpx", mode="auto")

    page = browser_for(world.staff_a).get(f"/trips/{trip.pk}/")

    assert page.context["zones_geojson"]["features"] == []
    assert re.search(
        r"2019-02-1\d 时没有已批准的路段或区域；"
        r"现在已批准的最近一处在 \d{1,3}(?:,\d{3})+\.\d{3} 公里外",
        text_of(page.content.decode()),
    )


def test_the_review_page_draws_the_same_map_with_the_conflicting_trip(world: World) -> None:
    approved_road(world, "测试大道", dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
    first = processed(world, straight_east(start=T0, metres=1000))
    second = processed(world, straight_east(start=T0, lon0=113.56, metres=500))
    assert second.status == Trip.Status.NEEDS_REVIEW

    page = browser_for(world.bureau).get(f"/trips/review/{second.pk}/")

    html = page.content.decode()
    assert [z["properties"]["name"] for z in page.context["zones_geojson"]["features"]] == [
        "测试大道"
    ]
    assert 'data-layer="other-0"' in html
    assert f'href="/trips/{first.pk}/"' in html
