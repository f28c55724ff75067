"""The finance, grading and company statement pages without a browser: scoping, forms,
figures, actions and the dashboard card."""

import datetime as dt
import importlib
import io
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from core.errors import ApplicationError
from core.roles import Role
from operators.models import User
from subsidies import computation, selectors, services, tasks
from subsidies.models import Assessment, LedgerEntry, Statement
from tests.conftest import World
from tests.subsidies import factories as sf
from trips.models import Trip
from yangquan_av.celery import app as celery_app

pytestmark = pytest.mark.django_db

YEAR = 2025  # inside the policy window (2022-01-01 to 2026-12-31), and over (issue 15)
_seed = importlib.import_module("subsidies.migrations.0002_seed_policy").seed


@pytest.fixture(autouse=True)
def default_policy(db: None) -> None:
    # Browser tests flush every table when they end, the seeded policy with them.
    _seed(apps, None)


def browser_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


@pytest.fixture
def computed(world: World) -> Statement:
    """Company A drove 500.5005 eligible km in 2025, graded A: 500.5005 × 3.00 = 1,501.50."""
    sf.trip(vehicle=world.vehicle_a, days={dt.date(YEAR, 3, 10): "400000"})
    sf.trip(vehicle=world.vehicle_a, days={dt.date(YEAR, 4, 2): "100500.50"})
    sf.grade(actor=world.bureau, operator=world.company_a, year=YEAR, grade="A")
    computation.statements_compute(year=YEAR, actor=world.finance)
    return Statement.objects.get(operator=world.company_a, year=YEAR)


def issue(world: World, statement: Statement) -> Statement:
    statement = services.statement_approve(actor=world.finance, statement=statement)
    return services.statement_issue(actor=world.finance, statement=statement)


# ---- statements: finance ---------------------------------------------------------------


def test_finance_sees_the_statement_list_with_formatted_amounts_and_totals(
    world: World, computed: Statement
) -> None:
    page = text(browser_for(world.finance), f"/statements/?year={YEAR}")
    assert "甲公司" in page
    assert "1,501.50 元" in page
    assert "500.501" in page  # km to 3 decimals: 500.5005 rounds half up
    assert "共 1 张结算单" in page


def test_the_statement_list_filters_by_company_status_and_kind(
    world: World, computed: Statement
) -> None:
    client = browser_for(world.finance)

    def listed(query: str) -> bool:
        return f'href="/statements/{computed.pk}/"' in text(client, f"/statements/?{query}")

    assert not listed(f"operator={world.company_b.pk}")
    assert not listed("status=issued")
    assert not listed("kind=adjustment")
    assert not listed(f"year={YEAR - 1}")
    assert listed(f"operator={world.company_a.pk}&status=draft&kind=regular&year={YEAR}")


def test_statement_detail_shows_the_figures_the_capitals_and_the_drill_down(
    world: World, computed: Statement
) -> None:
    page = text(browser_for(world.finance), f"/statements/{computed.pk}/")
    assert "1,501.50 元" in page
    assert "壹仟伍佰零壹元伍角整" in page
    assert "3.00 元/公里" in page
    assert "里程 × 补贴标准" in page  # the reason, in words
    assert f"{YEAR}-03" in page
    assert f"{YEAR}-04" in page
    assert world.vehicle_a.plate in page  # by vehicle
    assert "400.000" in page  # a contributing trip's 400,000 m, in km to 3 decimals
    assert f"/api/v1/statements/{computed.pk}/pdf/" in page
    assert "审核通过" in page  # the draft's one action


def test_statement_detail_states_the_cap_and_by_how_much(world: World) -> None:
    # 120,000 km × 3.00 = 360,000.00 > 300,000.00: reduced by 60,000.00.
    sf.trip(vehicle=world.vehicle_a, days={dt.date(YEAR, 5, 1): "120000000"})
    sf.grade(actor=world.bureau, operator=world.company_a, year=YEAR, grade="A")
    computation.statements_compute(year=YEAR, actor=world.finance)
    statement = Statement.objects.get(operator=world.company_a, year=YEAR)
    page = text(browser_for(world.finance), f"/statements/{statement.pk}/")
    assert "360,000.00 元" in page
    assert "是，扣减 60,000.00 元" in page
    assert "叁拾万元整" in page


