"""The bureau's road-segment journey in a real Chromium: the map in colour, approving a
submitted segment with a validity window and reference, and drawing a road with the mouse."""

import re

import pytest
from playwright.sync_api import Page, expect

from core.roles import Role
from operators.models import User
from routes import demo
from routes.models import RoadSegment
from tests import factories
from tests.web.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

APPROVED_GREEN = "#1b6e3a"


@pytest.fixture
def bureau() -> User:
    """The demo's bureau account, with the demo roads and districts drawn by it."""
    user = factories.user(Role.BUREAU, username="bureau")
    demo.load()
    return user


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.locator("form .form-actions").get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()


def open_segments(page: Page) -> None:
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="路段").click()
    expect(page.get_by_role("heading", name="路段", exact=True)).to_be_visible()


def test_bureau_approves_a_submitted_segment_and_sees_it_turn_green(
    bureau: User, page: Page
) -> None:
    log_in(page, bureau.username)
    expect(page.locator(".card-two-way-km")).to_contain_text("双向运营里程（规划目标 200 公里）")
    open_segments(page)

    segment_map = page.get_by_role("region", name="路段地图")
    expect(segment_map.locator("path.segment-approved").first).to_have_attribute(
        "stroke", APPROVED_GREEN
    )
    expect(segment_map.locator("path.segment-submitted")).to_have_count(1)
    expect(segment_map.locator("path.segment-draft")).to_have_count(2)
    legend = page.get_by_label("图例")
    for label in ("已批准", "已提交", "草稿", "已暂停"):
        expect(legend).to_contain_text(label)
    row = page.get_by_role("row", name=re.compile("泉中路"))
    expect(row).to_contain_text("已提交")
    screenshot(page, "bureau-segments-map")

    row.get_by_role("link", name="泉中路").click()
    page.locator(".actions").get_by_role("link", name="批准", exact=True).click()
    page.get_by_label("生效时间").fill("2026-01-01T08:00")
    page.get_by_label("批文号").fill("阳交运发〔2026〕12号")
    page.get_by_label("理由").fill("经专家评审，同意开放")
    screenshot(page, "bureau-segment-approve")
    page.get_by_role("button", name="批准", exact=True).click()

    expect(page.get_by_role("status")).to_contain_text("“泉中路 v1”已批准。")
    expect(page.locator(".subtitle .badge")).to_have_text("已批准")
    expect(page.locator("dl.facts")).to_contain_text("2026-01-01 08:00 – 长期")
    expect(page.locator("dl.facts")).to_contain_text("阳交运发〔2026〕12号")
    expect(page.get_by_role("region", name="审计记录").locator("tbody tr").first).to_contain_text(
        "经专家评审，同意开放"
    )

    page.get_by_role("navigation", name="当前位置").get_by_role("link", name="路段").click()
    row = page.get_by_role("row", name=re.compile("泉中路"))
    expect(row).to_contain_text("已批准")
    expect(row).to_contain_text("2026-01-01 08:00 – 长期")
    expect(row).to_contain_text("阳交运发〔2026〕12号")
    segment_map = page.get_by_role("region", name="路段地图")
    expect(segment_map.locator("path.segment-submitted")).to_have_count(0)
    screenshot(page, "bureau-segment-approved")
    approved = RoadSegment.objects.get(name="泉中路")
    assert (approved.status, approved.approval_ref) == ("approved", "阳交运发〔2026〕12号")


def test_bureau_draws_a_short_road_with_the_mouse(bureau: User, page: Page) -> None:
    log_in(page, bureau.username)
    open_segments(page)
    page.get_by_role("link", name="绘制道路或区域").click()
    expect(page.get_by_role("heading", name="绘制道路或区域")).to_be_visible()

    page.get_by_label("名称", exact=True).fill("试验路")
    page.get_by_label("道路编号", exact=True).fill("SY-01")
    draw_map = page.locator("#draw-map")
    draw_map.locator(".leaflet-pm-icon-polyline").click()
    box = draw_map.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    points = [(x - 120, y + 40), (x, y + 20), (x + 120, y + 60)]
    for px, py in points:
        page.mouse.click(px, py)
    page.mouse.click(*points[-1])  # clicking the last point again finishes the line
    expect(page.locator("#id_geometry")).to_have_value(re.compile('"LineString"'))
    screenshot(page, "bureau-segment-draw")
    page.get_by_role("button", name="保存为草稿").click()

    expect(page.get_by_role("status")).to_contain_text("“试验路”已保存为草稿。")
    expect(page.locator(".subtitle .badge")).to_have_text("草稿")
    road = RoadSegment.objects.get(name="试验路")
    assert (road.kind, road.status, road.road_code) == ("road", "draft", "SY-01")
    assert road.length_m is not None
    assert len(road.geometry["coordinates"]) == 3
