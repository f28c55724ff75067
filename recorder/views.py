"""Web pages of the recorder: the incidents list, and this app's dashboard card."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from core.web import acting_user, paginate
from operators.models import User

from .models import Incident
from .selectors import incident_counts, incident_list


def dashboard(*, user: User, today: dt.date) -> dict[str, Any]:
    """Open incidents and overdue reports (recorder/_dashboard_cards.html)."""
    return {"incidents": incident_counts(user=user)}


@login_required
def incident_list_page(request: HttpRequest) -> HttpResponse:
    """Incidents, the open ones first by their report deadline; overdue ones marked."""
    user = acting_user(request)
    incidents = incident_list(user=user).order_by("status", "report_due_at", "pk")
    title = _("Incidents")
    return render(
        request,
        "recorder/incident_list.html",
        {
            "page_title": title,
            "breadcrumbs": [(title, None)],
            "page_obj": paginate(request, incidents),
            "now": timezone.now(),
            "open_status": Incident.Status.OPEN,
        },
    )
