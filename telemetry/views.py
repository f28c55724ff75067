"""The live map page: last positions of the vehicles the user may see, refreshed by polling
GET /api/v1/terminals/live/ (telemetry/static/telemetry/live_map.js)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from core.roles import EVERYONE
from core.web import acting_user, capability_required

from .selectors import live_positions


@capability_required(EVERYONE)
def live_map(request: HttpRequest) -> HttpResponse:
    """The bureau sees every vehicle, a company its own (the selector scopes)."""
    positions = live_positions(user=acting_user(request), now=timezone.now())
    return render(
        request,
        "telemetry/live_map.html",
        {
            "page_title": _("Live map"),
            "breadcrumbs": [(_("Live map"), None)],
            "positions": positions,
            "refresh_ms": int(settings.LIVE_MAP_REFRESH_S * 1000),
            "time_zone": settings.TIME_ZONE,  # the refreshed rows show times as the page does
        },
    )
