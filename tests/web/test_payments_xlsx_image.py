"""The treasury file and the statement XLSX, looked at: each file is read back with openpyxl
and drawn as an HTML table with the sheet's own number formats, frozen header and total
row, then photographed in Chromium
(artifacts/screenshots; docs/user-guide/img holds copies). What is asserted comes from
the file itself."""

from __future__ import annotations

import html
import io
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from playwright.sync_api import Browser

from payments import services
from subsidies.models import Statement
from tests.conftest import World, client_for
from tests.payments.conftest import (
    NATIONAL_DAY_ISSUE,
    Office,
    approved,
    default_policy,
    in_chinese,
    issue,
    office,
    with_bank,
)
from tests.web.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.after_statement]
__all__ = ["default_policy", "in_chinese", "office"]  # fixtures shared with tests/payments
# The formats subsidies/exports.py writes, as a person sees them.
SHOWN = {"#,##0.000": "{:,.3f}", "#,##0.00": "{:,.2f}", "0": "{:.0f}"}


def shown(value: object, number_format: str) -> str:
    if isinstance(value, int | float) and number_format in SHOWN:
        return SHOWN[number_format].format(value)
    return "" if value is None else str(value)


def sheet_html(sheet: Worksheet) -> str:
    rows = list(sheet.iter_rows())
    head = "".join(f"<th>{html.escape(str(c.value))}</th>" for c in rows[0])
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if isinstance(c.value, int | float) else ""}">'
            f"{html.escape(shown(c.value, c.number_format))}</td>"
            for c in row
        )
        + "</tr>"
        for row in rows[1:]
    )
    # The frozen header stays on top as Excel keeps it; drawn only if the file freezes it.
    sticky = "position:sticky;top:0;" if sheet.freeze_panes == "A2" else ""
    return (
        f"<h2>{html.escape(sheet.title)}</h2><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table><style>th{{{sticky}}}</style>"
    )


def photograph(browser: Browser, content: bytes, name: str) -> Path:
    book = load_workbook(io.BytesIO(content))
    page = browser.new_page(viewport={"width": 1400, "height": 400})
    page.set_content(
        "<html lang='zh-Hans'><style>body{font:13px 'Noto Sans CJK SC',sans-serif}"
        "table{border-collapse:collapse}th,td{border:1px solid #999;padding:3px 6px}"
        "th{background:#ddd}td.num{text-align:right}tr:last-child td{font-weight:bold}"
        "</style>" + "".join(sheet_html(s) for s in book.worksheets) + "</html>"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.close()
    return path


@pytest.fixture
def paid(world: World, office: Office) -> Statement:
    """30,000.00 yuan (10,000 km × 3.00) issued 2025-09-30, in a batch sent to the treasury."""
    with_bank(world.company_a)
    statement = issue(
        office, approved(world, office), number="阳财建〔2025〕61号", on=NATIONAL_DAY_ISSUE
    )
    batch = services.batch_create(actor=office.issuer, statements=[statement])
    services.batch_issue(actor=office.issuer, batch=batch)
    return statement


def test_the_treasury_file_has_chinese_headers_formats_a_frozen_header_and_a_total(
    world: World, paid: Statement, browser: Browser
) -> None:
    batch_id = paid.payment.batch_id
    content = client_for(world.finance).get(f"/api/v1/payment-batches/{batch_id}/xlsx/").content
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    assert sheet.title == "国库支付清单"
    assert [c.value for c in sheet[1]][:5] == [
        "收款人",
        "统一社会信用代码",
        "开户银行",
        "账号",
        "结算金额（元）",
    ]
    assert sheet.freeze_panes == "A2"
    payment, total = sheet[2], sheet[sheet.max_row]
    assert (payment[4].value, payment[4].number_format) == (30000.0, "#,##0.00")
    assert total[0].value == "合计"
    assert Decimal(str(total[6].value)) == Decimal("30000.00")  # paid: 30,000.00 − 0.00 offset
    assert photograph(browser, content, "finance-batch-xlsx").stat().st_size > 10_000


def test_the_statement_file_shows_km_to_three_decimals_and_yuan_to_two(
    world: World, paid: Statement, browser: Browser
) -> None:
    content = client_for(world.finance).get(f"/api/v1/statements/{paid.pk}/xlsx/").content
    lines = load_workbook(io.BytesIO(content))["行程明细"]
    formats = {c.value: lines.cell(row=2, column=c.column).number_format for c in lines[1]}
    assert "#,##0.000" in formats.values()  # a km column
    assert lines.freeze_panes == "A2"
    assert lines.cell(row=lines.max_row, column=1).value == "合计"
    assert photograph(browser, content, "finance-statement-xlsx").stat().st_size > 10_000
