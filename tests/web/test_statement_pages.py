"""The statement pages' figures, charts and links without a browser (issues #15, #16):
km to 3 decimals, charts with their tables, rows that open the trips behind them, an
issued year said as issued, and a 0.00 元 computation that says why."""

from __future__ import annotations

import datetime as dt
import html
import importlib
import re

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from core.roles import Role
from operators.models import User
from subsidies import computation, services
from subsidies.models import Statement
from tests import factories
from tests.conftest import World
from tests.subsidies import factories as sf
from trips.models import Trip

pytestmark = pytest.mark.django_db

YEAR = 2025  # inside the policy window and over: statements of it may be issued
_seed = importlib.import_module("subsidies.migrations.0002_seed_policy").seed


@pytest.fixture(autouse=True)
def default_policy(db: None) -> None:
    _seed(apps, None)


def page(user: User, path: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def computed(world: World) -> Statement:
    """Company A: 400,000 m on 10 March and 100,500.50 m on 2 April, graded A:
    500.5005 km, shown 500.501; × 3.00 = 1,501.5015 → 1,501.50 元."""
    sf.trip(vehicle=world.vehicle_a, days={dt.date(YEAR, 3, 10): "400000"})
    sf.trip(vehicle=world.vehicle_a, days={dt.date(YEAR, 4, 2): "100500.50"})
    sf.grade(actor=world.bureau, operator=world.company_a, year=YEAR, grade="A")
    computation.statements_compute(year=YEAR, actor=world.finance)
    return Statement.objects.get(operator=world.company_a, year=YEAR)


def issued(world: World) -> Statement:
    statement = services.statement_approve(actor=world.finance, statement=computed(world))
    issuer = factories.user(Role.FINANCE)  # four eyes: the approver does not issue
    return services.statement_issue(
        actor=issuer, statement=statement, document_number="阳财〔2026〕7号"
    )


def test_statement_figures_are_km_to_3_decimals_and_yuan_to_2(world: World) -> None:
    body = page(world.finance, f"/statements/{computed(world).pk}/")
    # The statement's own figures; the audit trail below them shows stored values as
    # they changed (core's audit table).
    figures = body.split('aria-labelledby="audit-heading"')[0]

    assert "500.501 公里" in figures  # the statement's km
    assert ">400.000<" in figures  # lines: metres shown as km
    assert ">100.501<" in figures
    assert "1,501.50 元" in figures
    assert "500.5005" not in figures  # no 5 decimals
    assert "400,000" not in figures  # no metres
    assert "合规里程（米）" not in figures


def test_a_fresh_draft_says_nothing_about_changed_trips(world: World) -> None:
    body = page(world.finance, f"/statements/{computed(world).pk}/")
    assert 'id="trips-changed"' not in body


def test_a_draft_whose_trip_was_withdrawn_since_says_to_recompute(world: World) -> None:
    statement = computed(world)  # 500.501 km from two trips
    april = Trip.objects.get(vehicle=world.vehicle_a, started_at__month=4)
    Trip.objects.filter(pk=april.pk).update(status=Trip.Status.WITHDRAWN)

    body = page(world.finance, f"/statements/{statement.pk}/")
    # The draft's total (500.501 km, 2 trips) no longer matches its live lines (400.000
    # km, 1 trip): the page says why, and where to recompute.
    assert "500.501 公里" in body
    assert ">400.000<" in body
    notice = body.split('id="trips-changed">')[1].split("</p>")[0]
    assert "计算后行程已有变化：请重新计算后再审核。" in notice
    assert f'href="/statements/compute/?year={YEAR}"' in notice


def test_the_statements_km_reads_its_unit_once(world: World) -> None:
    body = page(world.finance, f"/statements/{computed(world).pk}/")
    facts = body.split('<dl class="facts">')[1].split("</dl>")[0]
    # The value carries the unit, so the label does not: not "合规里程（公里） 500.501 公里".
    assert "<dt>合规里程</dt><dd>500.501 公里 （2 个行程）</dd>" in facts, facts
    assert "合规里程（公里）" not in facts


def test_the_statement_page_draws_km_per_month_and_per_vehicle_with_titles(
    world: World,
) -> None:
    statement = computed(world)
    body = page(world.finance, f"/statements/{statement.pk}/")

    month, vehicle = (f"km-month-{statement.pk}", f"km-vehicle-{statement.pk}")
    assert f'aria-labelledby="{month}-t {month}-d"' in body
    assert f'<title id="{month}-t">每月合规里程（{YEAR} 年）</title>' in body
    assert f'<desc id="{month}-d">{YEAR}-03: 400.000 公里; {YEAR}-04: 100.501 公里</desc>' in body
    assert f'<title id="{vehicle}-t">各车辆合规里程（{YEAR} 年）</title>' in body
    assert body.count('<rect class="bar"') == 3  # two months, one vehicle


def test_month_and_vehicle_rows_open_the_trip_list_filtered_the_same_way(
    world: World,
) -> None:
    statement = computed(world)
    body = html.unescape(page(world.finance, f"/statements/{statement.pk}/"))
    company = world.company_a.pk

    back = f"from=statement%3A{statement.pk}"  # the trips' breadcrumbs lead back here
    march = f"/trips/?operator={company}&started_from={YEAR}-03-01&started_to={YEAR}-03-31&{back}"
    assert f'href="{march}">{YEAR}-03</a>' in body
    by_vehicle = (
        f"/trips/?operator={company}&vehicle={world.vehicle_a.pk}"
        f"&started_from={statement.counted_from:%Y-%m-%d}"
        f"&started_to={statement.counted_to:%Y-%m-%d}&{back}"
    )
    assert f'href="{by_vehicle}">{world.vehicle_a.plate}</a>' in body
    # The link lands on the trip list showing just that month's trip.
    trips = page(world.finance, march)
    assert len(re.findall(rf'href="/trips/\d+/\?{back}"', trips)) == 1


def test_a_company_sees_last_years_issued_subsidy_with_its_statement(world: World) -> None:
    statement = issued(world)

    body = page(world.staff_a, "/statements/")

    assert f"已下达补贴（{YEAR} 年）" in body
    assert "已于" in body
    assert "阳财〔2026〕7号" in body
    assert f'href="/statements/{statement.pk}/">查看结算单</a>' in body
    # Only the current year (never issued before it ends) is still projected.
    assert f"预计补贴（{YEAR} 年）" not in body
    assert f"预计补贴（{timezone.localdate().year} 年）" in body


def test_last_years_subsidy_is_projected_until_issued(world: World) -> None:
    computed(world)

    body = page(world.staff_a, "/statements/")

    assert f"预计补贴（{YEAR} 年）" in body
    assert "已下达补贴" not in body


def test_the_dashboard_card_says_issued_with_the_statement_link(world: World) -> None:
    statement = issued(world)

    body = page(world.staff_a, "/")

    assert f"已下达补贴（{YEAR} 年）" in body
    assert f'href="/statements/{statement.pk}/">查看结算单</a>' in body


def test_a_computation_without_grades_says_which_companies_lack_one(world: World) -> None:
    sf.trip(vehicle=world.vehicle_a, days={dt.date(YEAR, 3, 10): "1000"})
    computation.statements_compute(year=YEAR, actor=world.finance)
    grade_url = f"/grades/{world.company_a.pk}/{YEAR}/"

    as_finance = page(world.finance, f"/statements/compute/?year={YEAR}")
    as_bureau = page(world.admin, f"/statements/compute/?year={YEAR}")

    assert "部分金额为 0.00 元的原因" in as_finance
    assert world.company_a.name in as_finance
    assert "待交通运输局评定该年度等级" in as_finance  # finance may not grade
    assert grade_url not in as_finance
    assert f'href="{grade_url}"' in as_bureau  # whoever may grade gets the link


def test_a_computation_of_a_year_without_eligible_km_says_there_is_nothing_to_pay(
    world: World,
) -> None:
    # Autonomous, but nothing on an approved road: no statement is made for 0 eligible km.
    sf.trip(vehicle=world.vehicle_a, days={dt.date(YEAR, 3, 10): ("1000", "0")})
    client = Client()
    client.force_login(world.finance)

    body = client.post("/statements/compute/", {"year": YEAR}).content.decode()

    assert "本年度没有企业产生合规里程，因此各金额均为 0.00 元。" in body


def test_a_companys_statement_list_charts_its_year_so_far(world: World) -> None:
    year = timezone.localdate().year
    sf.trip(vehicle=world.vehicle_a, days={dt.date(year, 1, 5): "2000"})
    sf.trip(vehicle=world.vehicle_b, days={dt.date(year, 1, 6): "9000"})  # another company's
    computation.statements_compute(year=year, actor=world.finance)

    body = page(world.staff_a, "/statements/")

    assert f"每月合规里程（{year} 年）" in body
    assert '<desc id="km-vehicle-' in body
    assert f"{world.vehicle_a.plate}: 2.000 公里" in body
    assert world.vehicle_b.plate not in body  # only its own kilometres


def test_the_company_dashboard_says_why_its_projection_is_zero(world: World) -> None:
    this_year = timezone.localdate().year  # the card is of the current year
    sf.trip(vehicle=world.vehicle_a, days={dt.date(this_year, 1, 5): "1000"})
    computation.statements_compute(year=this_year, actor=world.finance)  # no grade yet

    body = page(world.staff_a, "/")

    card = body.split("预计补贴（年度上限 30 万元）", 1)[1].split("</section>", 1)[0]
    assert "0.00 元" in card
    assert '<p class="note" id="projection-reason">尚未评定等级（评定后方可计算）</p>' in card


def test_a_computed_projection_needs_no_reason_on_the_dashboard(world: World) -> None:
    this_year = timezone.localdate().year
    sf.trip(vehicle=world.vehicle_a, days={dt.date(this_year, 1, 5): "1000"})
    sf.grade(actor=world.bureau, operator=world.company_a, year=this_year, grade="A")
    computation.statements_compute(year=this_year, actor=world.finance)

    body = page(world.staff_a, "/")

    assert "3.00 元" in body  # 1 km × 3.00
    assert 'id="projection-reason"' not in body


def test_a_company_sees_its_year_so_far_per_month_and_vehicle_before_any_computation(
    world: World,
) -> None:
    """The statement list charts the year as it stands, from the trip days a subsidy counts:
    the company's accepted trips only, the same total as the panel above them."""
    today = timezone.localdate()
    sf.trip(vehicle=world.vehicle_a, days={today: "1234.4"})
    sf.trip(vehicle=world.vehicle_a, days={today: "1000"})
    sf.trip(vehicle=world.vehicle_a, days={today: "5000"}, status=Trip.Status.REJECTED)
    sf.trip(vehicle=world.vehicle_b, days={today: "7000"})  # company B's
    assert not Statement.objects.exists()

    body = html.unescape(page(world.staff_a, "/statements/"))
    assert "本年度补贴尚未计算。" in body
    assert "2.234 公里" in body  # the panel: 1,234.4 m + 1,000 m
    month, vehicle = f"km-month-year-{today.year}", f"km-vehicle-year-{today.year}"
    assert f'<desc id="{month}-d">{today:%Y-%m}: 2.234 公里</desc>' in body
    assert f'<desc id="{vehicle}-d">{world.vehicle_a.plate}: 2.234 公里</desc>' in body
    assert body.count('<rect class="bar"') == 2  # one month, one vehicle

    by_vehicle = (
        f"/trips/?operator={world.company_a.pk}&vehicle={world.vehicle_a.pk}"
        f"&started_from={today.year}-01-01&started_to={today.year}-12-31&from=statement"
    )
    assert f'href="{by_vehicle}">{world.vehicle_a.plate}</a>' in body
    trips = page(world.staff_a, by_vehicle)
    # The accepted two and the rejected one (the list filters by vehicle and start, not
    # by status), each leading on, and the breadcrumbs lead back to the statement list.
    assert len(re.findall(r'href="/trips/\d+/\?from=statement"', trips)) == 3
    crumbs = trips.split('class="breadcrumbs"')[1].split("</nav>")[0]
    assert 'href="/statements/">本企业补贴结算单</a>' in crumbs


def test_the_year_so_far_is_not_charted_without_kilometres_or_for_government(
    world: World,
) -> None:
    assert 'class="chart"' not in page(world.staff_a, "/statements/")
    sf.trip(vehicle=world.vehicle_a, days={timezone.localdate(): "1000"})
    assert 'class="chart"' not in page(world.finance, "/statements/")
