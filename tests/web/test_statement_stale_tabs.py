"""Two tabs on one statement, in a real Chromium (issue #16, point 6): finance approves in
one; the other tab, drawn before, can neither approve again nor step on, and says why. The
statement stays as the first tab left it."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps
from playwright.sync_api import Page, expect

from core.models import AuditRecord
from subsidies import computation
from subsidies.models import Statement
from tests.conftest import World
from tests.subsidies import factories as sf
from tests.web.test_finance_journey import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

YEAR = 2025  # inside the default policy window, and over: its statements may be approved
STALE = "在您打开此页面之后被他人修改"
_seed = importlib.import_module("subsidies.migrations.0002_seed_policy").seed


@pytest.fixture(autouse=True)
def default_policy(transactional_db: None) -> None:
    _seed(apps, None)


def draft(world: World) -> Statement:
    """甲公司 drove 100 km in March 2025, graded A: 100 km × 3.00 = 300.00 元."""
    sf.trip(vehicle=world.vehicle_a, days={dt.date(YEAR, 3, 10): "100000"})
    sf.grade(actor=world.bureau, operator=world.company_a, year=YEAR, grade="A")
    computation.statements_compute(year=YEAR, actor=world.finance)
    return Statement.objects.get(operator=world.company_a, year=YEAR)


def approvals(statement: Statement) -> int:
    """Audit records of the statement becoming approved."""
    records = AuditRecord.objects.filter(
        content_type__model="statement", object_id=str(statement.pk)
    ).values_list("changes", flat=True)
    return sum(1 for changes in records if changes.get("status", [None, None])[1] == "approved")


def test_tabs_drawn_before_an_approval_neither_approve_again_nor_open_the_form(
    world: World, page: Page
) -> None:
    statement = draft(world)
    log_in(page, world.finance.username)
    first, second, third = page, page.context.new_page(), page.context.new_page()
    for tab in (first, second, third):
        tab.goto(f"/statements/{statement.pk}/")
        expect(tab.locator(".subtitle")).to_contain_text("草稿")
    # Two tabs open the approval form while the statement is a draft; the third stays on
    # the statement.
    for tab in (first, second):
        tab.locator(".actions").get_by_role("link", name="审核通过").click()
        expect(tab.get_by_role("heading", name="审核结算单")).to_be_visible()

    first.get_by_label("理由").fill("已核对里程和等级")
    first.locator("form .form-actions").get_by_role("button", name="审核通过").click()
    expect(first.locator(".messages")).to_contain_text("结算单已审核通过。")
    expect(first.locator(".subtitle")).to_contain_text("已批准")
    assert approvals(statement) == 1

    # The stale form: refused in words, nothing saved.
    second.get_by_label("理由").fill("我也核对了")
    second.locator("form .form-actions").get_by_role("button", name="审核通过").click()
    expect(second.locator(".errorlist.nonfield")).to_contain_text(STALE)
    statement.refresh_from_db()
    assert (statement.status, statement.approved_by_id) == ("approved", world.finance.pk)
    assert approvals(statement) == 1

    # The stale statement page still shows the approve link: it leads back to the statement,
    # saying why, with no form.
    third.locator(".actions").get_by_role("link", name="审核通过").click()
    expect(third.locator(".messages")).to_contain_text("该结算单状态为“已批准”：无需再审核。")
    expect(third.locator(".subtitle")).to_contain_text("已批准")
    expect(third.get_by_role("heading", name="审核结算单")).to_have_count(0)
    assert third.url.endswith(f"/statements/{statement.pk}/")
    assert approvals(statement) == 1
