"""The annual disengagement report downloaded in a real Chromium from the grade page: the
PDF rendered to an image (poppler's pdftoppm) with its Chinese drawn from the embedded font,
the XLSX and CSV in Chinese."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests import factories
from tests.conftest import World
from tests.subsidies.test_scorecard import drive, events
from tests.web.conftest import SCREENSHOTS, browser, page, screenshot  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

YEAR = 2026


def log_in(page: Page, username: str) -> None:  # noqa: F811 - the fixture's name
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.locator("form .form-actions").get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()


def download(page: Page, label: str, folder: Path) -> Path:  # noqa: F811
    region = page.get_by_role("region", name="评分表")
    with page.expect_download() as info:
        region.get_by_role("link", name=label, exact=True).click()
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    return path


def run(*args: str) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, check=True).stdout  # noqa: S603


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="needs poppler-utils (pdftoppm)")
def test_the_report_downloads_in_chinese_and_its_pdf_renders(
    world: World,
    page: Page,  # noqa: F811
    tmp_path: Path,
) -> None:
    drive(world)
    events(world)
    log_in(page, world.bureau.username)
    page.goto(f"/grades/{world.company_a.pk}/{YEAR}/")
    region = page.get_by_role("region", name="评分表")
    expect(region).to_contain_text("脱离次数（系统发起）")
    expect(region).to_contain_text("每千公里 200.00 次")
    screenshot(page, "recorder-scorecard")

    pdf = download(page, "PDF", tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF-")
    # The font is embedded (a subset), so the Chinese is drawn wherever the file is opened.
    assert "yes" in run("pdffonts", str(pdf)).splitlines()[2].split()
    text = run("pdftotext", "-layout", str(pdf), "-")
    (tmp_path / "report.txt").write_text(text)
    assert "2026 年度自动驾驶脱离报告" in text
    assert "甲公司" in text
    assert "系统发起" in text
    assert "驾驶员发起" in text
    assert "接管请求（退出前 4 秒）" in text  # the circumstances of the 09:00:04 exit
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image = SCREENSHOTS / "recorder-report-pdf"
    run("pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(image))
    png = image.with_suffix(".png")
    assert png.stat().st_size > 10_000
    # The rendered page shown in Chromium, as a person would look at it.
    page.set_content(f'<img alt="report" src="data:image/png;base64,{_b64(png)}">')
    expect(page.get_by_role("img", name="report")).to_be_visible()

    xlsx = download(page_back(page, world), "Excel（XLSX）", tmp_path)
    book = load_workbook(xlsx)
    assert book.sheetnames == ["概况", "按车辆", "脱离明细"]
    exits = list(book["脱离明细"].values)
    assert exits[0][3] == "发起方"
    assert sum(1 for row in exits[1:] if row[3] == "系统发起") == 2

    csv_file = download(page_back(page, world), "CSV", tmp_path)
    rows = list(csv.reader(io.StringIO(csv_file.read_bytes().decode("utf-8-sig"))))
    assert rows[0] == ["时间", "车牌号", "地点（纬度, 经度）", "发起方", "记录的发起方", "情形"]
    assert len(rows) == 1 + 4  # the four 2026 exits of 甲公司


def page_back(page: Page, world: World) -> Page:  # noqa: F811
    page.goto(f"/grades/{world.company_a.pk}/{YEAR}/")
    return page


def _b64(path: Path) -> str:
    import base64  # noqa: PLC0415

    return base64.b64encode(path.read_bytes()).decode()
