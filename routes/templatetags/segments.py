"""Template filters for segment measures: metres and square metres as people read them."""

from __future__ import annotations

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def km(metres: float | None) -> str:
    """Metres as kilometres with three decimals (to the metre), or "" when there is none."""
    return "" if metres is None else number_format(metres / 1000, 3)


@register.filter
def km2(square_metres: float | None) -> str:
    """Square metres as square kilometres with three decimals, or "" when there is none."""
    return "" if square_metres is None else number_format(square_metres / 1e6, 3)
