"""The rules of policy article 8, pinned to the fen, each figure computed by hand here.

Default policy (migration 0002): A 3.00, B 2.00, C 1.00, D 0.00 yuan/km, cap 300,000.00
a year, 3 paid years, kilometres counted 2022-01-01 to 2026-12-31.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest

from core.errors import ApplicationError
from operators.models import Operator, Vehicle
from subsidies import computation, services
from subsidies.models import Statement
from tests import factories as base
from tests.conftest import World
from tests.subsidies import factories

pytestmark = pytest.mark.django_db

D = dt.date
EARLY = dt.date(2022, 1, 1)  # settled and admitted before any year the tests look at
DayMetres = dict[dt.date, str | tuple[str, str]]


@dataclass(frozen=True)
class Case:
    id: str
    year: int
    trips: list[DayMetres]
    grades: dict[int, str]
    expected_km: str
    expected_rate: str | None
    expected_gross: str
    expected_amount: str
    expected_reason: str
    expected_cap_reduction: str = "0.00"
    settled_on: dt.date = EARLY
    admitted_on: dt.date | None = EARLY


CASES = [
    Case(
        # 12,345,678.91 m = 12,345.67891 km; × 3.00 = 37,037.03673 → 37,037.04
        id="under the cap",
        year=2024,
        trips=[{D(2024, 3, 1): "12000000.00"}, {D(2024, 9, 9): "345678.91"}],
        grades={2024: "A"},
        expected_km="12345.67891",
        expected_rate="3.00",
        expected_gross="37037.04",
        expected_amount="37037.04",
        expected_reason="computed",
    ),
    Case(
        # 1,005 m = 1.005 km; × 1.00 = 1.005 → half up → 1.01 (banker's rounding says 1.00)
        id="half a fen rounds up",
        year=2024,
        trips=[{D(2024, 5, 5): "1005.00"}],
        grades={2024: "C"},
        expected_km="1.00500",
        expected_rate="1.00",
        expected_gross="1.01",
        expected_amount="1.01",
        expected_reason="computed",
    ),
    Case(
        # 100,000 km × 3.00 = 300,000.00 = the cap exactly: not reduced
        id="exactly 100,000 km at 3.00 is the cap",
        year=2024,
        trips=[{D(2024, 1, 10): "60000000.00"}, {D(2024, 12, 31): "40000000.00"}],
        grades={2024: "A"},
        expected_km="100000.00000",
        expected_rate="3.00",
        expected_gross="300000.00",
        expected_amount="300000.00",
        expected_reason="computed",
    ),
    Case(
        # 123,456.789 km × 3.00 = 370,370.367 → 370,370.37; capped at 300,000.00,
        # reduced by 370,370.37 − 300,000.00 = 70,370.37
        id="over the cap",
        year=2024,
        trips=[{D(2024, 6, 1): "123456789.00"}],
        grades={2024: "A"},
        expected_km="123456.78900",
        expected_rate="3.00",
        expected_gross="370370.37",
        expected_amount="300000.00",
        expected_reason="capped",
        expected_cap_reduction="70370.37",
    ),
    Case(
        # 50,000.5 km × 2.00 = 100,001.00
        id="grade B",
        year=2024,
        trips=[{D(2024, 4, 1): "50000500.00"}],
        grades={2024: "B"},
        expected_km="50000.50000",
        expected_rate="2.00",
        expected_gross="100001.00",
        expected_amount="100001.00",
        expected_reason="computed",
    ),
    Case(
        # grade D carries 0.00 yuan/km: nothing, whatever the kilometres
        id="grade D",
        year=2024,
        trips=[{D(2024, 4, 1): "50000000.00"}],
        grades={2024: "D"},
        expected_km="50000.00000",
        expected_rate="0.00",
        expected_gross="0.00",
        expected_amount="0.00",
        expected_reason="zero_rate",
    ),
    Case(
        id="no grade yet",
        year=2024,
        trips=[{D(2024, 4, 1): "50000000.00"}],
        grades={},
        expected_km="50000.00000",
        expected_rate=None,
        expected_gross="0.00",
        expected_amount="0.00",
        expected_reason="no_grade",
    ),
    Case(
        # settled 2024-03-01 (admitted earlier): the 29 February trip does not count;
        # 20,000 m = 20 km × 3.00 = 60.00
        id="kilometres before settled_on",
        year=2024,
        settled_on=D(2024, 3, 1),
        admitted_on=D(2024, 2, 1),
        trips=[{D(2024, 2, 29): "10000.00"}, {D(2024, 3, 1): "20000.00"}],
        grades={2024: "A"},
        expected_km="20.00000",
        expected_rate="3.00",
        expected_gross="60.00",
        expected_amount="60.00",
        expected_reason="computed",
    ),
    Case(
        # admitted only in 2025: nothing in 2024
        id="not yet admitted that year",
        year=2024,
        settled_on=D(2024, 1, 1),
        admitted_on=D(2025, 1, 1),
        trips=[{D(2024, 6, 1): "10000.00"}],
        grades={2024: "A"},
        expected_km="0.00000",
        expected_rate=None,
        expected_gross="0.00",
        expected_amount="0.00",
        expected_reason="not_eligible",
    ),
    Case(
        # 23:00 on 31 Dec to 00:30 on 1 Jan: 3,000 m in 2023, 2,000 m in 2024;
        # 2023: 3 km × 3.00 = 9.00
        id="trip across New Year, first year",
        year=2023,
        trips=[{D(2023, 12, 31): "3000.00", D(2024, 1, 1): "2000.00"}],
        grades={2023: "A", 2024: "A"},
        expected_km="3.00000",
        expected_rate="3.00",
        expected_gross="9.00",
        expected_amount="9.00",
        expected_reason="computed",
    ),
    Case(
        # the same trip, 2024: 2 km × 3.00 = 6.00
        id="trip across New Year, second year",
        year=2024,
        trips=[{D(2023, 12, 31): "3000.00", D(2024, 1, 1): "2000.00"}],
        grades={2023: "A", 2024: "A"},
        expected_km="2.00000",
        expected_rate="3.00",
        expected_gross="6.00",
        expected_amount="6.00",
        expected_reason="computed",
    ),
    Case(
        # the zone is approved from 1 July: the June trip's 10,000 autonomous metres earned
        # nothing at verification; July's 10,000 m count: 10 km × 3.00 = 30.00
        id="a segment approved mid-year",
        year=2024,
        trips=[
            {D(2024, 6, 30): ("10000.00", "0.00")},
            {D(2024, 7, 1): ("10000.00", "10000.00")},
        ],
        grades={2024: "A"},
        expected_km="10.00000",
        expected_rate="3.00",
        expected_gross="30.00",
        expected_amount="30.00",
        expected_reason="computed",
    ),
    Case(
        # the window ends 2026-12-31: 1,234.5 m that day count (1.2345 km × 3.00 = 3.7035
        # → 3.70); the next day's do not
        id="policy window end, last year",
        year=2026,
        trips=[{D(2026, 12, 31): "1234.50", D(2027, 1, 1): "5000.00"}],
        grades={2026: "A", 2027: "A"},
        expected_km="1.23450",
        expected_rate="3.00",
        expected_gross="3.70",
        expected_amount="3.70",
        expected_reason="computed",
    ),
    Case(
        id="policy window end, the year after",
        year=2027,
        trips=[{D(2026, 12, 31): "1234.50", D(2027, 1, 1): "5000.00"}],
        grades={2026: "A", 2027: "A"},
        expected_km="0.00000",
        expected_rate=None,
        expected_gross="0.00",
        expected_amount="0.00",
        expected_reason="outside_window",
    ),
]


def company(world: World, settled_on: dt.date, admitted_on: dt.date | None) -> Vehicle:
    operator = base.operator(actor=world.bureau, settled_on=settled_on, admitted_on=admitted_on)
    return base.vehicle(actor=world.bureau, operator=operator)


def statement_of(operator: Operator, year: int) -> Statement:
    return Statement.objects.exclude(status="void").get(operator=operator, year=year)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_statement_figures_to_the_fen(world: World, case: Case) -> None:
    vehicle = company(world, case.settled_on, case.admitted_on)
    for days in case.trips:
        factories.trip(vehicle=vehicle, days=days)
    for year, grade in case.grades.items():
        factories.grade(actor=world.bureau, operator=vehicle.operator, year=year, grade=grade)

    computation.statements_compute(year=case.year)

    statement = statement_of(vehicle.operator, case.year)
    assert statement.kind == "regular"
    assert statement.km == Decimal(case.expected_km)
    assert statement.rate_yuan_per_km == (
        Decimal(case.expected_rate) if case.expected_rate else None
    )
    assert statement.gross_yuan == Decimal(case.expected_gross)
    assert statement.amount_yuan == Decimal(case.expected_amount)
    assert statement.cap_reduction_yuan == Decimal(case.expected_cap_reduction)
    assert statement.cap_applied == (case.expected_reason == "capped")
    assert statement.reason == case.expected_reason


def issue(world: World, statement: Statement) -> Statement:
    services.statement_approve(actor=world.finance, statement=statement)
    return services.statement_issue(actor=world.finance, statement=statement)


def paid_history(world: World, vehicle: Vehicle, years: dict[int, str]) -> None:
    """Issue one statement per year: 1,000 km each, at the given grade."""
    for year, grade in years.items():
        factories.trip(vehicle=vehicle, days={D(year, 5, 1): "1000000.00"})
        factories.grade(actor=world.bureau, operator=vehicle.operator, year=year, grade=grade)
        computation.statements_compute(year=year)
        issue(world, statement_of(vehicle.operator, year))


def test_a_fourth_year_after_three_paid_years_earns_nothing(world: World) -> None:
    vehicle = company(world, D(2022, 1, 1), D(2022, 1, 1))
    # 1,000 km × 3.00 = 3,000.00 in each of 2022, 2023 and 2024
    paid_history(world, vehicle, {2022: "A", 2023: "A", 2024: "A"})
    factories.trip(vehicle=vehicle, days={D(2025, 5, 1): "1000000.00"})
    factories.grade(actor=world.bureau, operator=vehicle.operator, year=2025, grade="A")

    computation.statements_compute(year=2025)

    statement = statement_of(vehicle.operator, 2025)
    assert statement.km == Decimal("1000.00000")
    assert statement.amount_yuan == Decimal("0.00")
    assert statement.reason == "paid_years_used"


def test_a_year_issued_at_zero_is_not_a_paid_year(world: World) -> None:
    vehicle = company(world, D(2022, 1, 1), D(2022, 1, 1))
    # 2022 graded D (0.00), then 2023 and 2024 at A: two paid years so far
    paid_history(world, vehicle, {2022: "D", 2023: "A", 2024: "A"})
    factories.trip(vehicle=vehicle, days={D(2025, 5, 1): "1000000.00"})
    factories.grade(actor=world.bureau, operator=vehicle.operator, year=2025, grade="B")

    computation.statements_compute(year=2025)

    # 1,000 km × 2.00 = 2,000.00
    statement = statement_of(vehicle.operator, 2025)
    assert statement.amount_yuan == Decimal("2000.00")
    assert statement.reason == "computed"


def test_a_trip_rejected_after_issue_gives_a_negative_adjustment(world: World) -> None:
    vehicle = company(world, D(2022, 1, 1), D(2022, 1, 1))
    factories.trip(vehicle=vehicle, days={D(2024, 3, 1): "30000000.00"})
    late = factories.trip(vehicle=vehicle, days={D(2024, 8, 1): "5000000.50"})
    factories.grade(actor=world.bureau, operator=vehicle.operator, year=2024, grade="A")
    computation.statements_compute(year=2024)
    # 35,000.0005 km × 3.00 = 105,000.0015 → 105,000.00
    regular = issue(world, statement_of(vehicle.operator, 2024))
    assert regular.amount_yuan == Decimal("105000.00")

    factories.reject(late)
    computation.statements_compute(year=2024)

    regular.refresh_from_db()
    assert regular.status == "issued"
    assert regular.amount_yuan == Decimal("105000.00")
    adjustment = Statement.objects.get(operator=vehicle.operator, year=2024, kind="adjustment")
    # 30,000 km × 3.00 = 90,000.00; 90,000.00 − 105,000.00 = −15,000.00
    assert adjustment.status == "draft"
    assert adjustment.year_total_yuan == Decimal("90000.00")
    assert adjustment.previously_issued_yuan == Decimal("105000.00")
    assert adjustment.amount_yuan == Decimal("-15000.00")


def test_an_adjustment_still_respects_the_annual_cap(world: World) -> None:
    vehicle = company(world, D(2022, 1, 1), D(2022, 1, 1))
    factories.trip(vehicle=vehicle, days={D(2024, 3, 1): "110000000.00"})
    late = factories.trip(vehicle=vehicle, days={D(2024, 8, 1): "20000000.00"})
    factories.grade(actor=world.bureau, operator=vehicle.operator, year=2024, grade="A")
    computation.statements_compute(year=2024)
    # 130,000 km × 3.00 = 390,000.00 → capped at 300,000.00
    issue(world, statement_of(vehicle.operator, 2024))

    factories.reject(late)
    computation.statements_compute(year=2024)

    # 110,000 km × 3.00 = 330,000.00 → still 300,000.00: no money moves, no adjustment
    assert not Statement.objects.filter(operator=vehicle.operator, kind="adjustment").exists()


def test_a_trip_accepted_after_issue_gives_a_positive_adjustment_up_to_the_cap(
    world: World,
) -> None:
    vehicle = company(world, D(2022, 1, 1), D(2022, 1, 1))
    factories.trip(vehicle=vehicle, days={D(2024, 3, 1): "90000000.00"})
    factories.grade(actor=world.bureau, operator=vehicle.operator, year=2024, grade="A")
    computation.statements_compute(year=2024)
    issue(world, statement_of(vehicle.operator, 2024))  # 90,000 km × 3.00 = 270,000.00

    factories.trip(vehicle=vehicle, days={D(2024, 11, 1): "20000000.00"})
    computation.statements_compute(year=2024)

    # 110,000 km × 3.00 = 330,000.00 → cap 300,000.00; 300,000.00 − 270,000.00 = 30,000.00
    adjustment = Statement.objects.get(operator=vehicle.operator, year=2024, kind="adjustment")
    assert adjustment.amount_yuan == Decimal("30000.00")
    assert adjustment.cap_applied is True
    assert adjustment.cap_reduction_yuan == Decimal("30000.00")


def test_a_statement_without_a_grade_cannot_be_approved(world: World) -> None:
    vehicle = company(world, D(2022, 1, 1), D(2022, 1, 1))
    factories.trip(vehicle=vehicle, days={D(2024, 3, 1): "1000.00"})
    computation.statements_compute(year=2024)
    with pytest.raises(ApplicationError):
        services.statement_approve(
            actor=world.finance, statement=statement_of(vehicle.operator, 2024)
        )
