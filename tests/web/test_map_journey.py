"""The trip map in a real Chromium, with no base map and no network beyond the app: the
approved roads and areas, the trace, start and end markers and a conflicting trip are drawn
as layers the legend switches, and a click on a step says its time (Beijing), speed, mode
and why it counted."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from core.roles import Role
from tests import factories
from tests.conftest import World
from tests.subsidies.issued_trips import approved_road
from tests.trips.csvtrace import straight_east
from tests.web.conftest import screenshot
from tests.web.test_map_pages import BUS_DRIVE
from tests.web.test_trip_journey import (
    approve_zone_over_the_western_half,
    log_in,
    moved_to_yangquan,
)
from trips import services
from trips.models import Trip

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
BEIJING = ZoneInfo("Asia/Shanghai")


def shown(trace_map: Locator, layer: str) -> bool:
    return bool(
        trace_map.evaluate(
            "(el, name) => Boolean(el.yqLayers[name]) && el.yqMap.hasLayer(el.yqLayers[name])",
            layer,
        )
    )


def only_the_app_was_asked(urls: list[str], live_server: LiveServer) -> None:
    """No tile, font or script from anywhere but the app: the map works offline."""
    assert urls
    assert [u for u in urls if not u.startswith((live_server.url, "data:"))] == []


@pytest.mark.skipif(not BUS_DRIVE.is_file(), reason="shared/real-traces not found")
def test_the_trip_map_draws_its_layers_offline_and_explains_a_step(
    world: World, page: Page, live_server: LiveServer
) -> None:
    company = factories.operator(
        actor=world.bureau,
        name="晋阳智行",
        settled_on=dt.date(2018, 1, 1),
        admitted_on=dt.date(2018, 2, 1),
    )
    vehicle = factories.vehicle(
        actor=world.bureau, operator=company, permit=(dt.date(2018, 1, 1), dt.date(2027, 12, 31))
    )
    staff = factories.user(Role.OPERATOR, company)
    gpx, fixes = moved_to_yangquan(BUS_DRIVE.read_text(encoding="utf-8"))
    approve_zone_over_the_western_half(world, fixes)
    uploaded, _ = services.trip_upload(
        actor=staff,
        vin=vehicle.vin,
        data=gpx.encode(),
        original_name="304_to_UL.gpx",
        declared_mode="auto",
    )
    trip = services.trip_process(trip_id=uploaded.pk)
    assert trip.eligible_m > 0
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))

    log_in(page, staff.username)
    page.goto(f"/trips/{trip.pk}/")
    trace_map = page.get_by_role("region", name="行程轨迹地图")
    expect(trace_map).to_have_attribute("data-loaded", re.compile(r"^[1-9]\d*$"))

    # The layers: the zone approved at the trip's time, the trace, start and end.
    expect(trace_map.locator("path.trip-zone")).to_have_count(1)
    expect(trace_map.locator(".trip-start")).to_have_text("起点")
    expect(trace_map.locator(".trip-end")).to_have_text("终点")
    expect(trace_map.locator(".leaflet-tile")).to_have_count(0)
    expect(page.locator(".zones-table")).to_contain_text("高新区示范区域")
    assert all(shown(trace_map, name) for name in ("zones", "trace", "ends"))

    # A click on the middle of an eligible stretch: that step's facts, in words.
    x, y, near = trace_map.evaluate(
        """el => {
          let run = null;
          el.yqLayers.trace.eachLayer(l => {
            const c = l.feature.geometry.coordinates;
            if (l.feature.properties.tag === "eligible" && c.length > 20 && !run) run = l.feature;
          });
          const c = run.geometry.coordinates, i = Math.floor(c.length / 2);
          const mid = [(c[i][1] + c[i + 1][1]) / 2, (c[i][0] + c[i + 1][0]) / 2];
          el.yqMap.setView(mid, 18, {animate: false});
          const p = el.yqMap.latLngToContainerPoint(mid);
          return [p.x, p.y, run.properties.t.slice(i - 5, i + 6)];
        }"""
    )
    box = trace_map.bounding_box()
    assert box is not None
    # The SVG renderer redraws the paths for the new view in its own time: click once the
    # trace, not the zone under it, is what the point shows.
    page.wait_for_function(
        """([x, y]) => {
          const el = document.elementFromPoint(x, y);
          return el && el.tagName === "path" && !el.classList.contains("trip-zone");
        }""",
        arg=[box["x"] + x, box["y"] + y],
    )
    page.mouse.click(box["x"] + x, box["y"] + y)
    popup = trace_map.locator(".leaflet-popup-content")
    # That step, or one a few seconds from it: a bus creeping at a stop has steps within a
    # pixel of each other.
    times = {f"{dt.datetime.fromtimestamp(t, tz=BEIJING):%Y-%m-%d %H:%M:%S}" for t in near}
    expect(popup.locator('[data-field="kind"]')).to_have_text("合规里程")
    expect(popup.locator('[data-field="time"]')).to_have_text(re.compile(r"^2019-02-18 [\d:]{8}$"))
    assert popup.locator('[data-field="time"]').inner_text() in times
    expect(popup.locator('[data-field="speed"]')).to_have_text(re.compile(r"^\d+\.\d 公里/小时$"))
    expect(popup.locator('[data-field="mode"]')).to_have_text("自动驾驶")
    expect(popup.locator('[data-field="reason"]')).to_contain_text("已批准的路段或区域内")
    expect(popup).to_contain_text("时间（北京时间）")
    screenshot(page, "company-trip-step")

    # The legend switches each layer off and on again.
    legend = page.locator(".map-layers")
    legend.get_by_label(re.compile("在行程时已批准的路段或区域")).uncheck()
    expect(trace_map.locator("path.trip-zone")).to_have_count(0)
    legend.get_by_label("起点和终点").uncheck()
    expect(trace_map.locator(".trip-end-marker")).to_have_count(0)
    legend.get_by_label(re.compile("本行程")).uncheck()
    assert not shown(trace_map, "trace")
    legend.get_by_label("起点和终点").check()
    legend.get_by_label(re.compile("在行程时已批准的路段或区域")).check()
    legend.get_by_label(re.compile("本行程")).check()
    expect(trace_map.locator("path.trip-zone")).to_have_count(1)
    expect(trace_map.locator(".trip-end-marker")).to_have_count(2)
    assert shown(trace_map, "trace")
    trace_map.evaluate("el => el.yqMap.fitBounds(el.yqLayers.trace.getBounds())")
    screenshot(page, "company-trip-map")
    only_the_app_was_asked(asked, live_server)


def test_the_review_map_draws_the_conflicting_trip_as_a_layer_of_its_own(
    world: World, page: Page, live_server: LiveServer
) -> None:
    approved_road(world)
    trips = []
    for lon0, metres in ((113.55, 1000), (113.556, 500)):
        uploaded, _ = services.trip_upload(
            actor=world.staff_a,
            vin=world.vehicle_a.vin,
            data=straight_east(start=T0, lon0=lon0, metres=metres),
            original_name="trip.csv",
        )
        trips.append(services.trip_process(trip_id=uploaded.pk))
    first, second = trips
    assert second.status == Trip.Status.NEEDS_REVIEW
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))

    log_in(page, world.bureau.username)
    page.goto(f"/trips/review/{second.pk}/")
    trace_map = page.get_by_role("region", name="行程轨迹地图")
    expect(trace_map).to_have_attribute("data-others-loaded", "1")
    other = page.locator(".map-layers").get_by_label(f"行程 #{first.pk}")
    expect(other).to_be_checked()
    assert shown(trace_map, "other-0")
    expect(
        page.locator("#conflicts-table").get_by_role("link", name=f"行程 #{first.pk}")
    ).to_be_visible()
    screenshot(page, "bureau-trip-review")
    other.uncheck()
    assert not shown(trace_map, "other-0")
    other.check()
    assert shown(trace_map, "other-0")
    only_the_app_was_asked(asked, live_server)


def out_and_back_gpx(*, lon0: float = 113.55, lat: float = 37.86, metres: int = 800) -> bytes:
    """A drive east for `metres` at 10 m/s, then back west to where it started."""
    step = 10 / (111_320 * 0.7899)  # degrees of longitude per 10 m at 37.86°N (cos ≈ 0.7899)
    n = metres // 10
    lons = [lon0 + i * step for i in range(n + 1)] + [lon0 + i * step for i in range(n - 1, -1, -1)]
    points = "".join(
        f'<trkpt lat="{lat}" lon="{lon:.7f}">'
        f"<time>{T0 + dt.timedelta(seconds=i):%Y-%m-%dT%H:%M:%SZ}</time></trkpt>"
        for i, lon in enumerate(lons)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="test"'
        f' xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>{points}</trkseg></trk></gpx>'
    ).encode()


def test_a_trip_that_ends_where_it_started_shows_both_start_and_end(
    world: World, page: Page
) -> None:
    uploaded, _ = services.trip_upload(
        actor=world.staff_a,
        vin=world.vehicle_a.vin,
        data=out_and_back_gpx(),
        original_name="there-and-back.gpx",
        declared_mode="auto",
    )
    trip = services.trip_process(trip_id=uploaded.pk)
    log_in(page, world.staff_a.username)
    page.goto(f"/trips/{trip.pk}/")
    trace_map = page.get_by_role("region", name="行程轨迹地图")
    expect(trace_map).to_have_attribute("data-loaded", re.compile(r"^[1-9]\d*$"))

    start = trace_map.locator(".trip-start span")
    end = trace_map.locator(".trip-end span")
    expect(start).to_have_text("起点")
    expect(end).to_have_text("终点")
    # Measured once the map has settled (fitting the view may still be zooming).
    page.wait_for_function(
        "el => !el.yqMap._animatingZoom && !el.querySelector('.leaflet-zoom-anim')",
        arg=trace_map.element_handle(),
    )
    a, b = start.bounding_box(), end.bounding_box()
    assert a is not None
    assert b is not None
    # Side by side, not one over the other: the start's label ends left of the end's.
    assert a["x"] + a["width"] <= b["x"], (a, b)
    # Each is the top element at its own centre: neither covers the other.
    for label, box in (("起点", a), ("终点", b)):
        on_top = page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y).textContent",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        assert on_top == label
    screenshot(page, "company-trip-round-trip-ends")
