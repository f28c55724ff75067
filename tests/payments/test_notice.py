"""The public notice (公示) on the PRC calendar, and what it keeps back from payment."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from payments import services
from payments.models import Notice, Objection
from payments.notice import notice_period
from payments.workdays import is_working_day
from subsidies import computation
from subsidies import services as subsidies_services
from subsidies.models import Statement
from tests.conftest import World
from tests.payments.conftest import NATIONAL_DAY_ISSUE, Office, approved, issue
from tests.subsidies import factories as sf

pytestmark = [pytest.mark.django_db, pytest.mark.after_statement]


def test_a_notice_issued_before_national_day_runs_past_the_holiday_and_a_makeup_saturday() -> None:
    # Issued Tue 2025-09-30; the day of issue does not count (民法典第二百零一条).
    # 10-01 … 10-08 are the National Day + Mid-Autumn holiday (off);
    # working days: Thu 10-09 (1), Fri 10-10 (2), Sat 10-11 (3, a make-up working day),
    # Sun 10-12 off, Mon 10-13 (4), Tue 10-14 (5).
    assert [is_working_day(dt.date(2025, 10, d)) for d in (1, 8, 9, 11, 12)] == [
        False,
        False,
        True,
        True,
        False,
    ]
    assert notice_period(NATIONAL_DAY_ISSUE, 5) == (dt.date(2025, 10, 9), dt.date(2025, 10, 14))


def test_issuing_opens_the_notice_for_the_configured_working_days(
    world: World, office: Office
) -> None:
    statement = issue(
        office, approved(world, office), number="阳财建〔2025〕1号", on=NATIONAL_DAY_ISSUE
    )
    notice = Notice.objects.get(statement=statement)
    assert (notice.working_days, notice.starts_on, notice.ends_on) == (
        5,
        dt.date(2025, 10, 9),
        dt.date(2025, 10, 14),
    )


def test_a_date_the_holiday_calendar_does_not_know_is_refused_and_nothing_is_issued(
    world: World, office: Office, settings: object
) -> None:
    # chinese-calendar 1.11.0 knows 2004–2026: five working days after 2026-12-31 reach 2027.
    with pytest.raises(ApplicationError, match="2027") as refused:
        notice_period(dt.date(2026, 12, 31), 5)
    assert refused.value.field == "issued_on"


def test_payment_is_refused_while_the_notice_runs_and_says_until_when(
    world: World, office: Office
) -> None:
    # Issued today: the notice's last day is at least tomorrow.
    statement = issue(office, approved(world, office), number="阳财建〔2026〕9号")
    ends = Notice.objects.get(statement=statement).ends_on
    assert ends > timezone.localdate()
    with pytest.raises(ApplicationError, match=f"公示期至 {ends}"):
        subsidies_services.statement_mark_paid(actor=office.approver, statement=statement)


def _closed(world: World, office: Office) -> Statement:
    return issue(office, approved(world, office), number="阳财建〔2025〕2号", on=NATIONAL_DAY_ISSUE)


def test_payment_is_refused_while_an_objection_is_open_and_names_it(
    world: World, office: Office
) -> None:
    statement = _closed(world, office)
    objection = services.objection_submit(
        statement=statement, name="王某", contact="13800000000", text="该企业部分里程为重复上传。"
    )
    with pytest.raises(ApplicationError, match=f"异议 #{objection.pk}"):
        subsidies_services.statement_mark_paid(actor=office.approver, statement=statement)


def test_a_dismissed_objection_lets_the_payment_go_out(world: World, office: Office) -> None:
    statement = _closed(world, office)
    objection = services.objection_submit(
        statement=statement, name="王某", contact="13800000000", text="里程有误。"
    )
    decided = services.objection_resolve(
        actor=office.approver, objection=objection, outcome="dismissed", reason="经核查里程无误。"
    )
    assert (decided.status, decided.resolved_by) == (Objection.Status.DISMISSED, office.approver)
    paid = subsidies_services.statement_mark_paid(actor=office.approver, statement=statement)
    assert paid.status == Statement.Status.PAID


def test_an_upheld_objection_holds_the_payment_until_an_adjustment_is_issued(
    world: World, office: Office
) -> None:
    statement = _closed(world, office)
    objection = services.objection_submit(
        statement=statement, name="王某", contact="13800000000", text="4 月 1 日行程系重复上传。"
    )
    services.objection_resolve(
        actor=office.approver, objection=objection, outcome="upheld", reason="核实为重复上传。"
    )
    with pytest.raises(ApplicationError, match="调整结算单"):
        subsidies_services.statement_mark_paid(actor=office.approver, statement=statement)
    # The bureau rejects half the kilometres: 5,000 km × 3.00 = 15,000.00, an adjustment of
    # 15,000.00 − 30,000.00 = −15,000.00.
    trip = statement.lines.get().trip
    sf.reverify(trip, {dt.date(2024, 4, 1): "5000000.00"})
    computation.statements_compute(year=2024)
    adjustment = Statement.objects.get(operator=world.company_a, kind="adjustment")
    adjustment = subsidies_services.statement_approve(actor=office.approver, statement=adjustment)
    adjustment = issue(office, adjustment, number="阳财建〔2026〕3号")
    assert str(adjustment.amount_yuan) == "-15000.00"
    paid = subsidies_services.statement_mark_paid(actor=office.approver, statement=statement)
    assert paid.status == Statement.Status.PAID


def test_deciding_an_objection_needs_a_reason(world: World, office: Office) -> None:
    statement = _closed(world, office)
    objection = services.objection_submit(statement=statement, name="王某", contact="1", text="x")
    with pytest.raises(ApplicationError) as refused:
        services.objection_resolve(
            actor=office.approver, objection=objection, outcome="upheld", reason=" "
        )
    assert refused.value.field == "reason"
