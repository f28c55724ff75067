"""Money: kilometres, rounding, Chinese capital numerals and one operator-year's amount.

Pure Python (no Django), so every rule that turns metres into yuan can be tested, and
property-tested, without a database. `round_yuan` is the only rounding in the codebase.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# Every money column is DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_PLACES).
MONEY_MAX_DIGITS = 14
MONEY_PLACES = 2
# Rates (yuan/km) and kilometres (metres / 1000 exactly, so three more places than metres).
RATE_MAX_DIGITS = 6
RATE_PLACES = 2
KM_MAX_DIGITS = 16
KM_PLACES = 5
FEN = Decimal("0.01")
ZERO = Decimal("0.00")
METRES_PER_KM = 1000


def km_from_metres(metres: Decimal) -> Decimal:
    """Metres to kilometres, exactly (a decimal shift, no rounding)."""
    return Decimal(metres).scaleb(-3)


def round_yuan(amount: Decimal) -> Decimal:
    """Round to the fen, half up (四舍五入), as the finance bureau does."""
    return Decimal(amount).quantize(FEN, rounding=ROUND_HALF_UP)


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_BIG_UNITS = ("", "万", "亿", "万亿")


def _group_capitals(group: int) -> str:
    """0 < group < 10000 in capitals, with 零 for inner gaps (1001 → 壹仟零壹)."""
    text = ""
    zero_pending = False
    for position in range(3, -1, -1):
        digit = group // 10**position % 10
        if digit == 0:
            zero_pending = bool(text)
            continue
        if zero_pending:
            text += "零"
            zero_pending = False
        text += _DIGITS[digit] + _SMALL_UNITS[position]
    return text


def capital_yuan(amount: Decimal) -> str:
    """An amount in Chinese capital numerals (大写金额), as on a voucher.

    100000 → 壹拾万元整, 234.56 → 贰佰叁拾肆元伍角陆分, 1000.05 → 壹仟元零伍分,
    0.5 → 伍角. The amount is rounded to the fen first (it always is already).
    """
    value = round_yuan(amount)
    if value < 0:
        return "负" + capital_yuan(-value)
    fen_total = int(value * 100)
    yuan, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)
    if yuan >= 10**16:
        raise ValueError("amount too large for capital numerals")
    parts: list[str] = []
    groups = []
    rest = yuan
    while rest:
        rest, group = divmod(rest, 10000)
        groups.append(group)
    zero_pending = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero_pending = bool(parts)
            continue
        # A group below 1000 after a higher one reads with a 零 (壹万零伍佰).
        if parts and (zero_pending or group < 1000):
            parts.append("零")
        zero_pending = False
        parts.append(_group_capitals(group) + _BIG_UNITS[index])
    text = "".join(parts)
    if yuan:
        text += "元"
    if jiao == 0 and fen == 0:
        return (text or "零元") + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    else:
        text += "整"
    return text


class Reason(enum.StrEnum):
    """Why a year's amount is what it is; the first that applies is stated."""

    NOT_ELIGIBLE = "not_eligible"
    OUTSIDE_WINDOW = "outside_window"
    PAID_YEARS_USED = "paid_years_used"
    NO_GRADE = "no_grade"
    ZERO_RATE = "zero_rate"
    NO_KILOMETRES = "no_kilometres"
    CAPPED = "capped"
    COMPUTED = "computed"


# Amount 0 for these; NO_GRADE also blocks approval until the bureau grades the year.
ZERO_REASONS = frozenset(
    {
        Reason.NOT_ELIGIBLE,
        Reason.OUTSIDE_WINDOW,
        Reason.PAID_YEARS_USED,
        Reason.NO_GRADE,
        Reason.ZERO_RATE,
        Reason.NO_KILOMETRES,
    }
)


@dataclass(frozen=True)
class YearInput:
    """What one operator-year's amount depends on.

    `eligible_m` are the metres already cut to the days that count (the operator's
    eligibility date and the policy window); `counting_days` is False when no day of the
    year counts for one of those two reasons, and `operator_eligible` says which.
    """

    eligible_m: Decimal
    operator_eligible: bool
    counting_days: bool
    grade: str | None
    rates: Mapping[str, Decimal]
    cap_yuan: Decimal
    max_paid_years: int
    other_paid_years: int


@dataclass(frozen=True)
class YearResult:
    km: Decimal
    rate_yuan_per_km: Decimal | None
    gross_yuan: Decimal
    cap_applied: bool
    cap_reduction_yuan: Decimal
    amount_yuan: Decimal
    reason: Reason


def compute_year(data: YearInput) -> YearResult:
    """amount = round_half_up(min(km × rate, cap), 0.01), or 0 with the reason.

    Rounding km × rate once and then taking the minimum with the cap gives the same fen
    as rounding the minimum, because rounding is monotonic and the cap is whole fen.
    """
    km = km_from_metres(data.eligible_m)
    rate = data.rates.get(data.grade) if data.grade is not None else None

    def zero(reason: Reason) -> YearResult:
        # The rate is stated where one applies, so a zero still shows what it would be.
        applies = reason not in (Reason.NOT_ELIGIBLE, Reason.OUTSIDE_WINDOW, Reason.NO_GRADE)
        return YearResult(
            km=km,
            rate_yuan_per_km=rate if applies else None,
            gross_yuan=ZERO,
            cap_applied=False,
            cap_reduction_yuan=ZERO,
            amount_yuan=ZERO,
            reason=reason,
        )

    # In order: the first condition that holds is the stated reason.
    zero_when = (
        (not data.operator_eligible, Reason.NOT_ELIGIBLE),
        (not data.counting_days, Reason.OUTSIDE_WINDOW),
        (data.other_paid_years >= data.max_paid_years, Reason.PAID_YEARS_USED),
        (rate is None, Reason.NO_GRADE),
        (rate == 0, Reason.ZERO_RATE),
        (km == 0, Reason.NO_KILOMETRES),
    )
    for holds, reason in zero_when:
        if holds:
            return zero(reason)
    assert rate is not None  # noqa: S101 - NO_GRADE returned above
    gross = round_yuan(km * rate)
    amount = min(gross, data.cap_yuan)
    return YearResult(
        km=km,
        rate_yuan_per_km=rate,
        gross_yuan=gross,
        cap_applied=gross > data.cap_yuan,
        cap_reduction_yuan=gross - amount,
        amount_yuan=amount,
        reason=Reason.CAPPED if gross > data.cap_yuan else Reason.COMPUTED,
    )
