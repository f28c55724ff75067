"""Statements and grades refuse stale forms (issue #16, point 6; core/versions.py): the
approve, issue and mark-paid pages, the grade form and the accept-the-proposal button carry
the object's version, and a page drawn before someone else acted saves nothing. Pages for a
step that no longer applies are not offered."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from core.errors import ApplicationError
from core.models import AuditRecord
from core.roles import Role
from core.versions import VERSION_FIELD
from operators.models import User
from subsidies import computation, services
from subsidies.models import Assessment, LedgerEntry, Statement, StatementLine
from tests import factories
from tests.conftest import World, client_for
from tests.subsidies import factories as sf
from tests.subsidies.test_grading import policy
from tests.subsidies.test_scorecard import drive

pytestmark = pytest.mark.django_db

YEAR = 2025  # inside the seeded policy's window and over: its statements may be issued
STALE = "在您打开此页面之后被他人修改"  # core.versions' refusal, in Chinese


def browser_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def seen_version(page: bytes) -> str:
    found = re.search(r'name="seen_version" value="(\d+)"', page.decode())
    assert found is not None, "the form carries no version"
    return found.group(1)


def trail(obj: Statement | Assessment) -> list[tuple[int, str]]:
    """The object's audit records (id, action), oldest first."""
    return list(
        AuditRecord.objects.filter(content_type__model=obj._meta.model_name, object_id=str(obj.pk))
        .order_by("id")
        .values_list("id", "action")
    )


def draft(world: World) -> Statement:
    """甲公司 drove 100 km in March 2025, graded A: 100 km × 3.00 = 300.00 元."""
    sf.trip(vehicle=world.vehicle_a, days={dt.date(YEAR, 3, 10): "100000"})
    sf.grade(actor=world.bureau, operator=world.company_a, year=YEAR, grade="A")
    computation.statements_compute(year=YEAR, actor=world.finance)
    return Statement.objects.get(operator=world.company_a, year=YEAR)


def refused(response: Any) -> str:
    assert response.status_code == 200
    (error,) = response.context["form"].non_field_errors()
    return str(error)


# --- approve -----------------------------------------------------------------------------------


def test_a_stale_approve_form_is_refused_and_nothing_changes(world: World) -> None:
    statement = draft(world)
    colleague = factories.user(Role.FINANCE)
    stale_tab = browser_for(world.finance)
    seen = seen_version(stale_tab.get(f"/statements/{statement.pk}/approve/").content)
    services.statement_approve(actor=colleague, statement=statement, reason="核对无误")
    before = (trail(statement), StatementLine.objects.count())

    response = stale_tab.post(
        f"/statements/{statement.pk}/approve/", {"comment": "我也核对了", VERSION_FIELD: seen}
    )

    assert STALE in refused(response)
    statement.refresh_from_db()
    assert (statement.status, statement.approved_by_id) == ("approved", colleague.pk)
    assert (trail(statement), StatementLine.objects.count()) == before


def test_the_approval_service_names_seen_version_when_it_refuses(world: World) -> None:
    statement = draft(world)
    page = browser_for(world.finance).get(f"/statements/{statement.pk}/approve/")
    seen = int(seen_version(page.content))
    services.statement_approve(actor=world.finance, statement=statement)
    with pytest.raises(ApplicationError) as refusal:
        services.statement_approve(actor=world.finance, statement=statement, seen_version=seen)
    assert refusal.value.field == VERSION_FIELD


def test_a_fresh_approve_form_approves(world: World) -> None:
    statement = draft(world)
    client = browser_for(world.finance)
    seen = seen_version(client.get(f"/statements/{statement.pk}/approve/").content)
    response = client.post(
        f"/statements/{statement.pk}/approve/", {"comment": "", VERSION_FIELD: seen}
    )
    assert response["Location"] == f"/statements/{statement.pk}/"
    statement.refresh_from_db()
    assert (statement.status, statement.approved_by_id) == ("approved", world.finance.pk)


def test_a_recomputation_after_the_page_was_drawn_makes_the_approve_form_stale(
    world: World,
) -> None:
    statement = draft(world)
    client = browser_for(world.finance)
    seen = seen_version(client.get(f"/statements/{statement.pk}/approve/").content)
    # Another 50 km trip is accepted and the year recomputed: 150 km × 3.00 = 450.00 元.
    sf.trip(vehicle=world.vehicle_a, days={dt.date(YEAR, 4, 1): "50000"})
    computation.statements_compute(year=YEAR, actor=world.finance)

    response = client.post(f"/statements/{statement.pk}/approve/", {VERSION_FIELD: seen})

    assert STALE in refused(response)
    statement.refresh_from_db()
    assert (statement.status, str(statement.amount_yuan)) == ("draft", "450.00")