def test_finance_approves_issues_and_marks_a_statement_paid(
    world: World, computed: Statement
) -> None:
    client = browser_for(world.finance)
    url = f"/statements/{computed.pk}/"
    assert "审核" in text(client, f"{url}approve/")
    response = client.post(f"{url}approve/", {"comment": "核对无误"}, follow=True)
    assert "结算单已审核通过。" in response.content.decode()
    response = client.post(
        f"{url}issue/", {"comment": "", "document_number": "阳财建〔2026〕1号"}, follow=True
    )
    assert "结算单已下达。" in response.content.decode()
    response = client.post(f"{url}mark-paid/", {"comment": "国库集中支付"}, follow=True)
    page = response.content.decode()
    assert "已记录拨付。" in page
    computed.refresh_from_db()
    assert computed.status == Statement.Status.PAID
    kinds = set(LedgerEntry.objects.filter(statement=computed).values_list("kind", flat=True))
    assert kinds == {LedgerEntry.Kind.ACCRUAL, LedgerEntry.Kind.PAYMENT}
    assert "计提（常规结算单下达）" in page  # the ledger, in words


def test_approving_an_ungraded_statement_shows_the_refusal_in_chinese(world: World) -> None:
    sf.trip(vehicle=world.vehicle_a, days={dt.date(YEAR, 3, 10): "1000"})
    computation.statements_compute(year=YEAR, actor=world.finance)
    statement = Statement.objects.get(operator=world.company_a, year=YEAR)
    response = browser_for(world.finance).post(f"/statements/{statement.pk}/approve/", {})
    assert response.status_code == 200
    assert "该年度尚未评定等级" in response.content.decode()
    statement.refresh_from_db()
    assert statement.status == Statement.Status.DRAFT


def test_issuing_a_draft_is_refused_above_the_form(world: World, computed: Statement) -> None:
    response = browser_for(world.finance).post(
        f"/statements/{computed.pk}/issue/", {"document_number": "阳财建〔2026〕2号"}
    )
    assert "只有已审核的结算单才能下达。" in response.content.decode()


def test_an_unknown_action_is_a_404(world: World, computed: Statement) -> None:
    assert browser_for(world.finance).get(f"/statements/{computed.pk}/delete/").status_code == 404


def test_the_bureau_reads_statements_but_may_not_act_on_them(
    world: World, computed: Statement
) -> None:
    client = browser_for(world.bureau)
    assert "审核通过" not in text(client, f"/statements/{computed.pk}/")
    assert client.post(f"/statements/{computed.pk}/approve/", {}).status_code == 403


# ---- statements: companies -------------------------------------------------------------


def test_company_staff_get_404_for_drafts_of_their_own_company(
    world: World, computed: Statement
) -> None:
    client = browser_for(world.staff_a)
    for path in ("", "approve/", "issue/"):
        assert client.get(f"/statements/{computed.pk}/{path}").status_code == 404
    assert f'href="/statements/{computed.pk}/"' not in text(client, "/statements/")


def test_company_staff_get_404_for_another_companys_issued_statement(
    world: World, computed: Statement
) -> None:
    issue(world, computed)
    client = browser_for(world.staff_b)
    assert client.get(f"/statements/{computed.pk}/").status_code == 404
    assert client.get(f"/statements/{computed.pk}/mark-paid/").status_code == 404
    assert client.get(f"/api/v1/statements/{computed.pk}/pdf/").status_code == 404


def test_company_staff_see_their_issued_statement_with_downloads_but_no_actions(
    world: World, computed: Statement
) -> None:
    issue(world, computed)
    client = browser_for(world.staff_a)
    listing = text(client, "/statements/")
    assert "1,501.50 元" in listing
    assert f"/api/v1/statements/{computed.pk}/xlsx/" in listing
    detail = text(client, f"/statements/{computed.pk}/")
    assert "壹仟伍佰零壹元伍角整" in detail
    assert "标记已拨付" not in detail
    assert client.post(f"/statements/{computed.pk}/mark-paid/", {}).status_code == 403
    response = client.get(f"/api/v1/statements/{computed.pk}/pdf/")
    assert response["Content-Type"] == "application/pdf"


