"""Template filters for segment measures: metres and square metres as people read them."""

from __future__ import annotations

from decimal import Decimal

from django import template

from core.web import figure

register = template.Library()


@register.filter
def km(metres: float | None) -> str:
    """Metres as kilometres with three decimals (to the metre), grouped by thousands in every
    language as every figure is (core.web.figure), or "" when there is none."""
    return "" if metres is None else figure(Decimal(str(metres)) / 1000, 3)


@register.filter
def km2(square_metres: float | None) -> str:
    """Square metres as square kilometres with three decimals, grouped likewise, or "" when
    there is none."""
    return "" if square_metres is None else figure(Decimal(str(square_metres)) / 1_000_000, 3)
