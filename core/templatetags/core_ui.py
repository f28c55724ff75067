"""Template filters every app may use."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from core.web import figure, json_items

register = template.Library()


@register.filter
def labelled(value: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """A JSON object's entries as (label in words, key, value with its unit): e.g. a trip's
    verification parameters under "Technical details"."""
    return json_items(value) if isinstance(value, dict) else []


@register.filter
def km3(km: Decimal | float | None) -> str:
    """Kilometres to 3 decimals, grouped by thousands in every language (core.web.figure):
    Django's `floatformat` groups none in Chinese, or none at all without its "g"."""
    if km is None:
        return "—"
    return figure(Decimal(str(km)), 3)
