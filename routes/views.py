"""Web pages for road segments and zones: the map and table, drawing, the approval workflow,
and the dashboard's two-way-km card (file import with its dry-run preview is
`routes/import_views.py`). Thin: a form
validates, the selectors read (company staff see approved versions only), the services
write, and `submit()` puts their refusals next to the fields.

Pages on one segment look it up through the selector before checking the role, so a draft
is a 404 for company staff, never a 403 that would say it exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.charts import Point, line_chart
from core.forms import Form, submit
from core.roles import EDIT_SEGMENTS, Role
from core.services import require
from core.versions import VERSION_FIELD, version_initial
from core.web import (
    AUDIT_ACTIONS,
    acting_user,
    audit_trail,
    capability_required,
    figure,
    render_form_page,
)
from operators.models import User, local_day_start

from . import services
from .forms import (
    SegmentApproveForm,
    SegmentDeleteForm,
    SegmentEndForm,
    SegmentFilterForm,
    SegmentForm,
    SegmentReasonForm,
    SegmentReasonRequiredForm,
    SegmentReinstateForm,
)
from .geometry import GeometryProblem, clean_geometry
from .models import RoadSegment
from .problems import problem_point
from .selectors import segment_list, segment_summary, two_way_history

S = RoadSegment.Status

# Map colours per status (also the legend's). Dark enough to read on the plain background
# and on a base map; drafts and submissions are dashed as well, so colour is not the only cue.
STATUS_COLORS: dict[str, str] = {
    S.APPROVED: "#1b6e3a",
    S.SUBMITTED: "#6b3fa0",
    S.DRAFT: "#0b4fa8",
    S.SUSPENDED: "#b35c00",
    S.RETIRED: "#5c6573",
}

# Segment audit actions that are not a status value, labelled for the audit trail.
AUDIT_ACTIONS.update(
    {
        "superseded": gettext_lazy("Replaced by a new version"),
        "reinstate": gettext_lazy("Reinstated as a new version"),
        "delete": gettext_lazy("Deleted"),
    }
)


# ---- shared pieces ------------------------------------------------------------------------


def crumbs(segment: RoadSegment | None = None) -> list[tuple[str, str | None]]:
    crumbs: list[tuple[str, str | None]] = [(_("Road segments"), reverse("routes:segment_list"))]
    if segment is not None:
        crumbs.append((str(segment), reverse("routes:segment_detail", args=[segment.pk])))
    return crumbs


def _feature(segment: RoadSegment) -> dict[str, Any]:
    """A segment for the map: its geometry and what the popup and colouring need."""
    return {
        "type": "Feature",
        "id": segment.pk,
        "geometry": segment.geometry,
        "properties": {
            "name": str(segment),
            "status": segment.status,
            "status_label": segment.get_status_display(),
            "kind_label": segment.get_kind_display(),
            "url": reverse("routes:segment_detail", args=[segment.pk]),
        },
    }


def _collection(segments: QuerySet[RoadSegment] | list[RoadSegment]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [_feature(s) for s in segments]}


def _legend(statuses: list[str]) -> list[tuple[str, str, str]]:
    labels = {value: str(label) for value, label in RoadSegment.Status.choices}
    return [(status, labels[status], STATUS_COLORS[status]) for status in statuses]


def map_context() -> dict[str, Any]:
    return {
        "segment_colors": {str(k): v for k, v in STATUS_COLORS.items()},
        "map_texts": {
            "status": _("Status"),
            "kind": _("Kind"),
            "open": _("Open the segment"),
        },
    }


def _newer_version(segment: RoadSegment) -> RoadSegment | None:
    try:
        return segment.superseded_by
    except RoadSegment.DoesNotExist:
        return None


def _visible_segment(request: HttpRequest, pk: int) -> tuple[User, RoadSegment]:
    user = acting_user(request)
    return user, get_object_or_404(segment_list(user=user), pk=pk)


# ---- dashboard ----------------------------------------------------------------------------


def dashboard(*, user: User, today: dt.date) -> dict[str, Any]:
    """This app's card on the home page (routes/_dashboard_cards.html): the plan's figure,
    two-way operating km open now against the target, and what waits for approval.

    As of now rather than of `today`: a suspension takes effect at its instant, not at the
    end of the day."""
    now = timezone.now()
    summary = segment_summary(user=user, at=now)
    two_way_km = summary.two_way_operating_m / 1000
    target = summary.target_two_way_km
    context: dict[str, Any] = {
        "segment_summary": summary,
        "two_way_km": two_way_km,
        "two_way_target_km": target,
        "two_way_percent": min(100.0, 100 * two_way_km / target) if target else 0.0,
        "open_road_km": summary.open_road_m / 1000,
        "segments_submitted": summary.by_status.get(RoadSegment.Status.SUBMITTED, 0),
    }
    if user.is_government:  # the bureau's chart; companies see the figure only
        context["two_way_chart"] = _two_way_chart(today=today, now=now, target_km=target)
    return context


CHART_MONTHS = 24


CARD_CHART_WIDTH, CARD_CHART_HEIGHT = 260, 150  # a dashboard card's inner width, in px


def _two_way_chart(*, today: dt.date, now: dt.datetime, target_km: float) -> str:
    """Two-way operating km at the end of each of the last 24 months (this month: now)
    against the plan's target, as a server-drawn SVG (core/charts.py)."""
    months: list[dt.date] = []
    year, month = today.year, today.month
    for _i in range(CHART_MONTHS):
        months.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    months.reverse()
    ends = [
        local_day_start(dt.date(m.year + m.month // 12, m.month % 12 + 1, 1)) for m in months[:-1]
    ]
    metres = two_way_history(ends=[*ends, now])
    points = [
        Point(f"{m:%Y-%m}", metres_i / 1000) for m, metres_i in zip(months, metres, strict=True)
    ]
    return line_chart(
        points,
        chart_id="two-way-chart",
        title=_("Two-way operating km, month by month"),
        description=_(
            "Two-way operating km open at the end of each month from %(first)s to %(last)s "
            "(now: %(km)s km), against the plan's %(target)s km."
        )
        % {
            "first": points[0].label,
            "last": points[-1].label,
            "km": figure(Decimal(str(points[-1].value)), 3),
            "target": figure(Decimal(str(target_km)), 0),
        },
        unit=_("km"),
        target=target_km,
        target_label=_("Plan: %(target)s km") % {"target": figure(Decimal(str(target_km)), 0)},
        # Drawn at about the size of a dashboard card (a quarter of the page), so its
        # 11px text is not scaled down to an unreadable 5px as a 480-wide drawing was.
        width=CARD_CHART_WIDTH,
        height=CARD_CHART_HEIGHT,
    )


# ---- map and table ------------------------------------------------------------------------


@login_required
def segment_list_page(request: HttpRequest) -> HttpResponse:
    """Every segment the user may see, on a map and in a table with the same facts."""
    user = acting_user(request)
    # Always bound: an empty query is valid and means the default view (current versions).
    filter_form = SegmentFilterForm(request.GET)
    if user.role == Role.OPERATOR:
        del filter_form.fields["status"]  # company staff see approved segments only
    segments = list(filter_form.filter(segment_list(user=user)))
    statuses: list[str] = (
        [RoadSegment.Status.APPROVED]
        if user.role == Role.OPERATOR
        else list(RoadSegment.Status.values)
    )
    return render(
        request,
        "routes/segment_list.html",
        {
            "page_title": _("Road segments"),
            "breadcrumbs": [(_("Road segments"), None)],
            "filter_form": filter_form,
            "segments": segments,
            "segments_geojson": _collection(segments),
            "legend": _legend(statuses),
            "can_manage": EDIT_SEGMENTS.allows(user),
            **map_context(),
        },
    )


@login_required
def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user, segment = _visible_segment(request, pk)
    manage = EDIT_SEGMENTS.allows(user)
    newer = _newer_version(segment)
    status = segment.status
    head_or_unapproved = newer is None or status in (S.DRAFT, S.SUBMITTED, S.SUSPENDED)
    versions = segment_list(user=user).filter(series=segment.series).order_by("version")
    return render(
        request,
        "routes/segment_detail.html",
        {
            "page_title": str(segment),
            "breadcrumbs": crumbs(segment),
            "segment": segment,
            "newer_version": newer,
            "versions": versions,
            "segment_geojson": _collection([segment]),
            "legend": _legend([status]),
            "can_edit": manage and newer is None and status != S.RETIRED,
            "can_delete": manage and status in (S.DRAFT, S.SUBMITTED),
            "can_submit": manage and status == S.DRAFT,
            "can_return": manage and status == S.SUBMITTED,
            "can_approve": manage and status == S.SUBMITTED,
            "can_suspend": manage and status == S.APPROVED and newer is None,
            "can_reinstate": manage and status == S.SUSPENDED and newer is None,
            "can_retire": manage and status != S.RETIRED and head_or_unapproved,
            "audit_entries": audit_trail(user=user, obj=segment),
            **map_context(),
        },
    )


# ---- drawing ------------------------------------------------------------------------------


def _problem_point(form: SegmentForm) -> list[float] | None:
    """Where a refused geometry went wrong, to mark it on the map (lon, lat)."""
    if not form.is_bound or "geometry" not in form.errors:
        return None
    kind = form.data.get("kind") or RoadSegment.Kind.ROAD
    try:
        clean_geometry(form.data.get("geometry", ""), kind=kind, bbox=services.service_area())
    except GeometryProblem as problem:
        point = problem_point(problem)
        return list(point) if point else None
    return None


def _draw_page(
    request: HttpRequest,
    *,
    user: User,
    form: SegmentForm,
    title: str,
    breadcrumbs: list[tuple[str, str | None]],
    cancel_url: str,
    segment: RoadSegment | None = None,
) -> HttpResponse:
    # The other segments are drawn in grey for reference (and to snap to).
    others = segment_list(user=user).filter(superseded_by__isnull=True)
    if segment is not None:
        others = others.exclude(series=segment.series)
    return render(
        request,
        "routes/segment_form.html",
        {
            "page_title": title,
            "breadcrumbs": breadcrumbs,
            "form": form,
            "segment": segment,
            "cancel_url": cancel_url,
            "context_geojson": _collection(others),
            "draw_texts": {
                "mapLabel": _("Map for drawing the road or area"),
                "invalidText": _("The text is not valid GeoJSON; the map shows the last drawing."),
                "pointText": _(
                    "A point is neither a road nor an area: give a LineString for a road or a "
                    "Polygon for an area."
                ),
                "problemPoint": _problem_point(form),
                "problemLabel": _("The problem is here"),
            },
            **map_context(),
        },
    )


@capability_required(EDIT_SEGMENTS)
def segment_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = SegmentForm(request.POST or None)
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != VERSION_FIELD}
        segment = submit(form, services.segment_create, actor=user, **data)
        if segment is not None:
            messages.success(request, _("“%(name)s” saved as a draft.") % {"name": segment.name})
            return redirect("routes:segment_detail", pk=segment.pk)
    title = _("Draw a road or area")
    return _draw_page(
        request,
        user=user,
        form=form,
        title=title,
        breadcrumbs=[*crumbs(), (title, None)],
        cancel_url=reverse("routes:segment_list"),
    )


@login_required
def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user, segment = _visible_segment(request, pk)
    require(user, EDIT_SEGMENTS)
    if request.method == "GET" and segment.status == S.RETIRED:
        return _no_longer_applies(request, segment)
    form = SegmentForm(
        request.POST or None,
        initial={**SegmentForm.initial_for(segment), **version_initial(segment)},
    )
    if form.is_valid():
        data = form.cleaned_data
        result = submit(
            form,
            services.segment_update,
            actor=user,
            segment=segment,
            data=form.changes(segment),
            repair=data["repair"],
            reason=data["reason"],
            seen_version=data[VERSION_FIELD],
        )
        if result is not None:
            if result.pk != segment.pk:
                messages.success(
                    request,
                    _(
                        "Version %(version)s made as a draft; version %(old)s stays valid "
                        "until the new one is approved."
                    )
                    % {"version": result.version, "old": segment.version},
                )
            else:
                messages.success(request, _("Changes saved."))
            return redirect("routes:segment_detail", pk=result.pk)
    title = _("Change the segment")
    return _draw_page(
        request,
        user=user,
        form=form,
        title=title,
        breadcrumbs=[*crumbs(segment), (title, None)],
        cancel_url=reverse("routes:segment_detail", args=[segment.pk]),
        segment=segment,
    )


@login_required
def segment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user, segment = _visible_segment(request, pk)
    require(user, EDIT_SEGMENTS)
    if request.method == "GET" and segment.status not in (S.DRAFT, S.SUBMITTED):
        return _no_longer_applies(request, segment)
    form = SegmentDeleteForm(request.POST or None, initial=version_initial(segment))
    if request.method == "POST" and form.is_valid():
        submit(form, services.segment_delete, actor=user, segment=segment, **form.cleaned_data)
        if not form.errors:  # the service returns nothing: no error means it is gone
            messages.success(request, _("“%(name)s” deleted.") % {"name": segment.name})
            return redirect("routes:segment_list")
    return render_form_page(
        request,
        form=form,
        title=_("Delete the draft"),
        subject=str(segment),
        intro=_("The draft is deleted for good; its audit trail is kept."),
        breadcrumbs=[*crumbs(segment), (_("Delete"), None)],
        submit_label=_("Delete"),
        cancel_url=reverse("routes:segment_detail", args=[segment.pk]),
        danger=True,
    )


# ---- workflow -----------------------------------------------------------------------------


def _no_longer_applies(request: HttpRequest, segment: RoadSegment) -> HttpResponse:
    """An action page for a segment whose status no longer allows it: back to the segment,
    saying why (a bookmark, a second tab, the back button). A POST from such a page still
    reaches the service, which refuses it in words above the form."""
    messages.info(
        request,
        _("“%(name)s” is %(status)s now: that action no longer applies.")
        % {"name": str(segment), "status": segment.get_status_display()},
    )
    return redirect("routes:segment_detail", pk=segment.pk)


def _act(
    request: HttpRequest,
    pk: int,
    *,
    form_class: type[Form],
    service: Callable[..., RoadSegment],
    title: str,
    submit_label: str,
    success: str,
    applies_to: frozenset[str],
    intro: str = "",
    danger: bool = False,
) -> HttpResponse:
    """A workflow step on a page of its own: the form, then the service through submit().
    Offered only to a segment in one of the statuses `applies_to`."""
    user, segment = _visible_segment(request, pk)
    require(user, EDIT_SEGMENTS)
    if request.method == "GET" and segment.status not in applies_to:
        return _no_longer_applies(request, segment)
    form = form_class(request.POST or None, initial=version_initial(segment))
    if form.is_valid():
        done = submit(form, service, actor=user, segment=segment, **form.cleaned_data)
        if done is not None:
            messages.success(request, success % {"name": str(done)})
            return redirect("routes:segment_detail", pk=done.pk)
    # form_page.html's context (core.web.render_form_page), in a template that adds
    # this app's styles for the date-time inputs.
    return render(
        request,
        "routes/segment_action.html",
        {
            "page_title": title,
            "breadcrumbs": [*crumbs(segment), (title, None)],
            "form": form,
            "subject": str(segment),
            "intro": intro,
            "submit_label": submit_label,
            "cancel_url": reverse("routes:segment_detail", args=[segment.pk]),
            "danger": danger,
        },
    )


@login_required
def segment_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        form_class=SegmentReasonForm,
        service=services.segment_submit,
        applies_to=frozenset({S.DRAFT}),
        title=_("Submit for approval"),
        submit_label=_("Submit"),
        success=_("“%(name)s” submitted for approval."),
    )