def test_company_staff_may_not_open_the_computation_grades_or_public_notice(
    world: World,
) -> None:
    client = browser_for(world.staff_a)
    for path in ("/statements/compute/", "/grades/", "/statements/public-notice/"):
        assert client.get(path).status_code == 403, path
    path = f"/grades/{world.company_a.pk}/{YEAR}/"
    assert client.get(path).status_code == 403
    assert client.get(f"/grades/{world.company_b.pk}/{YEAR}/").status_code == 404


def test_the_year_to_date_panel_says_when_the_computation_has_not_run(world: World) -> None:
    page = text(browser_for(world.staff_a), "/statements/")
    assert "本年度补贴尚未计算。" in page
    assert "已享受补贴年数" in page


def test_the_year_to_date_panel_shows_the_projection_against_the_cap(world: World) -> None:
    year = timezone.localdate().year
    sf.trip(vehicle=world.vehicle_a, days={dt.date(year, 1, 5): "2000"})
    computation.statements_compute(year=year, actor=world.finance)
    page = text(browser_for(world.staff_a), "/statements/")
    assert "预计补贴" in page
    assert "300,000.00 元" in page
    assert "本年度补贴尚未计算。" not in page


def test_the_year_to_date_panel_keeps_the_years_total_once_issued(world: World) -> None:
    # Issue 15: the current year is settled only once it is over, so the panel (which shows
    # the current year) only ever projects; the year's issue is refused.
    year = timezone.localdate().year
    sf.trip(vehicle=world.vehicle_a, days={dt.date(year, 1, 5): "2000"})
    sf.grade(actor=world.bureau, operator=world.company_a, year=year, grade="A")
    computation.statements_compute(year=year, actor=world.finance)
    with pytest.raises(ApplicationError, match="尚未结束"):
        issue(world, Statement.objects.get(operator=world.company_a, year=year))
    page = text(browser_for(world.staff_a), "/statements/")
    assert "本年度补贴尚未计算。" not in page
    assert "预计补贴" in page


def test_each_contributing_trip_links_to_its_trip_page(world: World, computed: Statement) -> None:
    trip_ids = {line.trip_id for line in selectors.statement_lines(statement=computed)}
    assert len(trip_ids) == 2
    page = text(browser_for(world.finance), f"/statements/{computed.pk}/")
    for trip_id in trip_ids:
        assert f'href="/trips/{trip_id}/?from=statement:{computed.pk}"' in page


def test_a_drafts_trips_are_live_and_an_issued_statements_are_those_frozen_at_approval(
    world: World, computed: Statement
) -> None:
    client = browser_for(world.finance)
    assert "草稿按行程当前数据显示" in text(client, f"/statements/{computed.pk}/")
    issue(world, computed)
    trip = Trip.objects.get(days__day=dt.date(YEAR, 4, 2))
    sf.reverify(trip, {dt.date(YEAR, 4, 2): "1.00"})

    page = text(client, f"/statements/{computed.pk}/")

    assert "审核时（" in page
    assert ">100.501<" in page  # the frozen 100,500.5 m in km, not the re-verified 1.00 m


# ---- the computation -------------------------------------------------------------------


def test_finance_runs_the_computation_and_sees_its_summary(world: World) -> None:
    sf.trip(vehicle=world.vehicle_a, days={dt.date(YEAR, 3, 10): "1000"})
    client = browser_for(world.finance)
    assert "运行计算" in text(client, "/statements/compute/")
    response = client.post("/statements/compute/", {"year": YEAR})
    page = response.content.decode()
    assert response.status_code == 200
    assert f"{YEAR} 年度补贴计算已完成。" in page
    assert Statement.objects.filter(operator=world.company_a, year=YEAR).count() == 1


