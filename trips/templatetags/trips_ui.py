"""Template filters of the trip pages."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def km(metres: Decimal | float | None, places: int = 3) -> str:
    """Metres as kilometres with `places` decimals (3: to the metre), e.g. 7389.31 → 7.389."""
    if metres is None:
        return "—"
    return f"{Decimal(metres) / 1000:.{int(places)}f}"