# --- issue -------------------------------------------------------------------------------------


def approved(world: World) -> Statement:
    return services.statement_approve(actor=world.finance, statement=draft(world))


def test_a_stale_issue_form_is_refused_and_nothing_changes(world: World) -> None:
    statement = approved(world)
    first, second = factories.user(Role.FINANCE), factories.user(Role.FINANCE)
    stale_tab = browser_for(second)
    seen = seen_version(stale_tab.get(f"/statements/{statement.pk}/issue/").content)
    services.statement_issue(actor=first, statement=statement, document_number="阳财建〔2026〕1号")
    before = (trail(statement), LedgerEntry.objects.count())

    response = stale_tab.post(
        f"/statements/{statement.pk}/issue/",
        {"document_number": "阳财建〔2026〕2号", "issued_on": "", VERSION_FIELD: seen},
    )

    assert STALE in refused(response)
    statement.refresh_from_db()
    assert (statement.document_number, statement.issued_by_id) == ("阳财建〔2026〕1号", first.pk)
    assert (trail(statement), LedgerEntry.objects.count()) == before


def test_a_fresh_issue_form_issues(world: World) -> None:
    statement = approved(world)
    issuer = browser_for(factories.user(Role.FINANCE))
    seen = seen_version(issuer.get(f"/statements/{statement.pk}/issue/").content)
    response = issuer.post(
        f"/statements/{statement.pk}/issue/",
        {"document_number": "阳财建〔2026〕3号", "issued_on": "", VERSION_FIELD: seen},
    )
    assert response.status_code == 302
    statement.refresh_from_db()
    assert (statement.status, statement.document_number) == ("issued", "阳财建〔2026〕3号")


# --- mark paid ---------------------------------------------------------------------------------


@pytest.fixture
def no_notice(settings: Any) -> None:
    settings.PUBLIC_NOTICE_WORKING_DAYS = 0  # paid at once: the notice is payments' own test


def issued(world: World) -> Statement:
    return services.statement_issue(
        actor=factories.user(Role.FINANCE),
        statement=approved(world),
        document_number="阳财建〔2026〕4号",
    )


@pytest.mark.usefixtures("no_notice")
def test_a_stale_mark_paid_form_is_refused_and_nothing_changes(world: World) -> None:
    statement = issued(world)
    stale_tab = browser_for(world.finance)  # the approver may record the payment
    seen = seen_version(stale_tab.get(f"/statements/{statement.pk}/mark-paid/").content)
    payer = factories.user(Role.FINANCE)
    services.statement_mark_paid(actor=payer, statement=statement, reason="国库已拨付")
    before = (trail(statement), LedgerEntry.objects.count())

    response = stale_tab.post(
        f"/statements/{statement.pk}/mark-paid/", {"comment": "", VERSION_FIELD: seen}
    )

    assert STALE in refused(response)
    statement.refresh_from_db()
    assert (statement.status, statement.paid_by_id) == ("paid", payer.pk)
    assert (trail(statement), LedgerEntry.objects.count()) == before
    assert LedgerEntry.objects.filter(statement=statement, kind="payment").count() == 1


@pytest.mark.usefixtures("no_notice")
def test_a_fresh_mark_paid_form_records_the_payment(world: World) -> None:
    statement = issued(world)
    client = browser_for(world.finance)
    seen = seen_version(client.get(f"/statements/{statement.pk}/mark-paid/").content)
    response = client.post(f"/statements/{statement.pk}/mark-paid/", {VERSION_FIELD: seen})
    assert response.status_code == 302
    statement.refresh_from_db()
    assert (statement.status, statement.paid_by_id) == ("paid", world.finance.pk)


def test_a_pdf_downloaded_meanwhile_does_not_make_the_page_stale(world: World) -> None:
    statement = draft(world)
    client = browser_for(world.finance)
    seen = seen_version(client.get(f"/statements/{statement.pk}/approve/").content)
    assert client.get(f"/api/v1/statements/{statement.pk}/pdf/").status_code == 200
    assert "download_pdf" in [action for _, action in trail(statement)]
    response = client.post(f"/statements/{statement.pk}/approve/", {VERSION_FIELD: seen})
    assert response.status_code == 302


