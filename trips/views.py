"""Web pages for trips: upload, lists, the detail with its map, and the bureau's review.

Thin, like operators/views.py: a form validates, a selector reads (scoped to the user, so
another company's trip is a 404), a service writes through `submit`. The upload page's
files go to the REST API one by one from the browser (trip_upload.js), which gives each
its own progress bar and live status; the page also works without JavaScript.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.forms import Form, submit
from core.roles import REVIEW_TRIPS, UPLOAD, Role
from core.services import require
from core.web import (
    Crumbs,
    acting_user,
    audit_trail,
    came_from,
    capability_required,
    paginate,
    register_origin,
)
from operators.models import Operator, User, Vehicle
from operators.selectors import operator_list, vehicle_list

from . import services
from .forms import (
    TripDeclareModeForm,
    TripFilterForm,
    TripReverifyForm,
    TripReviewForm,
    TripUploadForm,
    TripWithdrawForm,
)
from .map_layers import trip_map
from .models import Trip, TripDay
from .reason_codes import FLAG_CODES, PARSE_ERROR_CODES, REJECT_CODES, TripReason
from .reasons import REASON_TEXT, ReasonShown, describe
from .selectors import review_queue, trip_conflicts, trip_list
from .throttling import UploadThrottle

UNFINISHED = (Trip.Status.RECEIVED, Trip.Status.PROCESSING)


@dataclass(frozen=True)
class ConflictRow:
    """A conflicting trip as the pages show it (trips/_conflicts.html)."""

    code: str
    text: str
    figures: dict[str, float]
    share_percent: float
    other: Trip | None


# One colour per conflicting trip drawn on the map (dashed, under the trip's own trace).
CONFLICT_COLORS = ("#6a3d9a", "#0b4fa8", "#8c564b", "#d6338a")


def _conflicts(user: User, trip: Trip, *, review: bool = False) -> dict[str, Any]:
    shown = trip_conflicts(user=user, trip=trip)
    rows = [
        ConflictRow(
            code=c.code,
            text=str(REASON_TEXT.get(c.code, c.code)),
            figures=c.figures,
            share_percent=100 * float(c.figures.get("matched_share", 0.0)),
            other=c.other,
        )
        for c in shown
    ]
    traces = [
        {
            "url": reverse("trip-trace", args=[row.other.pk]),
            "label": _("Trip #%(id)s") % {"id": row.other.pk},
            "color": CONFLICT_COLORS[i % len(CONFLICT_COLORS)],
        }
        for i, row in enumerate(rows)
        if row.other is not None and row.other.trace_file and row.other.raw_purged_at is None
    ]
    return {
        "conflicts": rows,
        "conflict_traces": traces,
        "show_keep_note": review,
        # Named only where the reader may see it (another company's trip number never).
        "kept_trip": trip_list(user=user).filter(pk=trip.review_kept_trip_id).first()
        if trip.review_kept_trip_id
        else None,
    }


def _is_company(user: User) -> bool:
    return user.role == Role.OPERATOR


def _list_crumb(user: User) -> tuple[str, str]:
    return (_("My trips") if _is_company(user) else _("Trips"), reverse("trips:trip_list"))


def _review_crumbs(user: User, _pk: int | None) -> Crumbs | None:
    """A trip opened from the review queue (?from=review) leads back to it."""
    return (
        [(_("Review queue"), reverse("trips:review_queue"))] if REVIEW_TRIPS.allows(user) else None
    )


register_origin("review", _review_crumbs)


# ---- dashboard -------------------------------------------------------------------------


@dataclass(frozen=True)
class CompanyKm:
    name: str
    km: float
    percent: float  # of the largest, for the bar's width


def dashboard(*, user: User, today: dt.date) -> dict[str, Any]:
    """This app's share of the home page's cards (trips/_dashboard_cards.html)."""
    trips = trip_list(user=user)
    # Only accepted trips count toward subsidies; days are local, so a trip across New
    # Year counts in each year by its fixes' times.
    year_days = TripDay.objects.filter(
        trip__in=trips.filter(status=Trip.Status.ACCEPTED), day__year=today.year
    )
    context: dict[str, Any] = {
        "trips_waiting": trips.filter(status=Trip.Status.NEEDS_REVIEW).count(),
        "can_review": REVIEW_TRIPS.allows(user),
        "km_year": today.year,
    }
    if _is_company(user):
        total = year_days.aggregate(m=Sum("eligible_m"))["m"] or Decimal(0)
        context["my_eligible_km"] = float(total) / 1000
    else:
        rows = (
            year_days.values("trip__operator__name")
            .annotate(m=Sum("eligible_m"))
            .order_by("-m", "trip__operator__name")
        )
        top = max((float(row["m"]) for row in rows), default=0.0)
        context["eligible_by_company"] = [
            CompanyKm(
                name=row["trip__operator__name"],
                km=float(row["m"]) / 1000,
                percent=100 * float(row["m"]) / top if top else 0.0,
            )
            for row in rows
        ]
    return context


# ---- lists -----------------------------------------------------------------------------


def _companies_to_choose(user: User) -> QuerySet[Operator] | None:
    return None if _is_company(user) else operator_list(user=user)


@login_required
def trip_list_page(request: HttpRequest) -> HttpResponse:
    """Company staff: my trips. Government: every company's, with a company filter."""
    user = acting_user(request)
    filter_form = TripFilterForm(
        request.GET or None,
        companies=_companies_to_choose(user),
        vehicles=vehicle_list(user=user).order_by("plate"),
    )
    trips = filter_form.filter(trip_list(user=user))
    title = _list_crumb(user)[0]
    # Opened from a statement's month or vehicle: the way back is to the statement, and
    # each trip opened from here keeps it.
    origin = came_from(request, user)
    return render(
        request,
        "trips/trip_list.html",
        {
            "page_title": title,
            "breadcrumbs": [*(origin.crumbs if origin else []), (title, None)],
            "origin": origin,
            "filter_form": filter_form,
            "page_obj": paginate(request, trips),
            "show_company": not _is_company(user),
            "can_upload": UPLOAD.allows(user),
        },
    )


