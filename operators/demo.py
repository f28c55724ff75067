"""Demo companies, vehicles and accounts (fictional companies; codes and VINs are valid)."""

import datetime as dt
from dataclasses import dataclass

from core.roles import Role

from . import services
from .models import User

DEMO_PASSWORD = "yangquan-demo-2026"  # noqa: S105 - printed for the demo; never in production


@dataclass(frozen=True)
class DemoCompany:
    name: str
    credit_code: str
    settled_on: dt.date
    admitted_on: dt.date | None  # None: registered, not admitted, so its km do not count
    contact_name: str
    contact_phone: str
    vehicles: tuple[tuple[str, str, str], ...]  # (VIN, plate, category)


COMPANIES = (
    DemoCompany(
        "阳泉智行科技有限公司",
        "91140300MA0K3U7Q1C",
        dt.date(2023, 3, 1),
        dt.date(2023, 6, 15),
        "王磊",
        "0353-2021001",
        (("LFV2A2BS1N1000101", "晋CD10001", "taxi"), ("LFV2A2BS3N1000102", "晋CD10002", "taxi")),
    ),
    DemoCompany(
        "山西晋阳无人驾驶公交有限公司",
        "91140311MA0L1B2X4U",
        dt.date(2022, 11, 20),
        dt.date(2023, 1, 10),
        "李静",
        "0353-2021002",
        (("LSGKB54H2P2003307", "晋C00301D", "bus"),),
    ),
    DemoCompany(
        "阳泉小驴无人零售科技有限公司",
        "91140302MA0KXW5R85",
        dt.date(2024, 5, 8),
        None,
        "赵敏",
        "0353-2021003",
        (("LNBSCB3F9R1000021", "晋CF00021", "vending"),),
    ),
)

GOVERNMENT_USERS = (("bureau", Role.BUREAU), ("finance", Role.FINANCE), ("admin", Role.ADMIN))


def load() -> None:
    """Load the demo registry through the services, so the audit trail is real too."""
    for username, role in GOVERNMENT_USERS:
        services.user_create(actor=None, username=username, password=DEMO_PASSWORD, role=role)
    bureau = User.objects.get(username="bureau")
    for index, company in enumerate(COMPANIES, start=1):
        operator = services.operator_create(
            actor=bureau,
            name=company.name,
            credit_code=company.credit_code,
            settled_on=company.settled_on,
            contact_name=company.contact_name,
            contact_phone=company.contact_phone,
        )
        if company.admitted_on:
            operator = services.operator_admit(
                actor=bureau,
                operator=operator,
                pilot_admitted_on=company.admitted_on,
                reason="示范应用准入",
            )
        staff = services.user_create(
            actor=None,
            username=f"company{index}",
            password=DEMO_PASSWORD,
            role=Role.OPERATOR,
            operator=operator,
        )
        for number, (vin, plate, category) in enumerate(company.vehicles, start=1):
            vehicle = services.vehicle_propose(actor=staff, vin=vin, plate=plate, category=category)
            if company.admitted_on:
                services.vehicle_approve(
                    actor=bureau,
                    vehicle=vehicle,
                    permit_number=f"阳交智测〔2024〕{index:02d}{number:02d}号",
                    permit_valid_from=company.admitted_on,
                    permit_valid_to=dt.date(2027, 12, 31),
                )
