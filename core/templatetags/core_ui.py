"""Template filters every app may use."""

from __future__ import annotations

from typing import Any

from django import template

from core.web import json_items

register = template.Library()


@register.filter
def labelled(value: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """A JSON object's entries as (label in words, key, value with its unit): e.g. a trip's
    verification parameters under "Technical details"."""
    return json_items(value) if isinstance(value, dict) else []