@login_required
def segment_return(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        form_class=SegmentReasonRequiredForm,
        service=services.segment_return,
        applies_to=frozenset({S.SUBMITTED}),
        title=_("Return to draft"),
        submit_label=_("Return to draft"),
        success=_("“%(name)s” returned to draft."),
    )


@login_required
def segment_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        form_class=SegmentApproveForm,
        service=services.segment_approve,
        applies_to=frozenset({S.SUBMITTED}),
        title=_("Approve"),
        submit_label=_("Approve"),
        success=_("“%(name)s” approved."),
        intro=_(
            "Kilometres count on this segment only inside its validity window. Times are "
            "Beijing time; a new version takes over from the one it replaces at its start."
        ),
    )


@login_required
def segment_suspend(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        form_class=SegmentEndForm,
        service=services.segment_suspend,
        applies_to=frozenset({S.APPROVED}),
        title=_("Suspend"),
        submit_label=_("Suspend"),
        success=_("“%(name)s” suspended."),
        intro=_("The validity window ends at the suspension; reinstating is a new approval."),
        danger=True,
    )


@login_required
def segment_retire(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        form_class=SegmentEndForm,
        service=services.segment_retire,
        applies_to=frozenset({S.DRAFT, S.SUBMITTED, S.APPROVED, S.SUSPENDED}),
        title=_("Retire"),
        submit_label=_("Retire"),
        success=_("“%(name)s” retired."),
        intro=_("Retiring is for good: the validity window ends and the segment cannot change."),
        danger=True,
    )


@login_required
def segment_reinstate(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        form_class=SegmentReinstateForm,
        service=services.segment_reinstate,
        applies_to=frozenset({S.SUSPENDED}),
        title=_("Reinstate"),
        submit_label=_("Reinstate"),
        success=_("Reinstated as “%(name)s”."),
        intro=_(
            "Reinstating is a new approval: a new version with the same geometry and its own "
            "window, which cannot start before the suspension."
        ),
    )
