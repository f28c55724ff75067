"""Factories: rows made through the services, as the app makes them."""

import datetime as dt
import itertools

from stdnum.cn import uscc

from core.roles import Role
from operators import services
from operators.identifiers import vin_check_digit
from operators.models import Operator, User, Vehicle

PASSWORD = "a-long-test-password-42"
_serial = itertools.count(1)


def credit_code() -> str:
    """A fresh valid credit code in Yangquan (region 140300)."""
    base = f"91140300MA{next(_serial):07d}"
    return base + uscc.calc_check_digit(base)


def vin() -> str:
    """A fresh valid VIN: check digit computed for position 9."""
    draft = f"LFV2A2BS0N{next(_serial):07d}"
    return draft[:8] + vin_check_digit(draft) + draft[9:]


def plate() -> str:
    return f"晋CD{next(_serial):05d}"


def user(role: str = Role.BUREAU, operator: Operator | None = None, username: str = "") -> User:
    return services.user_create(
        actor=None,
        username=username or f"{role}{next(_serial)}",
        password=PASSWORD,
        role=role,
        operator=operator,
    )


def operator(
    *,
    actor: User,
    name: str = "",
    settled_on: dt.date = dt.date(2023, 1, 1),
    admitted_on: dt.date | None = dt.date(2023, 2, 1),
) -> Operator:
    company = services.operator_create(
        actor=actor,
        name=name or f"测试公司{next(_serial)}",
        credit_code=credit_code(),
        settled_on=settled_on,
    )
    if admitted_on:
        company = services.operator_admit(
            actor=actor, operator=company, pilot_admitted_on=admitted_on
        )
    return company


def vehicle(
    *,
    actor: User,
    operator: Operator,
    category: str = Vehicle.Category.TAXI,
    permit: tuple[dt.date, dt.date] | None = (dt.date(2023, 1, 1), dt.date(2027, 12, 31)),
) -> Vehicle:
    made = services.vehicle_propose(
        actor=actor, operator=operator, vin=vin(), plate=plate(), category=category
    )
    if permit:
        made = services.vehicle_approve(
            actor=actor,
            vehicle=made,
            permit_number=f"TEST-{made.pk}",
            permit_valid_from=permit[0],
            permit_valid_to=permit[1],
        )
    return made
