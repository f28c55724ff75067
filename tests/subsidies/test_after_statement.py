"""Issue 15 at the statement: four eyes, a year settled only once over, the document number,
and the years the computation refuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.utils import timezone, translation

from core.errors import ApplicationError
from core.models import AuditRecord
from core.roles import Role
from subsidies import computation, services
from subsidies.models import Statement
from tests import factories
from tests.conftest import World, client_for
from tests.subsidies import factories as sf

pytestmark = [pytest.mark.django_db, pytest.mark.after_statement]


@pytest.fixture(autouse=True)
def in_chinese() -> Iterator[None]:
    # Messages are matched in Chinese, whatever language an earlier test left active.
    with translation.override("zh-hans"):
        yield


def _approved(world: World, year: int = 2024) -> Statement:
    # 1,000 km × 3.00 = 3,000.00
    sf.trip(vehicle=world.vehicle_a, days={dt.date(year, 4, 1): "1000000.00"})
    sf.grade(actor=world.bureau, operator=world.company_a, year=year, grade="A")
    computation.statements_compute(year=year)
    draft = Statement.objects.get(operator=world.company_a, year=year)
    if year >= timezone.localdate().year:
        return draft
    return services.statement_approve(actor=world.finance, statement=draft)


def test_the_approver_cannot_issue(world: World) -> None:
    statement = _approved(world)
    with pytest.raises(ApplicationError, match="另一名财政人员下达"):
        services.statement_issue(actor=world.finance, statement=statement, document_number="A1")
    assert Statement.objects.get(pk=statement.pk).status == Statement.Status.APPROVED


def test_the_issuer_cannot_record_the_payment(world: World, settings: object) -> None:
    settings.PUBLIC_NOTICE_WORKING_DAYS = 0  # type: ignore[attr-defined]
    issuer = factories.user(Role.FINANCE)
    statement = services.statement_issue(
        actor=issuer, statement=_approved(world), document_number="A2"
    )
    with pytest.raises(ApplicationError, match="另一名财政人员登记拨付"):
        services.statement_mark_paid(actor=issuer, statement=statement)


def test_with_four_eyes_off_one_person_issues_and_the_audit_trail_says_so(
    world: World, settings: object
) -> None:
    settings.FOUR_EYES = False  # type: ignore[attr-defined]
    statement = services.statement_issue(
        actor=world.finance, statement=_approved(world), document_number="A3"
    )
    assert statement.status == Statement.Status.ISSUED
    waived = AuditRecord.objects.get(action="four_eyes_waived", object_id=str(statement.pk))
    assert (waived.actor, waived.changes) == (world.finance, {"step": [None, "issue"]})


def test_a_regular_statement_of_a_year_not_over_is_not_approved(world: World) -> None:
    year = timezone.localdate().year  # not over until 31 December, Asia/Shanghai
    draft = _approved(world, year)
    with pytest.raises(ApplicationError, match="年度尚未结束") as refused:
        services.statement_approve(actor=world.finance, statement=draft)
    assert refused.value.field == "year"


def test_an_issue_date_inside_the_year_is_refused(world: World) -> None:
    statement = _approved(world)
    with pytest.raises(ApplicationError, match="年度尚未结束") as refused:
        services.statement_issue(
            actor=factories.user(Role.FINANCE),
            statement=statement,
            document_number="A4",
            issued_on=dt.date(2024, 12, 7),
        )
    assert refused.value.field == "issued_on"


def test_a_document_number_is_issued_once(world: World) -> None:
    issuer = factories.user(Role.FINANCE)
    first = services.statement_issue(
        actor=issuer, statement=_approved(world), document_number="阳财建〔2025〕7号"
    )
    sf.trip(vehicle=world.vehicle_b, days={dt.date(2024, 5, 1): "1000.00"})
    sf.grade(actor=world.bureau, operator=world.company_b, year=2024, grade="A")
    computation.statements_compute(year=2024)
    other = services.statement_approve(
        actor=world.finance, statement=Statement.objects.get(operator=world.company_b)
    )
    with pytest.raises(ApplicationError) as refused:
        services.statement_issue(actor=issuer, statement=other, document_number="阳财建〔2025〕7号")
    assert refused.value.field == "document_number"
    assert first.document_number == "阳财建〔2025〕7号"


def test_the_issue_api_takes_the_document_number_and_date(world: World) -> None:
    statement = _approved(world)
    body = client_for(factories.user(Role.FINANCE)).post(
        f"/api/v1/statements/{statement.pk}/issue/",
        {"document_number": "阳财建〔2025〕8号", "issued_on": "2025-09-30"},
        format="json",
    )
    assert body.status_code == 200, body.json()
    assert (body.json()["document_number"], body.json()["issued_on"]) == (
        "阳财建〔2025〕8号",
        "2025-09-30",
    )


def test_the_issue_api_without_a_document_number_is_a_400_naming_it(world: World) -> None:
    statement = _approved(world)
    response = client_for(factories.user(Role.FINANCE)).post(
        f"/api/v1/statements/{statement.pk}/issue/", {}, format="json"
    )
    assert response.status_code == 400
    assert "document_number" in response.json()


@pytest.mark.parametrize(
    ("year", "words"),
    [
        (2100, "尚未开始"),  # not started
        (2021, "不在政策有效期"),  # the default window is 2022-01-01 to 2026-12-31
    ],
)
def test_compute_refuses_a_year_not_started_or_outside_the_window(
    world: World, year: int, words: str
) -> None:
    response = client_for(world.finance).post(
        "/api/v1/statements/compute/", {"year": year}, format="json"
    )
    assert response.status_code == 400
    assert words in response.json()["year"][0]
