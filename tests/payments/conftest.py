"""After the statement: four eyes and the public notice on (the production defaults), two
finance officers, and company A's 2024 statement ready to issue."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.utils import translation

from core.roles import Role
from operators.models import Operator, User
from subsidies import computation, services
from subsidies.models import Statement
from tests import factories
from tests.conftest import World
from tests.subsidies import factories as sf

_seed = importlib.import_module("subsidies.migrations.0002_seed_policy").seed


@pytest.fixture(autouse=True)
def default_policy(request: pytest.FixtureRequest) -> None:
    if "transactional_db" in request.fixturenames:
        request.getfixturevalue("transactional_db")
    elif request.node.get_closest_marker("django_db") or "db" in request.fixturenames:
        request.getfixturevalue("db")
    else:
        return
    _seed(apps, None)


@pytest.fixture(autouse=True)
def in_chinese() -> Iterator[None]:
    # Messages are matched in Chinese, whatever language an earlier test left active.
    with translation.override("zh-hans"):
        yield


@dataclass
class Office:
    """Two finance officers (four eyes) and the bureau."""

    approver: User
    issuer: User
    bureau: User


@pytest.fixture
def office(world: World) -> Office:
    return Office(approver=world.finance, issuer=factories.user(Role.FINANCE), bureau=world.bureau)


def with_bank(operator: Operator) -> Operator:
    """Bank details as the bureau confirms them (tests of the confirmation: test_bank.py)."""
    Operator.objects.filter(pk=operator.pk).update(
        bank_name="中国工商银行阳泉分行", bank_account="0505001109024567890"
    )
    operator.refresh_from_db()
    return operator


def approved(world: World, office: Office, *, metres: str = "10000000.00") -> Statement:
    """Company A's 2024: 10,000 km (10,000,000 m) × 3.00 (grade A) = 30,000.00 yuan."""
    sf.trip(vehicle=world.vehicle_a, days={dt.date(2024, 4, 1): metres})
    sf.grade(actor=world.bureau, operator=world.company_a, year=2024, grade="A")
    computation.statements_compute(year=2024)
    statement = Statement.objects.get(operator=world.company_a, year=2024, status="draft")
    return services.statement_approve(actor=office.approver, statement=statement)


def issue(
    office: Office, statement: Statement, *, number: str, on: dt.date | None = None
) -> Statement:
    return services.statement_issue(
        actor=office.issuer, statement=statement, document_number=number, issued_on=on
    )


# 2025-09-30 (Tuesday): its 5-working-day notice ends 2025-10-14 (tests/payments/test_notice.py).
NATIONAL_DAY_ISSUE = dt.date(2025, 9, 30)