def test_a_year_out_of_range_is_refused_next_to_the_year(world: World) -> None:
    response = browser_for(world.finance).post("/statements/compute/", {"year": 1999})
    assert "aria-invalid" in response.content.decode()
    assert not Statement.objects.exists()


def test_with_a_real_queue_the_computation_is_queued_and_the_page_refreshes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued: list[tuple[int, int | None]] = []
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setattr(
        tasks.compute_statements, "delay", lambda year, actor_id: queued.append((year, actor_id))
    )
    client = browser_for(world.finance)
    response = client.post("/statements/compute/", {"year": YEAR}, follow=True)
    assert queued == [(YEAR, world.finance.pk)]
    page = response.content.decode()
    assert 'http-equiv="refresh"' in page
    assert "等待后台任务" in page


def test_the_bureau_may_not_run_the_computation(world: World) -> None:
    assert browser_for(world.bureau).post("/statements/compute/", {"year": YEAR}).status_code == 403


# ---- grades ----------------------------------------------------------------------------


def test_the_grade_page_shows_the_figures_that_inform_a_grade(world: World) -> None:
    trip = sf.trip(vehicle=world.vehicle_a, days={dt.date(YEAR, 6, 1): "12345"})
    Trip.objects.filter(pk=trip.pk).update(disengagements=2)
    sf.trip(vehicle=world.vehicle_a, days={dt.date(YEAR, 6, 2): "1"}, status="needs_review")
    page = text(browser_for(world.bureau), f"/grades/?year={YEAR}")
    row = page.split("甲公司")[1].split("</tr>")[0]
    assert "12.345" in row  # eligible km
    assert ">2<" in row  # disengagements
    assert "6.172" in row  # 12.345 km / 2, to the metre
    assert ">1<" in row  # flagged
    assert "未评定" in row


def test_the_bureau_grades_a_company_and_the_change_is_audited(world: World) -> None:
    client = browser_for(world.bureau)
    url = f"/grades/{world.company_a.pk}/{YEAR}/"
    assert "评定依据" in text(client, url)
    response = client.post(url, {"grade": "B", "score": "82.5", "notes": "运营平稳"}, follow=True)
    assert f"甲公司 {YEAR} 年度评定为 B。" in response.content.decode()
    client.post(url, {"grade": "A", "score": "91", "notes": "", "reason": "复核后上调"})
    assessment = Assessment.objects.get(operator=world.company_a, year=YEAR)
    assert assessment.grade == "A"
    page = text(client, url)
    assert "复核后上调" in page  # the audit trail, with the reason
    assert "B — 良好" in page  # the old grade


def test_a_score_above_100_is_refused_next_to_the_score(world: World) -> None:
    response = browser_for(world.bureau).post(
        f"/grades/{world.company_a.pk}/{YEAR}/", {"grade": "A", "score": "101"}
    )
    score = re.search(r'<input[^>]*name="score"[^>]*>', response.content.decode())
    assert score is not None
    assert 'aria-invalid="true"' in score.group()
    assert not Assessment.objects.exists()


def test_finance_reads_grades_but_may_not_grade(world: World) -> None:
    client = browser_for(world.finance)
    assert "甲公司" in text(client, f"/grades/?year={YEAR}")
    assert client.get(f"/grades/{world.company_a.pk}/{YEAR}/").status_code == 403


def test_a_grade_page_for_a_year_out_of_range_is_a_404(world: World) -> None:
    assert browser_for(world.bureau).get(f"/grades/{world.company_a.pk}/1800/").status_code == 404


# ---- public notice and the dashboard ---------------------------------------------------


def test_the_public_notice_lists_issued_amounts_of_the_year(
    world: World, computed: Statement
) -> None:
    client = browser_for(world.finance)
    assert "1,501.50" not in text(client, f"/statements/public-notice/?year={YEAR}")
    issue(world, computed)
    page = text(client, f"/statements/public-notice/?year={YEAR}")
    assert "甲公司" in page
    assert "1,501.50 元" in page
    assert "壹仟伍佰零壹元伍角整" in page
    assert f"/api/v1/statements/public-notice/?year={YEAR}&amp;file=xlsx" in page
    # the public page itself (where objections are made) is reachable from here
    assert f'href="/public-notice/{YEAR}/"' in page
    assert client.get(f"/public-notice/{YEAR}/").status_code == 200


