"""The recorder on the pages: the scorecard beside the grade form with its proposal, accepting
it, the scorecard behind a statement's grade, the incidents card and list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from operators.models import User
from recorder import services as recorder_services
from subsidies.models import Assessment
from tests.conftest import World
from tests.subsidies.test_grading import policy
from tests.subsidies.test_scorecard import drive, events

pytestmark = pytest.mark.django_db

YEAR = 2026


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def test_the_grade_page_shows_the_scorecard_and_the_proposal(world: World) -> None:
    policy(world)
    drive(world)
    events(world)
    html = page(client_of(world.bureau), f"/grades/{world.company_a.pk}/{YEAR}/")
    assert "评分表" in html
    assert "脱离次数（系统发起）" in html
    assert "每千公里 200.00 次" in html  # 2 system exits over 10 km
    assert "按第 1 版评定规则建议等级：<strong>B</strong>" in html
    assert "A 级：碰撞 1 次，多于 0 次" in html
    assert "年度脱离报告" in html


def test_accepting_the_proposal_on_the_page_grades_the_year(world: World) -> None:
    policy(world)
    drive(world)
    events(world)
    response = client_of(world.bureau).post(f"/grades/{world.company_a.pk}/{YEAR}/accept/")
    assert response.status_code == 302
    assessment = Assessment.objects.get()
    assert (assessment.grade, assessment.proposed_grade) == ("B", "B")


def test_finance_may_not_accept_a_proposal(world: World) -> None:
    policy(world)
    response = client_of(world.finance).post(f"/grades/{world.company_a.pk}/{YEAR}/accept/")
    assert response.status_code == 403
    assert not Assessment.objects.exists()


def test_without_a_policy_the_page_says_there_is_no_proposal(world: World) -> None:
    html = page(client_of(world.bureau), f"/grades/{world.company_a.pk}/{YEAR}/")
    assert "本年度没有适用的评定规则，请直接评定等级。" in html


def test_the_dashboard_shows_open_and_overdue_incidents(world: World) -> None:
    at = timezone.now() - dt.timedelta(hours=30)
    data = f"time,vin,event,initiator\n{at.isoformat()},{world.vehicle_a.vin},collision,\n"
    recorder_services.ads_events_import(actor=world.staff_a, data=data.encode())
    html = page(client_of(world.bureau), "/")
    assert "未结事故" in html
    assert "1 份报告已逾期" in html
    listing = page(client_of(world.bureau), "/incidents/")
    assert world.vehicle_a.plate in listing
    assert "已逾期" in listing
    assert world.vehicle_a.plate not in page(client_of(world.staff_b), "/incidents/")


def test_the_statement_shows_the_scorecard_behind_its_grade(world: World) -> None:
    from subsidies.computation import statements_compute  # noqa: PLC0415
    from subsidies.models import Statement  # noqa: PLC0415

    policy(world)
    drive(world)
    events(world)
    client_of(world.bureau).post(f"/grades/{world.company_a.pk}/{YEAR}/accept/")
    statements_compute(year=YEAR, actor=world.finance)
    statement = Statement.objects.get(operator=world.company_a, year=YEAR)
    html = page(client_of(world.finance), f"/statements/{statement.pk}/")
    assert "评分表" in html
    assert "按第 1 版评定规则建议等级：<strong>B</strong>" in html
    assert "8.000" in html  # the km in approved zones behind the grade