@capability_required(REVIEW_TRIPS)
def review_queue_page(request: HttpRequest) -> HttpResponse:
    """Trips the verifier flagged, oldest first, each with the reasons it was flagged for."""
    user = acting_user(request)
    page_obj = paginate(request, review_queue(user=user))
    rows = []
    for trip in page_obj:
        reasons = _reasons(user, trip)
        flags = [reason for reason in reasons if reason.code in FLAG_CODES]
        rows.append((trip, flags or reasons))
    return render(
        request,
        "trips/review_queue.html",
        {
            "page_title": _("Review queue"),
            "breadcrumbs": [(_("Review queue"), None)],
            "page_obj": page_obj,
            "rows": rows,
        },
    )


# ---- one trip --------------------------------------------------------------------------


@login_required
def trip_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    trip = get_object_or_404(trip_list(user=user), pk=pk)
    reasons = _reasons(user, trip)
    can_manage = REVIEW_TRIPS.allows(user)
    segments = list(trip.segments.select_related("segment").order_by("-eligible_m"))
    segments_m = sum((row.eligible_m for row in segments), Decimal(0))
    origin = came_from(request, user)  # a statement, the review queue
    return render(
        request,
        "trips/trip_detail.html",
        {
            "page_title": _("Trip #%(id)s") % {"id": trip.pk},
            "breadcrumbs": [
                *(origin.crumbs if origin else [_list_crumb(user)]),
                (_("Trip #%(id)s") % {"id": trip.pk}, None),
            ],
            "trip": trip,
            "reasons": reasons,
            "segments": segments,
            # Overlapping corridors credit each segment, the trip's total counts the union
            # once (docs/verification.md): said under the table when the rows add up to more.
            "segments_m": segments_m if segments_m > trip.eligible_m else None,
            "days": trip.days.order_by("day"),
            "unfinished": trip.status in UNFINISHED,
            # Deleted under the retention rule: nothing to download, nothing to verify from.
            "raw_url": "" if trip.raw_purged_at else reverse("trip-raw", args=[trip.pk]),
            "show_company": not _is_company(user),
            "can_review": can_manage and trip.status == Trip.Status.NEEDS_REVIEW,
            "can_reverify": (
                can_manage
                and trip.status not in (*UNFINISHED, Trip.Status.WITHDRAWN)
                and trip.raw_purged_at is None
            ),
            **_company_actions(user, trip),
            "audit_entries": audit_trail(user=user, obj=trip),
            **trip_map(trip, reasons),
            **_conflicts(user, trip),
        },
    )


@login_required
def trip_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The bureau's decision: the map and the reasons beside an accept/reject form."""
    user = acting_user(request)
    trip = get_object_or_404(trip_list(user=user), pk=pk)
    require(user, REVIEW_TRIPS)
    form = TripReviewForm(request.POST or None)
    if form.is_valid():
        accept = form.cleaned_data["decision"] == "accept"
        done = submit(
            form,
            services.trip_review,
            actor=user,
            trip=trip,
            accept=accept,
            reason=form.cleaned_data["reason"],
        )
        if done is not None:
            text = _("Trip #%(id)s accepted.") if accept else _("Trip #%(id)s rejected.")
            messages.success(request, text % {"id": trip.pk})
            return redirect("trips:review_queue")
    reasons = _reasons(user, trip)
    title = _("Review trip #%(id)s") % {"id": trip.pk}
    return render(
        request,
        "trips/trip_review.html",
        {
            "page_title": title,
            "breadcrumbs": [
                (_("Review queue"), reverse("trips:review_queue")),
                (
                    _("Trip #%(id)s") % {"id": trip.pk},
                    reverse("trips:trip_detail", args=[trip.pk]) + "?from=review",
                ),
                (title, None),
            ],
            "trip": trip,
            "form": form,
            "reasons": reasons,
            "show_company": True,
            **trip_map(trip, reasons),
            **_conflicts(user, trip, review=True),
        },
    )


