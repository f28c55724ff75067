"""The money's journey through the web UI in a real Chromium: the bureau grades a company's
year, finance computes the year, opens the statement, approves and issues it and downloads
its PDF. Assertions are on what a person sees."""

from __future__ import annotations

import datetime as dt
import importlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.apps import apps
from playwright.sync_api import Page, expect

from tests import factories
from tests.conftest import World
from tests.subsidies import factories as sf
from tests.web.conftest import SCREENSHOTS, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

YEAR = 2025  # inside the default policy window, and over (issue 15)
_seed = importlib.import_module("subsidies.migrations.0002_seed_policy").seed


@pytest.fixture(autouse=True)
def default_policy(transactional_db: None) -> None:
    # Tests that use transactional_db flush every table when they end, the seeded policy too.
    _seed(apps, None)


def log_in(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.locator("form .form-actions").get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()


def nav(page: Page, label: str) -> None:
    page.get_by_role("navigation", name="主导航").get_by_role("link", name=label).click()


def test_bureau_grades_and_finance_computes_issues_and_downloads_the_statement(
    world: World, page: Page, tmp_path: Path
) -> None:
    # 甲公司 drove 40,000.5 + 10,000 eligible km in 2025: 50,000.5 km × 3.00 (grade A)
    # = 150,001.50 yuan, under the 300,000 cap.
    sf.trip(vehicle=world.vehicle_a, days={dt.date(YEAR, 3, 10): "40000500"})
    sf.trip(vehicle=world.vehicle_a, days={dt.date(YEAR, 9, 1): "10000000"})

    log_in(page, world.bureau.username)
    nav(page, "等级评定")
    page.get_by_role("spinbutton", name=re.compile("^年度")).fill(str(YEAR))
    page.get_by_role("button", name="筛选").click()
    row = page.get_by_role("row", name=re.compile("甲公司"))
    expect(row).to_contain_text("50,000.5")  # the eligible km that inform the grade
    expect(row).to_contain_text("未评定")
    row.get_by_role("link", name="评定 甲公司").click()
    expect(page.get_by_role("heading", name=f"{YEAR} 年度等级评定")).to_be_visible()
    page.get_by_label("等级", exact=True).select_option(label="A — 优秀")
    page.get_by_label("得分").fill("92")
    page.get_by_label("备注").fill("全年运营平稳，无安全事故。")
    page.get_by_role("button", name="保存等级").click()
    expect(page.get_by_role("status")).to_contain_text(f"甲公司 {YEAR} 年度评定为 A。")
    expect(page.get_by_role("row", name=re.compile("甲公司"))).to_contain_text("A")
    screenshot(page, "bureau-grades")

    log_in(page, world.finance.username)
    nav(page, "年度补贴计算")
    page.get_by_role("spinbutton", name=re.compile("^年度")).fill(str(YEAR))
    page.get_by_role("button", name="运行计算").click()
    expect(page.get_by_role("status")).to_contain_text(f"{YEAR} 年度补贴计算已完成。")
    expect(page.locator("main")).to_contain_text("150,001.50 元")
    screenshot(page, "finance-compute")

    page.get_by_role("link", name=f"{YEAR} 年度补贴结算单").click()
    page.get_by_role("row", name=re.compile("甲公司")).get_by_role("link", name="甲公司").click()
    expect(page.locator(".amount")).to_have_text("150,001.50 元")
    expect(page.locator(".capitals")).to_contain_text("壹拾伍万零壹元伍角")
    expect(page.locator(".subtitle")).to_contain_text("草稿")
    expect(page.get_by_role("region", name="按月汇总")).to_contain_text(f"{YEAR}-09")

    page.get_by_role("link", name="审核通过").click()
    page.get_by_label("理由").fill("里程与等级核对无误")
    page.get_by_role("button", name="审核通过").click()
    expect(page.get_by_role("status")).to_contain_text("结算单已审核通过。")
    page.get_by_role("link", name="下达", exact=True).click()
    page.get_by_label("文号").fill("阳财建〔2026〕15号")
    page.get_by_role("button", name="下达", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("结算单已下达。")
    expect(page.locator(".subtitle")).to_contain_text("已下达")
    expect(page.get_by_role("region", name="台账记录")).to_contain_text("150,001.50 元")
    screenshot(page, "finance-statement-issued")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="PDF").click()
    pdf = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(pdf)
    assert pdf.suffix == ".pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert pdf.stat().st_size > 10_000  # an embedded CJK font subset and the tables

    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:  # poppler-utils: a picture of the PDF's first page for the log
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        subprocess.run(  # noqa: S603 - our own arguments, no user input
            [
                pdftoppm,
                "-png",
                "-r",
                "80",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(pdf),
                str(SCREENSHOTS / "finance-statement-pdf"),
            ],
            check=True,
        )
        assert (SCREENSHOTS / "finance-statement-pdf.png").stat().st_size > 10_000
