"""The bureau's dashboard in Chromium: the km-per-company chart beside the plan's two-way
km, its legend in words and its figures a click away."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import World
from tests.web.conftest import screenshot
from tests.web.test_dashboard_km_chart import driven  # noqa: F401 - the fixture
from tests.web.test_trip_journey import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_bureau_reads_km_per_company_from_the_chart_and_its_table(
    driven: World,  # noqa: F811 - the fixture imported above
    page: Page,
) -> None:
    log_in(page, driven.bureau.username)

    panel = page.locator("section.km-by-company")
    expect(panel.get_by_role("heading", name="各企业每月合规里程")).to_be_visible()
    expect(panel.get_by_role("img", name="各企业每月合规里程")).to_be_visible()
    expect(panel.locator(".chart-legend")).to_contain_text("甲公司 · 3.000 公里")
    expect(panel.locator(".chart-legend")).to_contain_text("乙公司 · 0.500 公里")
    panel.get_by_text("按月数据").click()
    expect(panel.get_by_role("row", name="2026-05")).to_contain_text("2.500")
    expect(page.locator(".card-two-way-km")).to_contain_text("200")
    screenshot(page, "bureau-dashboard")
