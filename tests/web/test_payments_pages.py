"""Finance's pages after the statement, through the Django test client: objections, a
batch from making to paid, a clawback, and bank-detail changes. Refusals (four eyes, a
stale page) come back as messages on the page, never a 500."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.apps import apps
from django.test import Client
from django.utils import translation

from operators.models import BankDetailsChange, Operator
from payments import services
from payments.models import Clawback, Objection, Payment, PaymentBatch
from subsidies.models import Statement
from tests.conftest import World
from tests.payments.conftest import NATIONAL_DAY_ISSUE, Office, approved, issue, office, with_bank

pytestmark = [pytest.mark.django_db, pytest.mark.after_statement]
__all__ = ["office"]  # the fixture, shared with tests/payments
_seed = importlib.import_module("subsidies.migrations.0002_seed_policy").seed


@pytest.fixture(autouse=True)
def default_policy(db: None) -> Iterator[None]:
    _seed(apps, None)
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def closed(world: World, office: Office) -> Statement:
    """30,000.00 yuan issued 2025-09-30; its notice closed 2025-10-14."""
    with_bank(world.company_a)
    return issue(
        office, approved(world, office), number="阳财建〔2025〕41号", on=NATIONAL_DAY_ISSUE
    )


def logged_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def version(html: str) -> str:
    found = re.search(r'name="seen_version" value="(\d+)"', html)
    assert found is not None
    return found.group(1)


def test_finance_decides_an_objection_with_a_reason(world: World, closed: Statement) -> None:
    objection = services.objection_submit(
        statement=closed, name="张三", contact="13800000000", text="里程重复"
    )
    client = logged_in(world.finance)
    assert "张三" in client.get("/payments/objections/").content.decode()
    page = client.get(f"/payments/objections/{objection.pk}/").content.decode()
    empty = client.post(
        f"/payments/objections/{objection.pk}/", {"outcome": "dismissed", "reason": ""}
    )
    assert empty.status_code == 200
    assert "该字段是必填项" in empty.content.decode()
    done = client.post(
        f"/payments/objections/{objection.pk}/",
        {"outcome": "dismissed", "reason": "经核查无重复", "seen_version": version(page)},
    )
    assert done.status_code == 302
    objection.refresh_from_db()
    assert (objection.status, objection.resolution) == ("dismissed", "经核查无重复")


def test_a_stale_objection_page_is_refused_with_a_message(
    world: World, office: Office, closed: Statement
) -> None:
    objection = services.objection_submit(statement=closed, name="李四", contact="x", text="y")
    client = logged_in(world.finance)
    seen = version(client.get(f"/payments/objections/{objection.pk}/").content.decode())
    services.objection_resolve(
        actor=office.issuer, objection=objection, outcome="upheld", reason="属实"
    )
    # The page drawn before that decision no longer offers the form.
    late = client.post(
        f"/payments/objections/{objection.pk}/",
        {"outcome": "dismissed", "reason": "z", "seen_version": seen},
    )
    assert late.status_code == 200
    assert Objection.objects.get(pk=objection.pk).status == "upheld"


def test_a_batch_is_made_sent_and_paid_on_the_pages_with_four_eyes(
    world: World, office: Office, closed: Statement
) -> None:
    sender, payer = logged_in(office.issuer), logged_in(office.approver)
    form = sender.get("/payments/batches/new/").content.decode()
    assert "甲公司" in form
    made = sender.post("/payments/batches/new/", {"statements": [closed.pk], "purpose": ""})
    batch = PaymentBatch.objects.get()
    assert made.headers["Location"] == f"/payments/batches/{batch.pk}/"
    detail = sender.get(f"/payments/batches/{batch.pk}/").content.decode()
    # The account is masked on the page: first four and last four digits.
    assert "0505 **** 7890" in detail
    assert "0505001109024567890" not in detail
    step = sender.get(f"/payments/batches/{batch.pk}/issue/").content.decode()
    sender.post(f"/payments/batches/{batch.pk}/issue/", {"seen_version": version(step)})
    # Four eyes: whoever sent the batch may not mark it paid; the refusal is on the page.
    step = sender.get(f"/payments/batches/{batch.pk}/paid/").content.decode()
    refused = sender.post(
        f"/payments/batches/{batch.pk}/paid/",
        {f"ref_{closed.pk}": "GK2025110001", "seen_version": version(step)},
    )
    assert refused.status_code == 200
    assert "须由另一名财政人员登记拨付" in refused.content.decode()
    step = payer.get(f"/payments/batches/{batch.pk}/paid/").content.decode()
    paid = payer.post(
        f"/payments/batches/{batch.pk}/paid/",
        {f"ref_{closed.pk}": "GK2025110001", "seen_version": version(step)},
    )
    assert paid.status_code == 302
    assert Payment.objects.get().bank_reference == "GK2025110001"
    assert Statement.objects.get(pk=closed.pk).status == "paid"


def test_a_batch_page_drawn_before_a_change_is_refused(
    world: World, office: Office, closed: Statement
) -> None:
    batch = services.batch_create(actor=office.issuer, statements=[closed])
    client = logged_in(office.issuer)
    seen = version(client.get(f"/payments/batches/{batch.pk}/issue/").content.decode())
    services.batch_issue(actor=office.approver, batch=batch)
    stale = client.post(f"/payments/batches/{batch.pk}/issue/", {"seen_version": seen})
    assert stale.status_code == 200
    assert "被他人修改" in stale.content.decode()


def test_a_clawback_is_opened_with_a_penalty_and_recovered_on_the_pages(
    world: World, office: Office, closed: Statement
) -> None:
    batch = services.batch_create(actor=office.issuer, statements=[closed])
    services.batch_issue(actor=office.issuer, batch=batch)
    services.batch_mark_paid(actor=office.approver, batch=batch, references={closed.pk: "GK1"})
    client = logged_in(world.finance)
    too_much = client.post(
        "/payments/clawbacks/new/",
        {"statement": closed.pk, "amount_yuan": "30000.01", "reason": "重复里程"},
    )
    assert too_much.status_code == 200
    opened = client.post(
        "/payments/clawbacks/new/",
        {
            "statement": closed.pk,
            "amount_yuan": "3000.00",
            "penalty_yuan": "1500.00",
            "reason": "复制轨迹 1,000 km × 3.00 元",
        },
    )
    clawback = Clawback.objects.get()
    assert opened.headers["Location"] == f"/payments/clawbacks/{clawback.pk}/"
    detail = client.get(f"/payments/clawbacks/{clawback.pk}/").content.decode()
    assert "《财政违法行为处罚处分条例》第十四条" in detail
    for step, reference in (("recover", "HK001"), ("recover-penalty", "HK002")):
        page = client.get(f"/payments/clawbacks/{clawback.pk}/{step}/").content.decode()
        done = client.post(
            f"/payments/clawbacks/{clawback.pk}/{step}/",
            {"bank_reference": reference, "seen_version": version(page)},
        )
        assert done.status_code == 302
    clawback.refresh_from_db()
    assert (clawback.status, clawback.penalty_status) == ("recovered", "recovered")
    assert (clawback.amount_yuan, clawback.penalty_yuan) == (Decimal("3000.00"), Decimal("1500.00"))


def test_company_asks_for_a_bank_change_and_another_person_of_the_bureau_confirms(
    world: World,
) -> None:
    company = logged_in(world.staff_a)
    asked = company.post(
        f"/companies/{world.company_a.pk}/bank/",
        {"bank_name": "中国银行阳泉分行", "bank_account": "6216 6100 0001 2345 678"},
    )
    assert asked.status_code == 302
    page = logged_in(world.bureau).get(f"/companies/{world.company_a.pk}/").content.decode()
    assert "6216 **** 5678" in page
    assert "6216610000012345678" not in page
    decide = logged_in(world.bureau)
    form = decide.get(f"/companies/{world.company_a.pk}/bank/decide/").content.decode()
    done = decide.post(
        f"/companies/{world.company_a.pk}/bank/decide/",
        {"decision": "confirm", "reason": "电话核实", "seen_version": version(form)},
    )
    assert done.status_code == 302
    assert BankDetailsChange.objects.get().status == "confirmed"
    assert Operator.objects.get(pk=world.company_a.pk).bank_account == "6216610000012345678"


def test_company_staff_cannot_open_finance_pages(world: World) -> None:
    client = logged_in(world.staff_a)
    for url in ("/payments/objections/", "/payments/batches/", "/payments/calendar/"):
        assert client.get(url).status_code == 403
    assert client.get(f"/companies/{world.company_a.pk}/bank/decide/").status_code == 403
