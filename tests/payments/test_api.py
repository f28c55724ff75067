"""The public notice and objections without a token; decisions, batches and bank details
over the API."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from core.models import AuditRecord
from core.roles import Role
from operators import services as operator_services
from payments.models import Objection
from subsidies.models import Statement
from tests import factories
from tests.conftest import World, client_for
from tests.payments.conftest import NATIONAL_DAY_ISSUE, Office, approved, issue

pytestmark = [pytest.mark.django_db, pytest.mark.after_statement]


@pytest.fixture
def on_notice(world: World, office: Office) -> Statement:
    cache.clear()  # the objection throttle counts per address in the cache
    return issue(
        office, approved(world, office), number="阳财建〔2025〕31号", on=NATIONAL_DAY_ISSUE
    )


def test_anyone_reads_the_public_notice_without_a_token(on_notice: Statement) -> None:
    body = APIClient().get("/api/v1/public-notice/", {"year": 2024}).json()
    row = body["rows"][0]
    assert (row["operator_name"], row["km"], row["amount_yuan"]) == (
        "甲公司",
        "10000.000",
        "30000.00",
    )
    assert (row["starts_on"], row["ends_on"], row["document_number"]) == (
        "2025-10-09",
        "2025-10-14",
        "阳财建〔2025〕31号",
    )
    assert (body["total_km"], body["total_yuan"]) == ("10000.000", "30000.00")
    # Where to object, as a reader of the notice can follow it: the page, not an API path.
    assert "在公示页面 http://testserver/public-notice/2024/ 填写" in body["how_to_object"]
    assert "/api/" not in body["how_to_object"]


def test_anyone_objects_without_a_token_and_finance_decides_over_the_api(
    world: World, on_notice: Statement
) -> None:
    response = APIClient().post(
        f"/api/v1/statements/{on_notice.pk}/objections/",
        {"name": "王某", "contact": "13800000000", "text": "里程有误。"},
        format="json",
    )
    assert response.status_code == 201
    objection = Objection.objects.get(pk=response.json()["id"])
    decided = client_for(world.finance).post(
        f"/api/v1/objections/{objection.pk}/resolve/",
        {"outcome": "dismissed", "reason": "经核查无误。"},
        format="json",
    )
    assert decided.status_code == 200
    assert decided.json()["status"] == "dismissed"


def test_objections_are_throttled_per_address(on_notice: Statement, settings: object) -> None:
    settings.OBJECTION_RATE = "2/hour"  # type: ignore[attr-defined]
    client = APIClient()
    codes = [
        client.post(
            f"/api/v1/statements/{on_notice.pk}/objections/",
            {"name": "某", "contact": "1", "text": "x"},
            format="json",
        ).status_code
        for _ in range(3)
    ]
    assert codes == [201, 201, 429]


def test_a_statement_not_on_notice_takes_no_objection(world: World) -> None:
    response = APIClient().post(
        "/api/v1/statements/999/objections/", {"name": "a", "contact": "b", "text": "c"}
    )
    assert response.status_code == 404


def test_companies_cannot_decide_objections(world: World, on_notice: Statement) -> None:
    response = client_for(world.staff_a).post(
        "/api/v1/objections/1/resolve/", {"outcome": "upheld", "reason": "x"}, format="json"
    )
    assert response.status_code == 403


def test_the_public_page_lists_the_notice_and_takes_an_objection(on_notice: Statement) -> None:
    from django.test import Client  # noqa: PLC0415

    client = Client()
    page = client.get("/public-notice/2024/").content.decode()
    assert "阳财建〔2025〕31号" in page
    assert "2025-10-09 – 2025-10-14" in page
    assert "10,000.000" in page  # km in the total row too
    response = client.post(
        "/public-notice/2024/",
        {"statement": on_notice.pk, "name": "李某", "contact": "阳泉市", "text": "请核实。"},
        follow=True,
    )
    assert "已收到" in response.content.decode()
    assert Objection.objects.filter(statement=on_notice, name="李某").exists()


def test_bank_details_change_only_once_another_person_of_the_bureau_confirms(
    world: World,
) -> None:
    change = operator_services.bank_details_request(
        actor=world.staff_a,
        operator=world.company_a,
        bank_name="中国银行阳泉分行",
        bank_account="6216 6100 0001 2345 678",
    )
    world.company_a.refresh_from_db()
    assert world.company_a.bank_account == ""  # not before the bureau confirms
    operator_services.bank_details_decide(actor=world.bureau, change=change, confirm=True)
    world.company_a.refresh_from_db()
    assert world.company_a.bank_account == "6216610000012345678"
    audited = AuditRecord.objects.get(action="bank_details", object_id=str(world.company_a.pk))
    assert audited.changes["bank_account"] == ["", "6216610000012345678"]
    shown = client_for(world.staff_a).get(f"/api/v1/operators/{world.company_a.pk}/").json()
    assert shown["bank_account"] == "6216 **** 5678"  # masked


def test_the_bureau_member_who_asked_cannot_confirm(world: World) -> None:
    from core.errors import ApplicationError  # noqa: PLC0415

    change = operator_services.bank_details_request(
        actor=world.bureau, operator=world.company_a, bank_name="x", bank_account="12345678"
    )
    with pytest.raises(ApplicationError):
        operator_services.bank_details_decide(actor=world.bureau, change=change, confirm=True)
    other = factories.user(Role.BUREAU)
    assert (
        operator_services.bank_details_decide(actor=other, change=change, confirm=False).status
        == "rejected"
    )
