"""A trip's journey through the web UI in a real Chromium: a company uploads a real GPS
recording moved into an approved zone, watches it upload and verify, and opens its map;
the bureau rejects it from the review queue. Assertions are on what a person sees."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from core.roles import Role
from routes import services as routes_services
from tests import factories
from tests.conftest import World
from tests.web.conftest import screenshot
from trips.models import Trip
from trips.templatetags.trips_ui import km

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real-traces"
BUS_DRIVE = REAL / "movingpandas__304_to_UL_2019-02-18_0745.gpx"
FIX = re.compile(r'lat="(-?[\d.]+)" lon="(-?[\d.]+)"')

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not BUS_DRIVE.is_file(), reason="../shared/real-traces not beside the clone"
    ),
]


def moved_to_yangquan(gpx: str) -> tuple[str, list[tuple[float, float]]]:
    """The GPX with every fix shifted by one constant lat/lon offset so that the drive's
    centre lands in Yangquan (113.58°E, 37.86°N): its real noise, gaps and timing stay."""
    fixes = [(float(lat), float(lon)) for lat, lon in FIX.findall(gpx)]
    d_lat = 37.86 - statistics.fmean(lat for lat, _ in fixes)
    d_lon = 113.58 - statistics.fmean(lon for _, lon in fixes)

    def shift(match: re.Match[str]) -> str:
        return f'lat="{float(match[1]) + d_lat:.7f}" lon="{float(match[2]) + d_lon:.7f}"'

    moved = [(lat + d_lat, lon + d_lon) for lat, lon in fixes]
    return FIX.sub(shift, gpx), moved


def approve_zone_over_the_western_half(world: World, fixes: list[tuple[float, float]]) -> None:
    lats = [lat for lat, _ in fixes]
    lons = [lon for _, lon in fixes]
    west, middle = min(lons) - 0.002, statistics.median(lons)
    south, north = min(lats) - 0.002, max(lats) + 0.002
    ring = [[west, south], [middle, south], [middle, north], [west, north], [west, south]]
    zone = routes_services.segment_create(
        actor=world.bureau,
        name="高新区示范区域",
        kind="area",
        geometry={"type": "Polygon", "coordinates": [ring]},
    )
    zone = routes_services.segment_submit(actor=world.bureau, segment=zone)
    routes_services.segment_approve(
        actor=world.bureau,
        segment=zone,
        valid_from=dt.datetime(2018, 1, 1, tzinfo=dt.UTC),
        approval_ref="阳交智测〔2018〕1号",
    )


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.locator("form .form-actions").get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()


def test_company_uploads_a_real_trace_and_the_bureau_rejects_it(
    world: World, page: Page, tmp_path: Path
) -> None:
    # A company in the pilot since 2018, so that the 2019 recording can earn kilometres.
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
    drive = tmp_path / "304_to_UL_2019-02-18_0745.gpx"
    drive.write_text(gpx, encoding="utf-8")
    empty = tmp_path / "empty.gpx"
    empty.write_bytes(b"")

    # The company uploads the drive (and, by mistake, an empty file).
    log_in(page, staff.username)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="上传行程日志").click()
    page.get_by_label("车辆").select_option(value=vehicle.vin)
    page.get_by_label("驾驶模式").select_option(label="自动驾驶")  # GPX carries no mode
    page.get_by_label("行程日志文件").set_input_files([drive, empty])
    expect(page.locator("#chosen-files li")).to_have_count(2)
    page.get_by_role("button", name="上传", exact=True).click()

    rows = page.locator(".upload-item")
    expect(rows).to_have_count(2)
    drive_row = rows.filter(has_text=drive.name)
    expect(drive_row.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    # 75 minutes with gaps of up to 138 s: verified, and flagged for the bureau.
    expect(drive_row.locator(".badge")).to_have_text("待审核", timeout=30_000)
    expect(drive_row).to_contain_text("合规里程")
    empty_row = rows.filter(has_text=empty.name)
    expect(empty_row.locator(".upload-status")).to_contain_text("未上传")
    expect(empty_row.locator(".upload-status")).to_contain_text("空")
    screenshot(page, "company-trip-upload")
    assert Trip.objects.count() == 1
    trip = Trip.objects.get()
    assert 0 < trip.eligible_m < trip.autonomous_m <= trip.total_m

    # The trip: its map drawn by colour, the figures, the reasons in words.
    drive_row.get_by_role("link", name=f"打开行程 #{trip.pk}").click()
    expect(page.get_by_role("heading", name=f"行程 #{trip.pk}")).to_be_visible()
    trace_map = page.get_by_role("region", name="行程轨迹地图")
    expect(trace_map).to_have_attribute("data-loaded", re.compile(r"^[1-9]\d*$"))
    expect(trace_map.locator("path.leaflet-interactive").first).to_be_attached()
    facts = page.locator("dl.facts").first
    expect(facts).to_contain_text(f"{km(trip.total_m)} 公里")
    expect(facts).to_contain_text(f"{km(trip.eligible_m)} 公里")
    expect(facts).to_contain_text(f"{trip.points_used} / {trip.points_total}")
    expect(facts).to_contain_text("2019-02-18 15:45:50")  # 07:45:50Z in Beijing time
    # The segments driven (the map's table of approved zones names it too).
    driven = page.locator("section[aria-labelledby=trip-segments]")
    expect(driven.get_by_role("cell", name="高新区示范区域")).to_be_visible()
    expect(page.locator(".reasons")).to_contain_text("行程中定位点之间的中断时间占比过高。")
    expect(page.locator(".legend-table")).to_contain_text("日志中断（不计里程）")
    screenshot(page, "company-trip-detail")

    # The bureau rejects it from the review queue, with a reason.
    page.context.clear_cookies()
    log_in(page, world.bureau.username)
    expect(page.locator("#card-review-queue + .figure")).to_have_text("1")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="审核队列").click()
    row = page.get_by_role("row", name=re.compile(f"#{trip.pk}"))
    expect(row).to_contain_text("晋阳智行")
    expect(row).to_contain_text("行程中定位点之间的中断时间占比过高。")
    screenshot(page, "bureau-review-queue")
    row.get_by_role("link", name=f"审核行程 #{trip.pk}").click()
    expect(page.get_by_role("region", name="行程轨迹地图")).to_have_attribute(
        "data-loaded", re.compile(r"^[1-9]\d*$")
    )
    page.get_by_label("驳回").check()
    page.get_by_role("button", name="提交审核结论").click()
    reason_field = page.locator(".field", has=page.get_by_label("理由"))
    expect(reason_field.locator(".errorlist")).to_have_text("该字段是必填项。")
    page.get_by_label("驳回").check()
    page.get_by_label("理由").fill("日志中断过多，无法核实合规里程")
    screenshot(page, "bureau-trip-review")
    page.get_by_role("button", name="提交审核结论").click()

    expect(page.get_by_role("status")).to_contain_text(f"行程 #{trip.pk} 已驳回。")
    expect(page.locator("tbody")).to_contain_text("没有待审核的行程。")
    reviewed = Trip.objects.get(pk=trip.pk)
    assert (reviewed.status, reviewed.review_reason) == (
        Trip.Status.REJECTED,
        "日志中断过多，无法核实合规里程",
    )
