"""Units every app shares: metres are stored to the centimetre, as decimals, so that sums over
many trips are exact. (Money and kilometres are `subsidies.money`'s.)"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

CENTIMETRE = Decimal("0.01")
METRES_PLACES = 2
METRES_MAX_DIGITS = 12  # up to 10,000,000,000 m on one row: far beyond any trip
METRES_SUM_MAX_DIGITS = 16  # a company-year's sum


def metres_field(
    verbose_name: StrOrPromise, *, max_digits: int = METRES_MAX_DIGITS
) -> models.DecimalField[Decimal, Decimal]:
    """Metres to the centimetre."""
    return models.DecimalField(
        verbose_name, max_digits=max_digits, decimal_places=METRES_PLACES, default=0
    )


def centimetres(value: float | Decimal | None) -> Decimal:
    """Metres rounded to the centimetre as stored. A float goes through its shortest repr, so
    1234.5 stays 1234.50; SQLite sums decimals as binary floats (12000000.000000001), which
    this also brings back to the stored precision."""
    if value is None:
        return Decimal("0.00")
    if isinstance(value, float):
        value = Decimal(repr(value))
    return Decimal(value).quantize(CENTIMETRE)