@login_required
def trip_reverify(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    trip = get_object_or_404(trip_list(user=user), pk=pk)
    require(user, REVIEW_TRIPS)
    form = TripReverifyForm(request.POST or None)
    if form.is_valid():
        done = submit(
            form, services.trip_reverify, actor=user, trip=trip, reason=form.cleaned_data["reason"]
        )
        if done is not None:
            messages.success(request, _("Trip #%(id)s is being verified again.") % {"id": trip.pk})
            return redirect("trips:trip_detail", pk=trip.pk)
    title = _("Verify again")
    detail_url = reverse("trips:trip_detail", args=[trip.pk])
    return render(
        request,
        "form_page.html",
        {
            "page_title": title,
            "breadcrumbs": [
                _list_crumb(user),
                (_("Trip #%(id)s") % {"id": trip.pk}, detail_url),
                (title, None),
            ],
            "form": form,
            "subject": f"#{trip.pk} · {trip.vehicle.plate} · {trip.operator.name}",
            "intro": _(
                "The trip is verified again from its raw file with today's approved segments "
                "and permits, for example after an approval was corrected."
            ),
            "submit_label": title,
            "cancel_url": detail_url,
            "danger": False,
        },
    )


def _company_actions(user: User, trip: Trip) -> dict[str, bool]:
    """What the company may still do with its trip (trips.services decides again)."""
    mine = UPLOAD.allows(user)
    mode_missing = trip.status == Trip.Status.REJECTED and any(
        r.get("code") == TripReason.MODE_MISSING for r in trip.reasons
    )
    return {
        "mode_missing": mode_missing,
        "can_declare_mode": mine and mode_missing and trip.raw_purged_at is None,
        "can_withdraw": mine and Trip.Status.WITHDRAWN in Trip.TRANSITIONS[trip.status],
    }


def _reasons(user: User, trip: Trip) -> list[ReasonShown]:
    """The trip's reasons in words, a conflict naming the other trip where the reader may
    see it (another company's trip is never named)."""
    reasons = describe(trip.reasons)
    others = {int(r["trip"]) for r in trip.reasons if r.get("trip") is not None}
    visible = (
        set(trip_list(user=user).filter(pk__in=others).values_list("pk", flat=True))
        if others
        else set()
    )
    return [
        replace(shown, other_trip=int(stored["trip"]))
        if stored.get("trip") is not None and int(stored["trip"]) in visible
        else shown
        for shown, stored in zip(reasons, trip.reasons, strict=True)
    ]


def _trip_form_page(
    request: HttpRequest,
    *,
    user: User,
    trip: Trip,
    form: Form,
    title: str,
    intro: str,
    danger: bool,
) -> HttpResponse:
    """A company's action on its trip as a form page (form_page.html)."""
    detail_url = reverse("trips:trip_detail", args=[trip.pk])
    return render(
        request,
        "form_page.html",
        {
            "page_title": title,
            "breadcrumbs": [
                _list_crumb(user),
                (_("Trip #%(id)s") % {"id": trip.pk}, detail_url),
                (title, None),
            ],
            "form": form,
            "subject": f"#{trip.pk} · {trip.vehicle.plate} · {trip.original_name or '—'}",
            "intro": intro,
            "submit_label": title,
            "cancel_url": detail_url,
            "danger": danger,
        },
    )


@capability_required(UPLOAD)
def trip_declare_mode(request: HttpRequest, pk: int) -> HttpResponse:
    """The company declares the driving mode of its trip rejected for a missing mode."""
    user = acting_user(request)
    trip = get_object_or_404(trip_list(user=user), pk=pk)
    form = TripDeclareModeForm(request.POST or None)
    if form.is_valid():
        done = submit(
            form,
            services.trip_declare_mode,
            actor=user,
            trip=trip,
            mode=form.cleaned_data["mode"],
            reason=form.cleaned_data["reason"],
        )
        if done is not None:
            messages.success(request, _("Trip #%(id)s is being verified again.") % {"id": trip.pk})
            return redirect("trips:trip_detail", pk=trip.pk)
    return _trip_form_page(
        request,
        user=user,
        trip=trip,
        form=form,
        title=_("Declare the driving mode"),
        intro=_(
            "The file carries no driving mode. Uploading it again returns this same trip; "
            "declare the mode here and the trip is verified again from its raw file. The "
            "declaration is recorded in the audit trail."
        ),
        danger=False,
    )


@capability_required(UPLOAD)
def trip_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """The company withdraws its trip: kept as evidence, never paid."""
    user = acting_user(request)
    trip = get_object_or_404(trip_list(user=user), pk=pk)
    form = TripWithdrawForm(request.POST or None)
    if form.is_valid():
        done = submit(
            form, services.trip_withdraw, actor=user, trip=trip, reason=form.cleaned_data["reason"]
        )
        if done is not None:
            messages.success(request, _("Trip #%(id)s withdrawn.") % {"id": trip.pk})
            return redirect("trips:trip_detail", pk=trip.pk)
    return _trip_form_page(
        request,
        user=user,
        trip=trip,
        form=form,
        title=_("Withdraw the trip"),
        intro=_(
            "A withdrawn trip stays on record but counts for nothing. A trip that an approved "
            "or issued statement rests on cannot be withdrawn."
        ),
        danger=True,
    )


# ---- upload ----------------------------------------------------------------------------


def _vehicles_to_upload_for(user: User) -> QuerySet[Vehicle]:
    return (
        vehicle_list(user=user)
        .filter(status=Vehicle.Status.APPROVED)
        .select_related("operator")
        .order_by("plate")
    )


def _upload_texts() -> dict[str, Any]:
    """Words trip_upload.js shows, in the page's language."""
    return {
        "statuses": {value: str(label) for value, label in Trip.Status.choices},
        "waiting": _("Waiting to upload"),
        "uploading": _("Uploading…"),
        "verifying": _("Uploaded; verifying…"),
        "again": _("This file was uploaded before; here is that trip."),
        "open": _("Open the trip"),
        "failed": _("Not uploaded:"),
        "eligible": _("Eligible"),
        "km": _("km"),
        "network": _("The connection failed; try again."),
        "too_large": _("The file is larger than the upload limit."),
        "server": _("The server could not take the file."),
        "choose_vehicle": _("Choose the vehicle first."),
        "choose_files": _("Choose or drop at least one file."),
        "choose_mode": _("Choose the driving mode: these files carry none."),
        "formats_without_mode": sorted(services.FORMATS_WITHOUT_MODE),
        "extensions_without_mode": ["gpx", "nmea", "nma"],
        "reasons": {code: str(text) for code, text in REASON_TEXT.items()},
        "weighed": sorted(FLAG_CODES | REJECT_CODES | PARSE_ERROR_CODES),
    }


@capability_required(UPLOAD)
def trip_upload_page(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    vehicles = _vehicles_to_upload_for(user)
    form = TripUploadForm(request.POST or None, request.FILES or None, vehicles=vehicles)
    uploaded: list[Trip] = []
    if form.is_valid():
        data = form.cleaned_data
        throttle = UploadThrottle()
        for upload in data["logs"]:
            if not throttle.allow_form_upload(request):
                form.add_error(
                    None,
                    _("Too many uploads; try again in %(seconds)d seconds.")
                    % {"seconds": math.ceil(throttle.wait() or 1)},
                )
                break
            done = submit(
                form,
                services.trip_upload,
                actor=user,
                vin=data["vehicle"].vin,
                data=upload.read(),
                original_name=upload.name or "",
                declared_format=data["format"],
                crs=data["crs"],
                declared_mode=data["mode"],
            )
            if done is not None:
                uploaded.append(done[0])
                if not done[1]:  # the same file again: the trip it already is
                    messages.info(
                        request,
                        _("%(name)s was uploaded before: it is trip #%(id)s.")
                        % {"name": upload.name, "id": done[0].pk},
                    )
        if uploaded and not form.errors:
            messages.success(
                request,
                ngettext(
                    "%(n)d file uploaded; its verification result appears in the list.",
                    "%(n)d files uploaded; verification results appear in the list.",
                    len(uploaded),
                )
                % {"n": len(uploaded)},
            )
            return redirect("trips:trip_list")
    title = _("Upload trip logs")
    return render(
        request,
        "trips/trip_upload.html",
        {
            "page_title": title,
            "breadcrumbs": [_list_crumb(user), (title, None)],
            "form": form,
            "uploaded": uploaded,
            "has_vehicles": vehicles.exists(),
            "api_url": reverse("trip-list"),
            # trip_upload.js puts each new trip's id in place of {id}.
            "trip_url_template": reverse("trips:trip_detail", args=[0]).removesuffix("0/")
            + "{id}/",
            "upload_texts": _upload_texts(),
            "samples": [
                (label, static(f"samples/trip-sample.{fmt}")) for fmt, label in Trip.Format.choices
            ],
        },
    )
