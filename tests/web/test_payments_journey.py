"""After the statement in a real Chromium: two finance officers put a statement whose notice
is over into a batch, send it, are refused marking their own batch paid, and the other one
records the bank reference; then a clawback with a penalty is opened, offset against the
company's next statement, and its penalty recovered by bank. Assertions are on what a
person sees; screenshots go to artifacts/screenshots (docs/user-guide/img holds copies)."""

from __future__ import annotations

import datetime as dt
import importlib
import re

import pytest
from django.apps import apps
from playwright.sync_api import Page, expect

from core.roles import Role
from payments.models import Clawback, Payment
from subsidies import computation
from subsidies import services as subsidies_services
from subsidies.models import Statement
from tests import factories
from tests.conftest import World
from tests.payments.conftest import NATIONAL_DAY_ISSUE, with_bank
from tests.subsidies import factories as sf
from tests.web.conftest import screenshot
from tests.web.test_finance_journey import log_in, nav

pytestmark = [
    pytest.mark.browser,
    pytest.mark.after_statement,
    pytest.mark.django_db(transaction=True),
]
_seed = importlib.import_module("subsidies.migrations.0002_seed_policy").seed


@pytest.fixture(autouse=True)
def default_policy(transactional_db: None) -> None:
    _seed(apps, None)


def _issued(world: World, year: int, metres: str, number: str, on: dt.date | None) -> Statement:
    """Company A's `year` graded A, approved by one officer and issued by another."""
    sf.trip(vehicle=world.vehicle_a, days={dt.date(year, 4, 1): metres})
    sf.grade(actor=world.bureau, operator=world.company_a, year=year, grade="A")
    computation.statements_compute(year=year)
    draft = Statement.objects.get(operator=world.company_a, year=year, status="draft")
    approved = subsidies_services.statement_approve(actor=world.finance, statement=draft)
    return subsidies_services.statement_issue(
        actor=world.admin, statement=approved, document_number=number, issued_on=on
    )


def test_a_batch_is_paid_with_four_eyes_and_a_clawback_is_offset_and_its_penalty_recovered(
    world: World, page: Page
) -> None:
    with_bank(world.company_a)
    # 2024: 10,000 km × 3.00 = 30,000.00 yuan, issued 2025-09-30, notice over 2025-10-14.
    first = _issued(world, 2024, "10000000", "阳财建〔2025〕51号", NATIONAL_DAY_ISSUE)
    # 2025: 2,000 km × 3.00 = 6,000.00 yuan, issued today (its notice still runs).
    second = _issued(world, 2025, "2000000", "阳财建〔2026〕52号", None)
    sender = factories.user(Role.FINANCE)

    log_in(page, sender.username)
    nav(page, "拨付批次")
    page.get_by_role("link", name="新建拨付批次").click()
    # Only the statement whose notice is over is offered.
    expect(page.get_by_label(re.compile("2024"))).to_be_visible()
    expect(page.get_by_label(re.compile("2025"))).to_have_count(0)
    page.get_by_label(re.compile("2024")).check()
    page.get_by_role("button", name="生成批次").click()
    expect(page.get_by_role("status")).to_contain_text("已生成")
    expect(page.locator("table.data").first).to_contain_text("0505 **** 7890")
    expect(page.locator("tfoot")).to_contain_text("30,000.00")
    page.get_by_role("link", name="提交国库").click()
    page.get_by_role("button", name="提交").click()
    screenshot(page, "finance-batch-sent")

    # Four eyes: the sender may not record the payment; the page says so.
    page.get_by_role("link", name="标记已拨付").click()
    page.get_by_label("甲公司").fill("GK20251020001")
    page.get_by_role("button", name="标记已拨付").click()
    expect(page.get_by_role("alert")).to_contain_text("须由另一名财政人员登记拨付")

    log_in(page, world.finance.username)
    nav(page, "拨付批次")
    page.get_by_role("link", name=re.compile("^#")).first.click()
    page.get_by_role("link", name="标记已拨付").click()
    page.get_by_label("甲公司").fill("GK20251020001")
    page.get_by_role("button", name="标记已拨付").click()
    expect(page.locator(".subtitle")).to_contain_text("已拨付")
    expect(page.locator("table.data").first).to_contain_text("GK20251020001")
    screenshot(page, "finance-batch-paid")
    assert Payment.objects.get(statement=first).bank_reference == "GK20251020001"

    # A copied trip found later: 1,000 km × 3.00 = 3,000.00 yuan back, and a 1,500.00 penalty.
    nav(page, "追回")
    page.get_by_role("link", name="立项追回").click()
    page.get_by_label("已拨付的结算单").select_option(str(first.pk))
    page.get_by_label("应追回（元）").fill("3000.00")
    page.get_by_label("罚款（元）").fill("1500.00")
    page.get_by_label("理由").fill("复制轨迹 1,000 km × 3.00 元/km")
    page.get_by_role("button", name="立项追回").click()
    expect(page.locator("dl.facts")).to_contain_text("《财政违法行为处罚处分条例》第十四条")
    page.get_by_role("link", name="在后续结算单中抵扣").click()
    page.get_by_label("抵扣至").select_option(str(second.pk))
    page.get_by_role("button", name="在后续结算单中抵扣").click()
    expect(page.locator(".subtitle")).to_contain_text("抵扣")
    page.get_by_role("link", name="登记罚款收回").click()
    page.get_by_label("银行流水号").fill("FK20251101001")
    page.get_by_role("button", name="登记罚款收回").click()
    expect(page.locator("table.data").first).to_contain_text("-1,500.00")
    screenshot(page, "finance-clawback")
    clawback = Clawback.objects.get()
    assert (clawback.status, clawback.penalty_status, clawback.offset_statement_id) == (
        "offset",
        "recovered",
        second.pk,
    )
