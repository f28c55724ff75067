"""Issue 16 in a real Chromium, in Chinese and English: the base map (offline: no request
leaves this machine), segment form refusals without a 500 or a script error, the problem
point on the map, area forms without road-only fields, and a stale vehicle-approval tab."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, Route, expect

from core.roles import Role
from operators.models import User, Vehicle
from routes import demo
from tests import factories
from tests.conftest import World
from tests.web.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


@pytest.fixture
def outside(page: Page) -> Iterator[list[str]]:
    """Every request for a host other than this machine, refused and counted; and every
    script error on the page."""
    leaving: list[str] = []

    def guard(route: Route, request: Request) -> None:
        host = urlsplit(request.url).hostname or ""
        if request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            leaving.append(request.url)
            route.abort()

    page.context.route("**/*", guard)  # every tab of the context
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield leaving
    assert errors == [], f"script errors: {errors}"


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.locator("form .form-actions").get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()


def to_english(page: Page) -> None:
    page.locator("#language-switch").select_option("en")
    page.locator("form.language").get_by_role("button").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def paste_geometry(page: Page, geometry: object) -> None:
    details = page.locator("details.geojson-text")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    field = page.locator("#id_geometry")
    field.fill(json.dumps(geometry))
    field.dispatch_event("change")


def save_new_segment(page: Page, name: str, geometry: object) -> None:
    """The new-segment form in Chinese: a name, the pasted geometry, saved as a draft."""
    page.goto("/segments/new/")
    page.get_by_label("名称", exact=True).fill(name)
    paste_geometry(page, geometry)
    page.get_by_role("button", name="保存为草稿").click()


@pytest.fixture
def bureau() -> User:
    user = factories.user(Role.BUREAU, username="bureau")
    demo.load()
    return user


def test_admin_sees_the_no_base_map_notice_and_no_tile_leaves_the_machine(
    bureau: User, page: Page, outside: list[str]
) -> None:
    admin = factories.user(Role.ADMIN, username="admin")
    log_in(page, admin.username)
    page.goto("/segments/")
    segment_map = page.get_by_role("region", name="路段地图")
    expect(segment_map.locator("path.segment-approved").first).to_be_visible()
    expect(segment_map.get_by_role("note")).to_contain_text("未配置底图")
    expect(segment_map.locator(".leaflet-tile")).to_have_count(0)
    screenshot(page, "admin-segments-no-base-map")
    assert outside == []


def test_the_bureau_sees_the_roads_without_the_admins_notice(
    bureau: User, page: Page, outside: list[str]
) -> None:
    log_in(page, bureau.username)
    page.goto("/segments/")
    segment_map = page.get_by_role("region", name="路段地图")
    expect(segment_map.locator("path.segment-approved").first).to_be_visible()
    expect(segment_map.locator(".map-notice")).to_have_count(0)
    assert outside == []


def test_a_pasted_point_is_refused_on_the_page_without_breaking_the_map(
    bureau: User, page: Page, outside: list[str]
) -> None:
    log_in(page, bureau.username)
    page.goto("/segments/new/")
    paste_geometry(page, {"type": "Point", "coordinates": [113.58, 37.86]})
    expect(page.locator(".draw-invalid")).to_have_text(
        "一个点既不是道路也不是区域：道路请给出 LineString，区域请给出 Polygon。"
    )
    # the map still works: the line tool draws
    expect(page.locator("#draw-map .leaflet-pm-icon-polyline")).to_be_visible()
    assert outside == []


def test_a_submitted_point_is_refused_once_under_the_field_not_again_on_the_map(
    bureau: User, page: Page, outside: list[str]
) -> None:
    log_in(page, bureau.username)
    save_new_segment(page, "一个点", {"type": "Point", "coordinates": [113.58, 37.86]})
    expect(page.locator("#id_geometry_error")).to_contain_text("而不是 Point")
    # The map has read the field again (the point is its red dot); its own note said the
    # same before the submit, and now the server's error says it.
    expect(page.locator('#draw-map path[stroke="#a4161a"]')).to_have_count(1)
    expect(page.locator(".draw-invalid")).to_be_hidden()
    assert outside == []


def test_an_infinite_coordinate_is_refused_on_the_page_without_drawing_it(
    bureau: User, page: Page, outside: list[str]
) -> None:
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    log_in(page, bureau.username)
    page.goto("/segments/new/")
    details = page.locator("details.geojson-text")
    details.locator("summary").click()
    field = page.locator("#id_geometry")
    # JSON.parse reads 1e400 as Infinity: a path of "M851 NaN…" was drawn and logged.
    field.fill('{"type": "LineString", "coordinates": [[1e400, 37.86], [113.59, 37.86]]}')
    field.dispatch_event("change")
    expect(page.locator(".draw-invalid")).to_have_text(
        "文本不是有效的 GeoJSON；地图显示上一次的绘制。"
    )
    assert errors == []
    assert outside == []


def test_a_one_point_line_is_refused_in_chinese_then_in_english(
    bureau: User, page: Page, outside: list[str]
) -> None:
    log_in(page, bureau.username)
    save_new_segment(page, "一点路", {"type": "LineString", "coordinates": [[113.58, 37.86]]})
    expect(page.locator(".geometry-field")).to_contain_text(
        "一条线至少需要两个点，这条线不足两个点。请画出完整的中心线。"
    )
    to_english(page)
    page.goto("/segments/new/")
    page.get_by_label("Name", exact=True).fill("One point road")
    paste_geometry(page, {"type": "LineString", "coordinates": [[113.58, 37.86]]})
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator(".geometry-field")).to_contain_text(
        "A line needs at least two points; this one has fewer."
    )
    assert outside == []


def test_a_self_intersecting_area_is_refused_with_its_point_marked(
    bureau: User, page: Page, outside: list[str]
) -> None:
    log_in(page, bureau.username)
    page.goto("/segments/new/")
    page.get_by_label("名称", exact=True).fill("蝴蝶区")
    page.get_by_label("区域（片区）").check()
    # road-only fields are hidden for an area
    expect(page.locator(".field-two_way")).to_be_hidden()
    expect(page.locator(".field-road_code")).to_be_hidden()
    expect(page.locator(".field-corridor_half_width_m")).to_be_hidden()
    bowtie = [[113.58, 37.86], [113.59, 37.87], [113.59, 37.86], [113.58, 37.87], [113.58, 37.86]]
    paste_geometry(page, {"type": "Polygon", "coordinates": [bowtie]})
    page.get_by_role("button", name="保存为草稿").click()
    expect(page.locator(".geometry-field")).to_contain_text(
        "多边形无效（边界自相交，位于 113.585000, 37.865000）"
    )
    expect(page.locator(".geometry-field")).not_to_contain_text("Self-intersection")
    expect(page.locator("#draw-map .leaflet-tooltip")).to_have_text("问题在这里")
    expect(page.locator("#draw-map path.problem-point")).to_have_count(1)
    screenshot(page, "bureau-segment-self-intersection")
    assert outside == []


def test_a_stale_second_tab_cannot_renew_a_permit_just_approved(
    world: World, page: Page, outside: list[str]
) -> None:
    vehicle = factories.vehicle(actor=world.bureau, operator=world.company_a, permit=None)
    log_in(page, world.bureau.username)
    second = page.context.new_page()
    for tab in (page, second):
        tab.goto(f"/vehicles/{vehicle.pk}/approve/")
        tab.get_by_label("许可编号").fill("0201" if tab is page else "0202")
        tab.get_by_label("许可生效日期").fill("2026-01-01")
        tab.get_by_label("许可截止日期（含当日）").fill("2026-12-31")
    page.get_by_role("button", name="批准").click()
    expect(page.get_by_role("status")).to_contain_text("许可已批准")
    second.get_by_role("button", name="批准").click()
    expect(second.get_by_role("alert")).to_contain_text("在您打开此页面之后被他人修改")
    screenshot(second, "bureau-permit-stale-tab")
    vehicle = Vehicle.objects.get(pk=vehicle.pk)
    assert vehicle.permit_number == "0201"
    # the audit trail reads as a table: before and after, with labels
    page.goto(f"/vehicles/{vehicle.pk}/")
    trail = page.get_by_role("region", name="审计记录")
    expect(trail.locator("table.changes").first).to_contain_text("0201")
    expect(trail).not_to_contain_text("{")
    second.close()
    assert outside == []


def test_the_admit_page_of_an_admitted_company_sends_back_with_a_reason_in_english(
    world: World, page: Page, outside: list[str]
) -> None:
    log_in(page, world.bureau.username)
    to_english(page)
    page.goto(f"/companies/{world.company_a.pk}/admit/")
    expect(page).to_have_url(re.compile(rf"/companies/{world.company_a.pk}/$"))
    expect(page.get_by_role("status")).to_contain_text("there is nothing to admit")
    assert outside == []


def test_the_bureau_dashboard_draws_the_two_way_chart(
    bureau: User, page: Page, outside: list[str]
) -> None:
    log_in(page, bureau.username)
    chart = page.locator(".card-two-way-km svg.chart")
    expect(chart).to_be_visible()
    expect(chart.locator("line.target")).to_have_count(1)
    expect(chart.locator("title").first).to_have_text("双向运营里程（逐月）")
    assert outside == []
