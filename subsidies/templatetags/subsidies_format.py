"""Money and distance as the finance pages show them: exact, grouped, with the unit.

Django's Chinese number format has no thousands separator, and an amount of 300000.00
is too easy to misread, so these filters group digits whatever the language.
"""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

from subsidies.money import capital_yuan, km_from_metres

register = template.Library()


@register.filter
def yuan(amount: Decimal | None) -> str:
    """1234567.8 → "1,234,567.80 元" ("1,234,567.80 yuan" in English; amounts are already
    whole fen, so nothing is rounded)."""
    if amount is None:
        return "—"
    return _("%(amount)s yuan") % {"amount": f"{Decimal(amount):,.2f}"}


@register.filter
def capitals(amount: Decimal) -> str:
    """The amount in Chinese capital numerals (大写), as on a voucher."""
    return capital_yuan(Decimal(amount))


@register.filter
def km3(value: Decimal | None) -> str:
    """Kilometres to 3 decimals, grouped, as every page and file shows them."""
    if value is None:
        return "—"
    from subsidies.exports import km3 as round_km  # noqa: PLC0415 - keeps tags import-light

    return f"{round_km(Decimal(value)):,}"


@register.filter
def metres_km3(metres: Decimal | None) -> str:
    """Stored metres shown as kilometres, 3 decimals: pages never show metres."""
    return km3(None if metres is None else km_from_metres(Decimal(metres)))
