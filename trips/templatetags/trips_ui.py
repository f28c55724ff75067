"""Template filters of the trip pages."""

from __future__ import annotations

from decimal import Decimal

from django import template

from core.web import figure
from trips.models import Trip
from trips.reasons import describe

register = template.Library()


@register.filter
def km(metres: Decimal | float | None, places: int = 3) -> str:
    """Metres as kilometres with `places` decimals (3: to the metre), grouped by thousands
    as every figure is (core.web.figure), e.g. 7389.31 → 7.389, 1234567.8 → 1,234.568."""
    if metres is None:
        return "—"
    return figure(Decimal(str(metres)) / 1000, int(places))


@register.filter
def why(trip: Trip) -> str:
    """Why a trip was rejected or held, in a line (its first refusal or flag), for the lists;
    "" for a trip that counts as it is."""
    if trip.status not in (Trip.Status.REJECTED, Trip.Status.NEEDS_REVIEW):
        return ""
    reasons = describe(trip.reasons)
    weighed = [r for r in reasons if r.severity in ("reject", "review")] or reasons
    return weighed[0].text if weighed else ""
