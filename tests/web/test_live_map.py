"""The live map in a real Chromium: the bureau sees every vehicle, a company its own; each
row says where, in which mode, whether inside an approved zone and when last seen; and a
fix stored after the page loaded appears without a reload."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from operators.models import Vehicle
from routes import services as routes_services
from telemetry import services
from telemetry.models import Terminal
from telemetry.services import FixRow
from tests import factories
from tests.conftest import World, make_world
from tests.web.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# An approved road due east along 37.86°N (15 m corridor); vehicle A drives on it, B not.
ROAD = {"type": "LineString", "coordinates": [[113.54, 37.86], [113.60, 37.86]]}
ON_ROAD = (37.86, 113.57)
OFF_ROAD = (37.80, 113.50)


@pytest.fixture
def live_world(transactional_db: None, settings: Any) -> World:
    settings.LIVE_MAP_REFRESH_S = 0.5
    world = make_world()
    road = routes_services.segment_create(
        actor=world.bureau,
        name="测试大道",
        kind="road",
        geometry=ROAD,
        corridor_half_width_m=Decimal(15),
    )
    road = routes_services.segment_submit(actor=world.bureau, segment=road)
    routes_services.segment_approve(
        actor=world.bureau,
        segment=road,
        valid_from=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
        approval_ref="阳交〔2023〕1号",
    )
    return world


def report(
    vehicle: Vehicle, at: dt.datetime, where: tuple[float, float], *, autonomous: bool
) -> None:
    """Store a fix as the gateway's writer does, from the vehicle's (first) terminal."""
    terminal = Terminal.objects.filter(vehicle=vehicle).first()
    if terminal is None:
        terminal, _code = services.terminal_register(
            actor=factories.user(),
            vehicle_id=vehicle.pk,
            protocol=Terminal.Protocol.MQTT,
            terminal_id=vehicle.vin,
        )
    services.fixes_store(
        rows=[
            FixRow(
                terminal_pk=terminal.pk,
                vehicle_pk=vehicle.pk,
                t=at,
                received_at=timezone.now(),
                lat=where[0],
                lon=where[1],
                autonomous=autonomous,
            )
        ]
    )


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.locator("form .form-actions").get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()


def shanghai(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S")


def test_the_bureau_sees_every_vehicle_and_new_fixes_without_reloading(
    live_world: World, page: Page
) -> None:
    world = live_world
    first = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=2)
    report(world.vehicle_a, first, ON_ROAD, autonomous=True)
    report(world.vehicle_b, first, OFF_ROAD, autonomous=False)
    log_in(page, world.bureau.username)
    page.goto("/live/")
    expect(page.get_by_role("heading", name="实时地图")).to_be_visible()

    row_a = page.get_by_role("row", name=re.compile(world.vehicle_a.plate))
    expect(row_a).to_contain_text("甲公司")
    expect(row_a).to_contain_text("37.860000, 113.570000")
    expect(row_a).to_contain_text("自动驾驶")
    expect(row_a.locator("td").nth(4)).to_have_text("是")  # on the approved road
    expect(row_a).to_contain_text(shanghai(first))
    row_b = page.get_by_role("row", name=re.compile(world.vehicle_b.plate))
    expect(row_b).to_contain_text("乙公司")
    expect(row_b).to_contain_text("37.800000, 113.500000")
    expect(row_b).to_contain_text("人工驾驶")
    expect(row_b.locator("td").nth(4)).to_have_text("否")
    live_map = page.get_by_role("region", name="车辆实时地图")
    expect(live_map.locator("path.leaflet-interactive")).to_have_count(2)  # one marker each
    screenshot(page, "bureau-live-map")

    # Vehicle B reaches the road and hands over to the system: stored after the page loaded.
    later = first + dt.timedelta(minutes=1)
    report(world.vehicle_b, later, (37.86, 113.58), autonomous=True)
    row_b = page.get_by_role("row", name=re.compile(world.vehicle_b.plate))
    expect(row_b).to_contain_text("37.860000, 113.580000", timeout=5_000)
    expect(row_b).to_contain_text("自动驾驶")
    expect(row_b.locator("td").nth(4)).to_have_text("是")
    expect(row_b).to_contain_text(shanghai(later))


def test_a_company_sees_only_its_own_vehicles_and_they_stay_its_own(
    live_world: World, page: Page
) -> None:
    world = live_world
    at = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    report(world.vehicle_a, at, ON_ROAD, autonomous=True)
    log_in(page, world.staff_b.username)
    page.goto("/live/")
    table = page.locator("#live-table")
    expect(table).to_contain_text("尚无车辆上报。")

    # Another company's fix after load never appears; its own does.
    report(world.vehicle_a, at + dt.timedelta(seconds=30), ON_ROAD, autonomous=True)
    report(world.vehicle_b, at, OFF_ROAD, autonomous=False)
    row_b = page.get_by_role("row", name=re.compile(world.vehicle_b.plate))
    expect(row_b).to_contain_text("37.800000, 113.500000", timeout=5_000)
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).not_to_contain_text(world.vehicle_a.plate)
    expect(table).not_to_contain_text("甲公司")
