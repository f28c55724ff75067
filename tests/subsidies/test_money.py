from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subsidies.money import (
    Reason,
    YearInput,
    capital_yuan,
    compute_year,
    km_from_metres,
    round_yuan,
)

RATES = {"A": Decimal("3.00"), "B": Decimal("2.00"), "C": Decimal("1.00"), "D": Decimal("0.00")}
CAP = Decimal("300000.00")


def year(metres: str, grade: str | None = "A", **overrides: Any) -> YearInput:
    fields: dict[str, Any] = {
        "eligible_m": Decimal(metres),
        "operator_eligible": True,
        "counting_days": True,
        "grade": grade,
        "rates": RATES,
        "cap_yuan": CAP,
        "max_paid_years": 3,
        "other_paid_years": 0,
    }
    fields.update(overrides)
    return YearInput(**fields)


def test_metres_become_kilometres_exactly() -> None:
    assert km_from_metres(Decimal("12345678.91")) == Decimal("12345.67891")


def test_rounding_is_half_up_to_the_fen() -> None:
    assert round_yuan(Decimal("1.005")) == Decimal("1.01")
    assert round_yuan(Decimal("1.0049999")) == Decimal("1.00")
    assert round_yuan(Decimal("-1.005")) == Decimal("-1.01")


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        ("100000", "壹拾万元整"),
        ("300000.00", "叁拾万元整"),
        ("234.56", "贰佰叁拾肆元伍角陆分"),
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("0.50", "伍角整"),
        ("1", "壹元整"),
        ("10", "壹拾元整"),
        ("1001", "壹仟零壹元整"),
        ("1010", "壹仟零壹拾元整"),
        ("1000.05", "壹仟元零伍分"),
        ("10.50", "壹拾元伍角整"),
        ("10010", "壹万零壹拾元整"),
        ("100500", "壹拾万零伍佰元整"),
        ("105000", "壹拾万伍仟元整"),
        ("270370.37", "贰拾柒万零叁佰柒拾元叁角柒分"),
        ("100000000", "壹亿元整"),
        ("100010000", "壹亿零壹万元整"),
        ("100000500", "壹亿零伍佰元整"),
        ("-15000", "负壹万伍仟元整"),
    ],
)
def test_amounts_in_chinese_capital_numerals(amount: str, capitals: str) -> None:
    assert capital_yuan(Decimal(amount)) == capitals


def test_the_cap_clips_the_gross_and_says_by_how_much() -> None:
    # 123,456.789 km × 3.00 = 370,370.367 → 370,370.37; 370,370.37 − 300,000.00 = 70,370.37
    result = compute_year(year("123456789.00"))
    assert result.gross_yuan == Decimal("370370.37")
    assert result.amount_yuan == CAP
    assert result.cap_reduction_yuan == Decimal("70370.37")
    assert result.reason == Reason.CAPPED


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"operator_eligible": False}, Reason.NOT_ELIGIBLE),
        ({"counting_days": False}, Reason.OUTSIDE_WINDOW),
        ({"other_paid_years": 3}, Reason.PAID_YEARS_USED),
        ({"grade": None}, Reason.NO_GRADE),
        ({"grade": "D"}, Reason.ZERO_RATE),
        ({"eligible_m": Decimal(0)}, Reason.NO_KILOMETRES),
    ],
)
def test_each_zero_comes_with_its_reason(overrides: dict[str, Any], reason: Reason) -> None:
    result = compute_year(year("5000.00", **overrides))
    assert result.amount_yuan == Decimal("0.00")
    assert result.reason == reason


def test_not_eligible_outranks_every_other_reason() -> None:
    result = compute_year(year("5000.00", grade=None, operator_eligible=False, counting_days=False))
    assert result.reason == Reason.NOT_ELIGIBLE


metres = st.decimals(min_value=0, max_value=Decimal("999999999.99"), places=2)
grades = st.sampled_from(["A", "B", "C", "D", None])


@given(metres=metres, grade=grades, paid=st.integers(0, 5))
def test_the_amount_is_between_zero_and_the_cap(
    metres: Decimal, grade: str | None, paid: int
) -> None:
    result = compute_year(year(str(metres), grade=grade, other_paid_years=paid))
    assert Decimal(0) <= result.amount_yuan <= CAP
    assert result.amount_yuan == result.amount_yuan.quantize(Decimal("0.01"))


@given(metres=metres, grade=st.sampled_from(["A", "B", "C"]))
def test_the_amount_is_the_rounded_minimum_of_km_times_rate_and_the_cap(
    metres: Decimal, grade: str
) -> None:
    result = compute_year(year(str(metres), grade=grade))
    exact = metres / 1000 * RATES[grade]
    assert result.amount_yuan == round_yuan(min(exact, CAP)) or metres == 0


@given(amount=st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2))
def test_capital_numerals_never_contain_two_zeros_in_a_row(amount: Decimal) -> None:
    text = capital_yuan(amount)
    assert "零零" not in text
    assert text.endswith(("整", "分"))