def test_the_public_pages_columns_are_headed_in_capitals_in_english(world: World) -> None:
    anyone = Client()
    anyone.cookies["django_language"] = "en"
    body = anyone.get(f"/public-notice/{YEAR}/").content.decode()
    heads = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', body)
    assert heads[:4] == ["Company", "Unified social credit code", "Eligible (km)", "Amount (yuan)"]


def test_the_dashboard_card_shows_the_years_subsidies_to_government(world: World) -> None:
    year = timezone.localdate().year
    sf.trip(vehicle=world.vehicle_a, days={dt.date(year, 1, 5): "2000"})
    sf.grade(actor=world.bureau, operator=world.company_a, year=year, grade="A")
    computation.statements_compute(year=year, actor=world.finance)
    page = text(browser_for(world.finance), "/")
    assert "本年度补贴与上限" in page
    assert "1 家企业上限合计" in page


def test_the_dashboard_card_shows_a_company_its_projection_and_paid_years(world: World) -> None:
    page = text(browser_for(world.staff_a), "/")
    assert "尚未计算" in page
    assert "已享受补贴 0 年" in page


def test_pages_switch_to_english(world: World, computed: Statement) -> None:
    client = browser_for(world.finance)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = text(client, f"/statements/{computed.pk}/")
    assert "In capitals" in page
    assert "Contributing trips" in page


# ---- the demo --------------------------------------------------------------------------


def test_every_finance_page_works_with_the_demo_data_for_each_account(
    db: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # the demo trips get verified
        call_command("load_demo", stdout=io.StringIO())
    finance = User.objects.get(username="finance")
    demo_year = timezone.localdate().year  # the demo drives this year
    computation.statements_compute(year=demo_year, actor=finance)
    statement = Statement.objects.filter(year=demo_year).first()
    assert statement is not None
    own = User.objects.get(username="company1").operator
    expected: dict[str, dict[str, int]] = {
        Role.OPERATOR: {"/statements/": 200, "/grades/": 403, "/statements/compute/": 403},
        Role.BUREAU: {"/grades/": 200, "/statements/": 200, "/statements/compute/": 403},
        Role.FINANCE: {"/statements/compute/": 200, "/statements/public-notice/": 200},
        Role.ADMIN: {"/grades/": 200, "/statements/compute/": 200},
    }
    for username in ("company1", "bureau", "finance", "admin"):
        user = User.objects.get(username=username)
        client = browser_for(user)
        pages = {
            "/": 200,
            f"/statements/{statement.pk}/": 404 if user.role == Role.OPERATOR else 200,
            **expected[user.role],
        }
        if own is not None and user.role in (Role.BUREAU, Role.ADMIN):
            pages[f"/grades/{own.pk}/{demo_year}/"] = 200
        for path, status in pages.items():
            assert client.get(path).status_code == status, (username, path)


# ---- the app's own Chinese catalogue ---------------------------------------------------

CATALOGUE = Path(__file__).resolve().parents[2] / "subsidies" / "locale" / "zh_Hans" / "LC_MESSAGES"


def gettext_tool(*args: str) -> str:
    return subprocess.run(  # noqa: S603 - our own arguments, no user input
        list(args), capture_output=True, text=True, check=True
    ).stdout


def test_every_message_of_the_subsidies_catalogue_has_a_chinese_translation() -> None:
    source = str(CATALOGUE / "django.po")
    assert gettext_tool("msgattrib", "--untranslated", "--no-obsolete", source) == ""


def test_the_committed_subsidies_catalogue_is_the_compiled_source(tmp_path: Path) -> None:
    compiled = tmp_path / "django.mo"
    gettext_tool("msgfmt", "--check-format", "-o", str(compiled), str(CATALOGUE / "django.po"))
    assert compiled.read_bytes() == (CATALOGUE / "django.mo").read_bytes()
