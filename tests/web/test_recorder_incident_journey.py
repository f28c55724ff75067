"""An incident in a real Chromium: a collision shows on the bureau's dashboard card, the
company reports it through the form, the bureau closes it with a reason."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from recorder import services
from recorder.models import Incident
from tests.conftest import World
from tests.web.test_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_company_reports_an_incident_and_the_bureau_closes_it(world: World, page: Page) -> None:
    at = timezone.now() - dt.timedelta(hours=30)  # due 6 hours ago: overdue
    data = f"time,vin,event,initiator\n{at.isoformat()},{world.vehicle_a.vin},collision,\n"
    services.ads_events_import(actor=world.staff_a, data=data.encode())

    log_in(page, world.bureau.username)
    card = page.get_by_role("region", name="未结事故")
    expect(card).to_contain_text("1 份报告已逾期")
    page.context.clear_cookies()

    log_in(page, world.staff_a.username)
    page.goto("/incidents/")
    expect(page.get_by_role("table")).to_contain_text("已逾期")
    page.get_by_role("table").get_by_role("link").first.click()
    expect(page.get_by_text("报告已逾期")).to_be_visible()
    page.get_by_role("link", name="报告事故").click()
    page.get_by_label("事故经过").fill("低速倒车时与路边护栏轻微剐蹭。")
    page.get_by_label("受伤人数").fill("0")
    page.get_by_role("button", name="提交报告").click()
    # The cause was left out: the form says so next to the field, keeping what was typed.
    expect(page.locator("#id_cause_error")).to_contain_text("该字段是必填项")
    expect(page.get_by_label("事故经过")).to_have_value("低速倒车时与路边护栏轻微剐蹭。")
    page.get_by_label("原因").fill("护栏未被感知")
    page.get_by_role("button", name="提交报告").click()
    expect(page.get_by_text("报告已提交。")).to_be_visible()
    expect(page.get_by_text("逾期提交")).to_be_visible()
    expect(page.get_by_role("link", name="结案")).to_have_count(0)  # not the company's to do
    page.context.clear_cookies()

    log_in(page, world.bureau.username)
    page.goto("/incidents/")
    page.get_by_role("table").get_by_role("link").first.click()
    page.get_by_role("link", name="结案").click()
    page.get_by_label("结案理由").fill("报告完整，损失轻微，无人受伤。")
    page.get_by_role("button", name="结案").click()
    expect(page.get_by_text("事故已结案。")).to_be_visible()
    expect(page.get_by_role("region", name="已结案")).to_contain_text("报告完整，损失轻微")
    expect(page.get_by_role("link", name="结案")).to_have_count(0)
    assert Incident.objects.get().status == "closed"