# --- steps that no longer apply ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("approve", "该结算单状态为“已批准”：无需再审核。"),
        ("mark-paid", "该结算单状态为“已批准”：只有已下达的结算单才能登记拨付。"),
    ],
)
def test_the_page_of_a_step_that_no_longer_applies_is_not_offered(
    world: World, step: str, message: str
) -> None:
    statement = approved(world)
    response = browser_for(world.finance).get(f"/statements/{statement.pk}/{step}/")
    assert response["Location"] == f"/statements/{statement.pk}/"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [message]


def test_the_issue_page_of_a_draft_is_not_offered(world: World) -> None:
    statement = draft(world)
    response = browser_for(world.finance).get(f"/statements/{statement.pk}/issue/")
    assert response["Location"] == f"/statements/{statement.pk}/"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "该结算单状态为“草稿”：只有已审核的结算单才能下达。"
    ]


# --- the API -----------------------------------------------------------------------------------


def test_the_api_refuses_a_stale_version_on_seen_version_and_takes_none(world: World) -> None:
    statement = draft(world)
    api = client_for(world.finance)
    version = api.get(f"/api/v1/statements/{statement.pk}/").json()["version"]
    sf.grade(actor=world.bureau, operator=world.company_a, year=YEAR, grade="B")
    computation.statements_compute(year=YEAR, actor=world.finance)  # 100 km × 2.00 = 200.00
    stale = api.post(
        f"/api/v1/statements/{statement.pk}/approve/", {"seen_version": version}, format="json"
    )
    assert stale.status_code == 400
    assert STALE in stale.json()["seen_version"][0]
    assert Statement.objects.get(pk=statement.pk).status == "draft"
    # Without a version, as before: not checked.
    fresh = api.post(f"/api/v1/statements/{statement.pk}/approve/", {}, format="json")
    assert fresh.status_code == 200
    assert fresh.json()["amount_yuan"] == "200.00"


# --- grades ------------------------------------------------------------------------------------


def grade_page(client: Client, world: World, year: int = YEAR) -> bytes:
    response = client.get(f"/grades/{world.company_a.pk}/{year}/")
    assert response.status_code == 200
    return bytes(response.content)


def test_a_stale_grade_form_of_an_ungraded_year_is_refused(world: World) -> None:
    stale_tab = browser_for(world.bureau)
    seen = seen_version(grade_page(stale_tab, world))
    assert seen == "0"  # nobody has graded the year yet
    colleague = factories.user(Role.BUREAU)
    services.assessment_set(actor=colleague, operator=world.company_a, year=YEAR, grade="B")
    assessment = Assessment.objects.get()
    before = trail(assessment)

    response = stale_tab.post(
        f"/grades/{world.company_a.pk}/{YEAR}/",
        {"grade": "A", "score": "", "notes": "", "reason": "", VERSION_FIELD: seen},
    )

    assert STALE in refused(response)
    assessment.refresh_from_db()
    assert (assessment.grade, assessment.assessed_by_id) == ("B", colleague.pk)
    assert trail(assessment) == before


def test_a_stale_grade_change_is_refused_and_a_fresh_one_saves(world: World) -> None:
    services.assessment_set(actor=world.bureau, operator=world.company_a, year=YEAR, grade="B")
    stale_tab, colleague = browser_for(world.bureau), browser_for(factories.user(Role.BUREAU))
    seen = seen_version(grade_page(stale_tab, world))
    fresh = seen_version(grade_page(colleague, world))
    form = {"grade": "C", "score": "", "notes": "", "reason": "复核"}
    assert (
        colleague.post(
            f"/grades/{world.company_a.pk}/{YEAR}/", {**form, VERSION_FIELD: fresh}
        ).status_code
        == 302
    )
    assessment = Assessment.objects.get()
    before = trail(assessment)

    response = stale_tab.post(
        f"/grades/{world.company_a.pk}/{YEAR}/", {**form, "grade": "A", VERSION_FIELD: seen}
    )

    assert STALE in refused(response)
    assessment.refresh_from_db()
    assert assessment.grade == "C"
    assert trail(assessment) == before


