"""Web pages of the recorder: importing an event file, incidents (list, detail, report,
close), and this app's dashboard card."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.forms import submit
from core.roles import IMPORT_ADS_EVENTS, REVIEW_TRIPS
from core.services import require
from core.web import acting_user, audit_trail, paginate, render_form_page
from operators.models import User

from . import services
from .forms import AdsEventImportForm, IncidentCloseForm, IncidentReportForm
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
            "may_import": IMPORT_ADS_EVENTS.allows(user),
        },
    )


@login_required
def ads_event_import(request: HttpRequest) -> HttpResponse:
    """A file of recorder events, as `POST /api/v1/ads-events/import/` takes it: the same
    service, so the same checks, refusals by line and idempotency."""
    user = acting_user(request)
    require(user, IMPORT_ADS_EVENTS)
    form = AdsEventImportForm(request.POST or None, request.FILES or None)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        result = submit(
            form,
            services.ads_events_import,
            actor=user,
            data=upload.read(),
            original_name=upload.name or "",
        )
        if result is not None:
            messages.success(
                request,
                ngettext(
                    "%(rows)s line read: %(created)s new event, %(incidents)s incident opened.",
                    "%(rows)s lines read: %(created)s new events, %(incidents)s incidents opened.",
                    result.rows,
                )
                % {"rows": result.rows, "created": result.created, "incidents": result.incidents},
            )
            return redirect("recorder:ads_event_import")
    title = _("Import recorder events")
    return render(
        request,
        "recorder/event_import.html",
        {"page_title": title, "breadcrumbs": [(title, None)], "form": form},
    )


def _crumbs(incident: Incident | None = None) -> list[tuple[str, str | None]]:
    crumbs: list[tuple[str, str | None]] = [(_("Incidents"), reverse("recorder:incident_list"))]
    if incident is not None:
        crumbs.append((_subject(incident), reverse("recorder:incident_detail", args=[incident.pk])))
    return crumbs


def _subject(incident: Incident) -> str:
    local = timezone.localtime(incident.occurred_at)
    return f"{incident.vehicle.plate} {local:%Y-%m-%d %H:%M}"


def _may_report(user: User, incident: Incident) -> bool:
    return (
        IMPORT_ADS_EVENTS.allows(user)
        and Incident.Status.REPORTED in Incident.TRANSITIONS[incident.status]
    )


def _may_close(user: User, incident: Incident) -> bool:
    return (
        REVIEW_TRIPS.allows(user)
        and Incident.Status.CLOSED in Incident.TRANSITIONS[incident.status]
    )


def _no_longer_applies(request: HttpRequest, incident: Incident) -> HttpResponse:
    """The page of an action that no longer applies (a second tab, the back button): back
    to the incident, saying why. A POST still reaches the service, which refuses it."""
    messages.info(
        request,
        _("This incident is %(status)s: that can no longer be done.")
        % {"status": incident.get_status_display()},
    )
    return redirect("recorder:incident_detail", pk=incident.pk)


@login_required
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    incident = get_object_or_404(incident_list(user=user), pk=pk)
    return render(
        request,
        "recorder/incident_detail.html",
        {
            "page_title": _subject(incident),
            "breadcrumbs": [*_crumbs(), (_subject(incident), None)],
            "incident": incident,
            "late": incident.reported_at is not None
            and incident.reported_at > incident.report_due_at,
            "may_report": _may_report(user, incident),
            "may_close": _may_close(user, incident),
            "audit_entries": audit_trail(user=user, obj=incident),
        },
    )


@login_required
def incident_report(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    incident = get_object_or_404(incident_list(user=user), pk=pk)
    require(user, IMPORT_ADS_EVENTS)
    if request.method == "GET" and not _may_report(user, incident):
        return _no_longer_applies(request, incident)
    form = IncidentReportForm(request.POST or None)
    if form.is_valid():
        done = submit(
            form, services.incident_report, actor=user, incident=incident, **form.cleaned_data
        )
        if done is not None:
            messages.success(request, _("Report filed."))
            return redirect("recorder:incident_detail", pk=incident.pk)
    return render_form_page(
        request,
        form=form,
        title=_("Report the incident"),
        subject=_subject(incident),
        intro=_("Report due by %(due)s.")
        % {"due": f"{timezone.localtime(incident.report_due_at):%Y-%m-%d %H:%M}"},
        breadcrumbs=[*_crumbs(incident), (_("Report"), None)],
        submit_label=_("File the report"),
        cancel_url=reverse("recorder:incident_detail", args=[incident.pk]),
    )


@login_required
def incident_close(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    incident = get_object_or_404(incident_list(user=user), pk=pk)
    require(user, REVIEW_TRIPS)
    if request.method == "GET" and not _may_close(user, incident):
        return _no_longer_applies(request, incident)
    form = IncidentCloseForm(request.POST or None)
    if form.is_valid():
        done = submit(
            form,
            services.incident_close,
            actor=user,
            incident=incident,
            reason=form.cleaned_data["reason"],
        )
        if done is not None:
            messages.success(request, _("Incident closed."))
            return redirect("recorder:incident_detail", pk=incident.pk)
    return render_form_page(
        request,
        form=form,
        title=_("Close the incident"),
        subject=_subject(incident),
        breadcrumbs=[*_crumbs(incident), (_("Close"), None)],
        submit_label=_("Close the incident"),
        cancel_url=reverse("recorder:incident_detail", args=[incident.pk]),
        danger=True,
    )
