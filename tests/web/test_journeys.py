"""Journeys through the web UI in a real Chromium, asserting on what a person sees."""

import datetime as dt
import json
import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from operators.identifiers import vin_check_digit
from operators.models import Vehicle
from tests import factories
from tests.conftest import World
from tests.web.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SYSTEM_NAME_ZH = "阳泉市智能网联汽车示范应用里程与补贴台账"


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.locator("form .form-actions").get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()


def test_company_staff_propose_a_vehicle_and_see_a_vin_error_in_chinese(
    world: World, page: Page
) -> None:
    log_in(page, world.staff_a.username)
    expect(page.locator(".site-title .name")).to_have_text(SYSTEM_NAME_ZH)
    expect(page.locator(".card").first).to_contain_text("甲公司")
    screenshot(page, "company-dashboard")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="本企业车辆").click()
    page.get_by_role("link", name="申报车辆").click()
    draft = "LSVAU2180N2184211"
    good_vin = draft[:8] + vin_check_digit(draft) + draft[9:]
    wrong_digit = "0" if good_vin[8] != "0" else "1"
    page.get_by_label("车辆识别代号").fill(good_vin[:8] + wrong_digit + good_vin[9:])
    page.get_by_label("号牌").fill("晋CD88888")
    page.get_by_label("类别").select_option(label="出租车")
    page.get_by_role("button", name="申报", exact=True).click()

    vin_field = page.locator(".field", has=page.get_by_label("车辆识别代号"))
    expect(vin_field.locator(".errorlist")).to_have_text(
        f"车辆识别代号校验位（第 9 位）应为 {good_vin[8]}。"
    )
    expect(page.get_by_label("车辆识别代号")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "company-vin-error")

    page.get_by_label("车辆识别代号").fill(good_vin)
    page.get_by_role("button", name="申报", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("车辆 晋CD88888 已申报")
    expect(page.locator(".subtitle")).to_contain_text("已申报")

    page.get_by_role("navigation", name="当前位置").get_by_role("link", name="本企业车辆").click()
    row = page.get_by_role("row", name=re.compile("晋CD88888"))
    expect(row).to_contain_text(good_vin)
    expect(row).to_contain_text("已申报")
    screenshot(page, "company-vehicles")


def test_bureau_admits_a_company_and_approves_a_vehicle_permit(world: World, page: Page) -> None:
    newcomer = factories.operator(actor=world.bureau, name="丙公司", admitted_on=None)
    proposed = factories.vehicle(actor=world.bureau, operator=newcomer, permit=None)
    log_in(page, world.bureau.username)

    page.get_by_role("navigation", name="主导航").get_by_role(
        "link", name="企业", exact=True
    ).click()
    page.get_by_label("状态").select_option(label="已登记")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    screenshot(page, "bureau-companies")
    page.get_by_role("link", name="丙公司").click()
    page.get_by_role("link", name="纳入示范应用").click()
    page.get_by_label("纳入示范应用日期").fill("2026-03-01")
    page.get_by_label("理由").fill("经评审纳入第二批示范应用")
    page.get_by_role("button", name="准入", exact=True).click()

    expect(page.get_by_role("status")).to_contain_text("“丙公司”已纳入示范应用。")
    expect(page.locator(".subtitle")).to_have_text("已纳入示范应用")
    audit = page.get_by_role("region", name="审计记录")
    latest = audit.locator("tbody tr").first
    admitted_on = latest.locator("table.changes tr", has_text="纳入示范应用日期")
    expect(admitted_on.locator("td.new")).to_have_text("2026-03-01")  # before → after table
    expect(latest).to_contain_text("经评审纳入第二批示范应用")
    expect(latest).to_contain_text(world.bureau.username)
    screenshot(page, "bureau-company-admitted")

    page.get_by_role("link", name=proposed.plate).click()
    page.get_by_role("link", name="批准许可").click()
    page.get_by_label("许可编号").fill("阳交智测〔2026〕0301号")
    page.get_by_label("许可生效日期").fill("2026-03-01")
    page.get_by_label("许可截止日期（含当日）").fill("2026-02-01")
    page.get_by_role("button", name="批准", exact=True).click()
    expect(page.locator(".field.has-error .errorlist")).to_have_text(
        "许可的截止日期不能早于起始日期。"
    )
    page.get_by_label("许可截止日期（含当日）").fill("2027-02-28")
    page.get_by_role("button", name="批准", exact=True).click()

    expect(page.get_by_role("status")).to_contain_text(f"车辆 {proposed.plate} 的许可已批准。")
    expect(page.locator(".subtitle")).to_contain_text("许可已批准")
    expect(page.locator("dl.facts")).to_contain_text("2026-03-01 – 2027-02-28")
    status_change = (
        page.get_by_role("region", name="审计记录")
        .locator("table.changes tr", has_text="状态")
        .first
    )
    expect(status_change.locator("td.old")).to_have_text("已申报")
    expect(status_change.locator("td.new")).to_have_text("许可已批准")
    screenshot(page, "bureau-permit-approved")
    approved = Vehicle.objects.get(pk=proposed.pk)
    assert (approved.status, approved.permit_valid_to) == ("approved", dt.date(2027, 2, 28))


def test_a_company_cannot_open_another_companys_vehicle_by_url(world: World, page: Page) -> None:
    log_in(page, world.staff_a.username)
    for path in ("", "edit/", "approve/", "status/"):
        response = page.goto(f"/vehicles/{world.vehicle_b.pk}/{path}")
        assert response is not None
        assert response.status == 404
        expect(page.get_by_role("heading", name="未找到")).to_be_visible()
        expect(page.locator("body")).not_to_contain_text(world.vehicle_b.plate)
    screenshot(page, "company-other-vehicle-404")


def test_switching_to_english_shows_the_english_interface(world: World, page: Page) -> None:
    log_in(page, world.staff_a.username)
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()

    expect(page.locator(".site-title .name")).to_have_text(
        "Yangquan AV pilot mileage and subsidy ledger"
    )
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.get_by_role("link", name="My vehicles").first.click()
    expect(page.get_by_role("row", name=re.compile(world.vehicle_a.plate))).to_contain_text(
        "Permit approved"
    )
    screenshot(page, "company-vehicles-english")


def test_the_map_helper_draws_geojson_coloured_by_a_property(
    page: Page, live_server: LiveServer
) -> None:
    segments = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "桃北东街", "status": "approved"},
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[113.57, 37.85], [113.6, 37.86]],
                },
            },
            {
                "type": "Feature",
                "properties": {"name": "南外环", "status": "draft"},
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[113.55, 37.83], [113.58, 37.83]],
                },
            },
        ],
    }
    static = f"{live_server.url}/static"
    page.set_content(
        f"""<!doctype html><html><head>
        <link rel="stylesheet" href="{static}/css/app.css">
        <link rel="stylesheet" href="{static}/vendor/leaflet/leaflet.css">
        <script src="{static}/vendor/leaflet/leaflet.js" defer></script>
        <script src="{static}/js/map.js" defer></script>
        <script id="map-settings" type="application/json">{{"tileUrl": ""}}</script>
        <script id="segments" type="application/json">{json.dumps(segments)}</script>
        </head><body><div class="map" data-map data-geojson="segments" data-color-by="status"
        data-colors='{{"approved": "#1b6e3a", "draft": "#0b4fa8"}}' data-popup="name"></div>
        </body></html>"""
    )
    lines = page.locator(".leaflet-overlay-pane path")
    expect(lines).to_have_count(2)
    assert sorted(lines.evaluate_all("els => els.map(e => e.getAttribute('stroke'))")) == [
        "#0b4fa8",
        "#1b6e3a",
    ]
    expect(page.locator(".leaflet-tile")).to_have_count(0)  # no base map unless configured
    # A dispatched click does not depend on where the path is drawn while the map still settles.
    lines.first.dispatch_event("click")
    expect(page.locator(".leaflet-popup-content")).to_contain_text("桃北东街")