def accept_form(page: bytes) -> dict[str, str]:
    form = re.search(r'<form method="post" action="[^"]*/accept/">(.*?)</form>', page.decode())
    assert form is not None, "no accept button"
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'name="(grade|seen_version)" value="([^"]*)"', form[1])
    }


def test_a_stale_accept_button_is_refused(world: World) -> None:
    policy(world)
    drive(world)
    stale_tab = browser_for(world.bureau)
    shown = accept_form(grade_page(stale_tab, world, 2026))
    assert shown[VERSION_FIELD] == "0"
    services.assessment_set(
        actor=world.admin, operator=world.company_a, year=2026, grade="D", reason="事故"
    )
    before = trail(Assessment.objects.get())

    response = stale_tab.post(f"/grades/{world.company_a.pk}/2026/accept/", shown)

    assert response["Location"] == f"/grades/{world.company_a.pk}/2026/"
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert STALE in message
    assessment = Assessment.objects.get()
    assert assessment.grade == "D"
    assert trail(assessment) == before


def test_a_fresh_accept_button_grades_as_proposed(world: World) -> None:
    policy(world)
    drive(world)
    client = browser_for(world.bureau)
    shown = accept_form(grade_page(client, world, 2026))
    response = client.post(f"/grades/{world.company_a.pk}/2026/accept/", shown)
    assert response["Location"] == "/grades/?year=2026"
    assessment = Assessment.objects.get()
    assert (assessment.grade, assessment.proposed_grade) == (shown["grade"], shown["grade"])


def test_an_accept_button_naming_another_grade_than_the_proposal_now_is_refused(
    world: World,
) -> None:
    policy(world)
    drive(world)
    client = browser_for(world.bureau)
    shown = accept_form(grade_page(client, world, 2026))
    other = "C" if shown["grade"] != "C" else "B"
    response = client.post(f"/grades/{world.company_a.pk}/2026/accept/", {**shown, "grade": other})
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert f"不是您接受时页面上的 {other}" in message
    assert not Assessment.objects.exists()


def test_the_grade_page_of_an_issued_year_says_a_change_becomes_an_adjustment(
    world: World,
) -> None:
    issued(world)
    page = grade_page(browser_for(world.bureau), world).decode()
    assert "2025 年度结算单已下达" in page


def test_the_grade_api_refuses_a_stale_version_and_takes_none(world: World) -> None:
    api = client_for(world.bureau)
    grade = {"operator": world.company_a.pk, "year": YEAR}
    # Read as ungraded (version 0); a colleague grades meanwhile.
    services.assessment_set(actor=world.admin, operator=world.company_a, year=YEAR, grade="B")
    stale = api.post("/api/v1/assessments/", {**grade, "grade": "A", "seen_version": 0})
    assert stale.status_code == 400
    assert STALE in stale.json()["seen_version"][0]
    assessment = Assessment.objects.get()
    before = trail(assessment)
    # The version as read now changes it, and the answer carries the next one.
    version = api.get(f"/api/v1/assessments/{assessment.pk}/").json()["version"]
    changed = api.post(
        "/api/v1/assessments/", {**grade, "grade": "C", "reason": "复核", "seen_version": version}
    )
    assert changed.status_code == 200
    assert changed.json()["grade"] == "C"
    assert changed.json()["version"] > version
    assert len(trail(assessment)) == len(before) + 1
    # That version is now stale; without one, as before: not checked.
    again = api.post(
        "/api/v1/assessments/", {**grade, "grade": "D", "reason": "事故", "seen_version": version}
    )
    assert again.status_code == 400
    assert Assessment.objects.get().grade == "C"
    unchecked = api.post("/api/v1/assessments/", {**grade, "grade": "D", "reason": "事故"})
    assert unchecked.status_code == 200


def test_the_accept_proposal_api_refuses_a_stale_version(world: World) -> None:
    policy(world)
    drive(world)
    services.assessment_set(
        actor=world.admin, operator=world.company_a, year=2026, grade="D", reason="事故"
    )
    before = trail(Assessment.objects.get())
    response = client_for(world.bureau).post(
        "/api/v1/assessments/accept-proposal/",
        {"operator": world.company_a.pk, "year": 2026, "seen_version": 0},
    )
    assert response.status_code == 400
    assert STALE in response.json()["seen_version"][0]
    assert Assessment.objects.get().grade == "D"
    assert trail(Assessment.objects.get()) == before
