"""The role-aware home page: the dashboard, one group of cards per app (docs/ui.md), and the
not-found and server-error answers."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework.exceptions import NotFound

from core.roles import Role
from core.web import acting_user
from operators import views as operators_views
from recorder import views as recorder_views
from routes import views as routes_views
from subsidies import views as subsidies_views
from trips import views as trips_views


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each app adds its cards' context; the later ones fill the cards home.html keeps ready."""
    user = acting_user(request)
    today = timezone.localdate()
    context: dict[str, Any] = {
        "page_title": _("Dashboard"),
        "is_company": user.role == Role.OPERATOR,
        "today": today,
        **operators_views.dashboard(user=user, today=today),
        **routes_views.dashboard(user=user, today=today),
        **subsidies_views.dashboard(user=user, today=today),
        **trips_views.dashboard(user=user, today=today),
        **recorder_views.dashboard(user=user, today=today),
    }
    return render(request, "home.html", context)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 answer (DEBUG off): nothing of the failure, which is only in the log.

    The API's clients get JSON as from every other API error; people get templates/500.html.
    """
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Server error. It has been logged.")}, status=500)
    return defaults.server_error(request)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 404 answer (DEBUG off) for a URL that nothing answers, such as a non-numeric id.

    Under /api/ it is JSON like the API's own 404s (and its schema), not the web UI's page.
    """
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(NotFound.default_detail)}, status=404)
    return defaults.page_not_found(request, exception)
