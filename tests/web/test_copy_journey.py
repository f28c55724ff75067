"""A kilometre is paid once, tried as a new user would in a real Chromium: a company
uploads one recording for its first vehicle, then the very same file for its second;
the second is held, and its page names and links the first, drawn on the same map."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from core.roles import Role
from tests import factories
from tests.conftest import World
from tests.trips.replaygen import drive_legs, winding_road
from tests.trips.tracegen import START, generate, to_csv
from tests.web.conftest import screenshot
from trips.models import Trip

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.locator("form .form-actions").get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()


def upload(page: Page, vin: str, drive: Path) -> None:
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="上传行程日志").click()
    page.get_by_label("车辆").select_option(value=vin)
    page.get_by_label("行程日志文件").set_input_files([drive])
    page.get_by_role("button", name="上传", exact=True).click()
    row = page.locator(".upload-item").filter(has_text=drive.name)
    expect(row.locator(".badge")).not_to_have_text(re.compile("已接收|处理中"), timeout=30_000)


def test_the_same_file_for_a_second_vehicle_is_held_and_its_page_names_the_first(
    world: World, page: Page, tmp_path: Path
) -> None:
    second_vehicle = factories.vehicle(actor=world.bureau, operator=world.company_a)
    staff = factories.user(Role.OPERATOR, world.company_a)
    road = winding_road(np.random.default_rng(71))
    drive = tmp_path / "drive-0302.csv"
    drive.write_bytes(
        to_csv(generate(road, drive_legs(np.random.default_rng(72), road.length), start=START))
    )

    log_in(page, staff.username)
    upload(page, world.vehicle_a.vin, drive)
    first = Trip.objects.get(vehicle=world.vehicle_a)
    assert first.status == Trip.Status.ACCEPTED

    # The same bytes again, for the company's second vehicle.
    upload(page, second_vehicle.vin, drive)
    row = page.locator(".upload-item").filter(has_text=drive.name).last
    expect(row.locator(".badge")).to_have_text("待审核")
    second = Trip.objects.get(vehicle=second_vehicle)
    assert second.status == Trip.Status.NEEDS_REVIEW

    row.get_by_role("link", name=f"打开行程 #{second.pk}").click()
    expect(page.get_by_role("heading", name=f"行程 #{second.pk}")).to_be_visible()
    expect(page.locator(".reasons")).to_contain_text("此记录已提交过：同一文件。")
    table = page.locator("#conflicts-table")
    expect(table).to_contain_text(first.vehicle.plate)
    link = table.get_by_role("link", name=f"行程 #{first.pk}")
    expect(link).to_be_visible()
    trace_map = page.get_by_role("region", name="行程轨迹地图")
    expect(trace_map).to_have_attribute("data-others-loaded", "1")  # the first, drawn too
    screenshot(page, "company-trip-held-as-copy")

    link.click()
    expect(page.get_by_role("heading", name=f"行程 #{first.pk}")).to_be_visible()
