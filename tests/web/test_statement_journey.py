"""A statement's charts and an issued year, in a real Chromium (issues #15, #16): finance
reads kilometres per month and per vehicle as charts with their tables and opens the trips
behind a month; the company then sees last year's subsidy as issued, not projected, and
follows it to the statement. Screenshots for docs/user-guide."""

from __future__ import annotations

import datetime as dt
import importlib
import re

import pytest
from django.apps import apps
from playwright.sync_api import Page, expect

from core.roles import Role
from subsidies import computation, services
from subsidies.models import Statement
from tests import factories
from tests.conftest import World
from tests.subsidies import factories as sf
from tests.web.conftest import screenshot
from tests.web.test_finance_journey import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

YEAR = 2025  # inside the default policy window, and over: its statements may be issued
_seed = importlib.import_module("subsidies.migrations.0002_seed_policy").seed


@pytest.fixture(autouse=True)
def default_policy(transactional_db: None) -> None:
    _seed(apps, None)


def issued_year(world: World) -> Statement:
    """甲公司 in 2025, graded A: vehicle A 1,200.5 km in March and 800 km in September,
    a second vehicle 450.25 km in September: 2,450.75 km × 3.00 = 7,352.25 元."""
    second = factories.vehicle(actor=world.bureau, operator=world.company_a)
    sf.trip(vehicle=world.vehicle_a, days={dt.date(YEAR, 3, 10): "1200500"})
    sf.trip(vehicle=world.vehicle_a, days={dt.date(YEAR, 9, 1): "800000"})
    sf.trip(vehicle=second, days={dt.date(YEAR, 9, 2): "450250"})
    sf.grade(actor=world.bureau, operator=world.company_a, year=YEAR, grade="A")
    computation.statements_compute(year=YEAR, actor=world.finance)
    statement = Statement.objects.get(operator=world.company_a, year=YEAR)
    statement = services.statement_approve(actor=world.finance, statement=statement)
    return services.statement_issue(
        actor=factories.user(Role.FINANCE),
        statement=statement,
        document_number="阳财建〔2026〕15号",
    )


def test_finance_reads_the_charts_and_the_company_sees_the_year_issued(
    world: World, page: Page
) -> None:
    statement = issued_year(world)

    log_in(page, world.finance.username)
    page.goto(f"/statements/{statement.pk}/")
    expect(page.locator(".amount")).to_have_text("7,352.25 元")
    expect(page.locator("main")).to_contain_text("2,450.750 公里")
    by_month = page.get_by_role("region", name="按月汇总")
    chart = by_month.get_by_role("img", name=f"每月合规里程（{YEAR} 年）")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.bar")).to_have_count(2)
    # The chart's figures are read out too, and are the table's.
    expect(chart.locator("desc")).to_have_text(
        f"{YEAR}-03: 1,200.500 公里; {YEAR}-09: 1,250.250 公里"
    )
    expect(by_month.get_by_role("row", name=re.compile(f"{YEAR}-09"))).to_contain_text("1,250.250")
    by_vehicle = page.get_by_role("region", name="按车辆汇总")
    expect(by_vehicle.get_by_role("img", name=f"各车辆合规里程（{YEAR} 年）")).to_be_visible()
    expect(by_vehicle.locator("rect.bar")).to_have_count(2)
    by_month.scroll_into_view_if_needed()
    screenshot(page, "finance-statement-charts")

    # A month's row opens the trip list for that month: September's two trips.
    by_month.get_by_role("link", name=f"{YEAR}-09", exact=True).click()
    expect(page).to_have_url(re.compile(r"/trips/\?operator="))
    expect(page.locator("table.data tbody tr")).to_have_count(2)
    page.go_back()
    expect(page.locator(".amount")).to_have_text("7,352.25 元")

    log_in(page, world.staff_a.username)
    card = page.locator(".card", has_text="已下达补贴")
    expect(card).to_contain_text(f"已下达补贴（{YEAR} 年）")
    expect(card).to_contain_text("7,352.25 元")
    page.goto("/statements/")
    ytd = page.get_by_role("region", name=re.compile("本年度至今"))
    expect(ytd).to_contain_text(f"已下达补贴（{YEAR} 年）")
    expect(ytd).to_contain_text("阳财建〔2026〕15号")
    expect(ytd).not_to_contain_text(f"预计补贴（{YEAR} 年）")
    screenshot(page, "company-statements-issued")
    ytd.get_by_role("link", name="查看结算单").click()
    expect(page.locator(".amount")).to_have_text("7,352.25 元")
    expect(page.locator(".subtitle")).to_contain_text("已下达")
