"""The web UI's plumbing every app's views use: the acting user, role gates, paging,
the audit trail as people read it, and the role-aware navigation. See docs/ui.md.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import wraps
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from .models import AuditRecord
from .roles import (
    ADMINISTER,
    COMPANY_STAFF,
    EVERYONE,
    REVIEW_TRIPS,
    SEE_ALL_COMPANIES,
    SETTLE,
    Capability,
)
from .selectors import audit_list

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise
    from rest_framework.request import Request

    from operators.models import User

P = ParamSpec("P")
PAGE_SIZE = 25


def acting_user(request: HttpRequest | Request) -> User:
    """The logged-in user of a page behind `login_required` or `capability_required`, or of
    an API view behind `IsAuthenticated`."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied
    return user


def capability_required(
    capability: Capability,
) -> Callable[
    [Callable[Concatenate[HttpRequest, P], HttpResponse]],
    Callable[Concatenate[HttpRequest, P], HttpResponse],
]:
    """A page for those with `capability` only: log in first; any other role gets 403.

    Objects are still looked up through the selectors, so a page open to company staff
    answers 404 for another company's object (the role gate is not the scoping).
    """

    def decorator(
        view: Callable[Concatenate[HttpRequest, P], HttpResponse],
    ) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not capability.allows(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]  # _Wrapped is this callable; mypy can't see it

    return decorator


def paginate(
    request: HttpRequest, items: models.QuerySet[Any], per_page: int = PAGE_SIZE
) -> Page[Any]:
    """One page of `items` from ?page= (a wrong page number shows the nearest page)."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def render_form_page(
    request: HttpRequest,
    *,
    form: forms.BaseForm,
    title: str,
    breadcrumbs: list[tuple[str, str | None]],
    submit_label: str,
    cancel_url: str,
    subject: str = "",
    intro: str = "",
    danger: bool = False,
) -> HttpResponse:
    """A form on a page of its own (templates/form_page.html): register, admit, approve..."""
    return render(
        request,
        "form_page.html",
        {
            "page_title": title,
            "breadcrumbs": breadcrumbs,
            "form": form,
            "subject": subject,
            "intro": intro,
            "submit_label": submit_label,
            "cancel_url": cancel_url,
            "danger": danger,
        },
    )


Crumbs = list[tuple[str, str | None]]
# Pages the reader may have come from, by kind: `?from=statement:12` on a trip's page makes
# its breadcrumbs lead back to that statement. Each kind's crumbs come from the app that
# owns the page (registered with `register_origin`), looked up through its selector for the
# reader; the parameter only picks a kind and an id, never a URL, so it cannot redirect.
CrumbsFor = Callable[["User", int | None], Crumbs | None]
_ORIGINS: dict[str, CrumbsFor] = {}
_ORIGIN = re.compile(r"(?P<kind>[a-z_]{1,30})(?::(?P<pk>[0-9]{1,18}))?")


def register_origin(kind: str, crumbs_for: CrumbsFor) -> None:
    """`crumbs_for(user, id)`: the breadcrumbs of the page of that kind and id as `user`
    sees them, or None when the user may not see it (then the page's own crumbs show)."""
    _ORIGINS[kind] = crumbs_for


@dataclass(frozen=True)
class Origin:
    """Where the reader came from: its crumbs, and the parameter to pass on to the next
    page down (a list's rows)."""

    token: str
    crumbs: Crumbs

    @property
    def query(self) -> str:
        return urlencode({"from": self.token})


def came_from(request: HttpRequest, user: User) -> Origin | None:
    """The page named by ?from=<kind>[:<id>], if it is a known kind the user may see."""
    token = request.GET.get("from", "")
    match = _ORIGIN.fullmatch(token)
    crumbs_for = _ORIGINS.get(match["kind"]) if match else None
    if match is None or crumbs_for is None:
        return None
    crumbs = crumbs_for(user, int(match["pk"]) if match["pk"] else None)
    return Origin(token=token, crumbs=crumbs) if crumbs else None


# Labels of audit actions that are not a status value of the audited model.
AUDIT_ACTIONS: dict[str, StrOrPromise] = {
    "create": gettext_lazy("Created"),
    "update": gettext_lazy("Changed"),
    "renew": gettext_lazy("Permit renewed"),
    "upload": gettext_lazy("Uploaded"),
    "download_raw": gettext_lazy("Raw file downloaded"),
    "purge_raw": gettext_lazy("Raw file deleted (retention)"),
    "live_backfill": gettext_lazy("Late live fixes recorded"),
    "download_pdf": gettext_lazy("PDF downloaded"),
    "download_xlsx": gettext_lazy("Excel file downloaded"),
    "download_csv": gettext_lazy("CSV downloaded"),
    "download_public_notice": gettext_lazy("Public notice downloaded"),
}


@dataclass(frozen=True)
class AuditChange:
    label: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class AuditEntry:
    at: dt.datetime
    actor: str | None
    action: str
    changes: list[AuditChange]
    reason: str


def _number(value: Any) -> Decimal | None:
    """A stored number (a Decimal's string in the JSON of a change, an int, a float)
    exactly, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal | str):
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            return None
        return number if number.is_finite() else None
    return None


def figure(number: Decimal, places: int) -> str:
    """A figure as the pages and files show it (subsidies' `km3` and `yuan`, core.charts):
    rounded half up (四舍五入) to `places` decimals and grouped by thousands with commas in
    every language (Django's Chinese format would group none)."""
    return f"{number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,}"


# Unit suffixes of field names (STYLE.md: names carry units): the suffix (or the whole
# name without its underscore: `km`), its template and decimals, and from what size a larger
# unit (with its decimals) reads better. The first suffix that fits wins.
_UNITS: list[tuple[str, StrOrPromise, int, tuple[int, StrOrPromise, int] | None]] = [
    ("_m2", gettext_lazy("%(value)s m²"), 0, (1_000_000, gettext_lazy("%(value)s km²"), 3)),
    ("_m", gettext_lazy("%(value)s m"), 2, (1000, gettext_lazy("%(value)s km"), 3)),
    ("_yuan_per_km", gettext_lazy("%(value)s yuan/km"), 2, None),
    # A count per 1,000 km (a grading policy's disengagements): the label says what is
    # counted, so the figure stands alone, not as a distance.
    ("_per_1000_km", "%(value)s", 2, None),
    ("_km", gettext_lazy("%(value)s km"), 3, None),
    ("_yuan", gettext_lazy("%(value)s yuan"), 2, None),
    ("_kmh", gettext_lazy("%(value)s km/h"), 0, None),
    ("_s", gettext_lazy("%(value)s s"), 0, None),
]


# Kilometres driven, stored in metres: shown in km to 3 decimals whatever their size, the
# figure the trip and statement pages show (a 500 m trip is "0.500 km" there, not "500 m").
MILEAGE_M = frozenset({"total_m", "autonomous_m", "eligible_m"})
_UNITS_KM = gettext_lazy("%(value)s km")


# Words for the keys inside JSON values people read (audit changes, a trip's technical
# details): the verification parameters stored with each result (trips.verification's
# VerifyParams, and the points limit). A key missing here shows as itself.
JSON_KEYS: dict[str, StrOrPromise] = {
    "max_speed_kmh": gettext_lazy("Highest plausible speed"),
    "max_gap_s": gettext_lazy("Longest gap between fixes that still earns credit"),
    "metric_crs": gettext_lazy("Coordinate system for measuring"),
    "tz": gettext_lazy("Time zone of the days"),
    "max_duration_s": gettext_lazy("Longest trip"),
    "earliest_year": gettext_lazy("Earliest year accepted"),
    "max_future_s": gettext_lazy("How far a fix may lie in the future"),
    "stop_window_s": gettext_lazy("Window for telling standing still"),
    "stop_radius_m": gettext_lazy("Radius for telling standing still"),
    "review_outlier_share": gettext_lazy("Share of outliers flagged for review"),
    "review_outlier_run_s": gettext_lazy("Run of outliers flagged for review"),
    "review_gap_share": gettext_lazy("Share of time in gaps flagged for review"),
    "review_gap_s": gettext_lazy("Gap flagged for review"),
    "review_gap_jump_m": gettext_lazy("Jump across a gap flagged for review"),
    "review_odometer_share": gettext_lazy("Odometer disagreement flagged for review (share)"),
    "review_odometer_min_m": gettext_lazy("Odometer disagreement flagged for review (least)"),
    "edge_grid_m": gettext_lazy("Grid size near zone edges"),
    "review_recorder_share": gettext_lazy("Unsupported by the recorder, flagged (share)"),
    "review_recorder_min_m": gettext_lazy("Unsupported by the recorder, flagged (least)"),
    "max_points": gettext_lazy("Most fixes in a file"),
    # audit changes that are no field (a live trip's backfill, trips.live)
    "late_fixes": gettext_lazy("Fixes that arrived late"),
}
# GeoJSON geometry types in words.
GEOMETRY_TYPES: dict[str, StrOrPromise] = {
    "Point": pgettext_lazy("geometry", "Point"),
    "MultiPoint": pgettext_lazy("geometry", "MultiPoint"),
    "LineString": pgettext_lazy("geometry", "LineString"),
    "MultiLineString": pgettext_lazy("geometry", "MultiLineString"),
    "Polygon": pgettext_lazy("geometry", "Polygon"),
    "MultiPolygon": pgettext_lazy("geometry", "MultiPolygon"),
}


def _with_unit(name: str, value: Any) -> str | None:
    """A measured value with its unit, by its field name's suffix: metres to the centimetre
    (km to 3 decimals from 1 km; kilometres driven always in km), yuan to 2 decimals, bytes
    as KB/MB. None when the name carries no unit or the value is not a number."""
    number = _number(value)
    if number is None:
        return None
    if name.endswith("_share"):
        return f"{figure(100 * number, 1)}%"
    if name == "size" or name.endswith("_size"):
        return filesizeformat(int(number))  # bytes (a raw file's size)
    if name in MILEAGE_M:
        return str(_UNITS_KM) % {"value": figure(number.scaleb(-3), 3)}
    for suffix, template, decimals, larger in _UNITS:
        if not (name.endswith(suffix) or name == suffix[1:]):
            continue
        shown, unit, places = number, template, decimals
        if larger is not None and abs(number) >= larger[0]:
            shown, unit, places = number / larger[0], larger[1], larger[2]
        return str(unit) % {"value": figure(shown, places)}
    return None


def _positions(coordinates: Any) -> int:
    """How many positions a GeoJSON coordinates array holds, at any depth."""
    if isinstance(coordinates, list) and coordinates and not isinstance(coordinates[0], list):
        return 1
    if isinstance(coordinates, list):
        return sum(_positions(item) for item in coordinates)
    return 0


def _structured(value: Any) -> str:
    """A JSON value (a geometry, a parameter set) in words, never a Python dict."""
    if isinstance(value, dict) and "type" in value and "coordinates" in value:
        count = _positions(value["coordinates"])
        return ngettext(
            "%(type)s geometry, %(count)s point", "%(type)s geometry, %(count)s points", count
        ) % {"type": GEOMETRY_TYPES.get(value["type"], value["type"]), "count": count}
    if isinstance(value, dict):
        return "; ".join(f"{label}: {shown}" for label, _key, shown in json_items(value))
    if isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        # records (a trip's reasons): the page shows them in words; the trail counts them
        return ngettext("%(count)s entry", "%(count)s entries", len(value)) % {"count": len(value)}
    if isinstance(value, list):
        return ", ".join(_structured(item) for item in value)
    if isinstance(value, float) and math.isfinite(value):
        # repr: the shortest decimal that is the float, so 0.1 stays 0.1 before rounding
        return figure(Decimal(repr(value)), 6 if abs(value) < 1000 else 3)
    return str(value)


def json_items(value: dict[str, Any]) -> list[tuple[str, str, str]]:
    """A JSON object's entries as (label in words, key, value with its unit)."""
    return [
        (str(JSON_KEYS.get(key, key)), key, _with_unit(key, item) or _structured(item))
        for key, item in value.items()
    ]


def _display(field: models.Field[Any, Any] | None, value: Any, name: str = "") -> str | None:
    """An audited value as a person reads it: choice labels, local times, related names,
    measures with their units, geometries in words."""
    if value is None or value == "":
        return None
    shown: Any = value
    measured = _with_unit(name, value)
    if measured is not None:
        return measured
    if field is not None and field.choices:
        shown = dict(field.flatchoices).get(value, value)
    elif isinstance(field, models.ForeignKey):
        related = field.related_model._default_manager.filter(pk=value).first()
        shown = related if related is not None else f"#{value}"
    elif isinstance(field, models.DateTimeField) and isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is not None:
            shown = date_format(timezone.localtime(parsed), "Y-m-d H:i")
    elif isinstance(field, models.DateField) and isinstance(value, str):
        shown = value  # ISO dates read the same in both languages
    elif isinstance(field, models.BooleanField) or isinstance(value, bool):
        shown = _("Yes") if value else _("No")
    elif isinstance(field, models.DecimalField) and _number(value) is not None:
        # Stored as the string of its Decimal ("85.50"); shown with the field's places,
        # grouped as every figure is.
        shown = figure(Decimal(str(value)), field.decimal_places)
    elif isinstance(value, dict | list | float):
        shown = _structured(value)
    return str(shown)


# A field label's trailing unit in brackets, ASCII or full-width: "total (m)", "合规里程（米）".
_LABEL_UNIT = re.compile(r"\s*[(（][^()（）]*[)）]$")


def _entry(record: AuditRecord, model: type[models.Model] | None) -> AuditEntry:
    changes = []
    for name, (old, new) in record.changes.items():
        field: models.Field[Any, Any] | None = None
        if model is not None:
            try:
                found = model._meta.get_field(name)
            except FieldDoesNotExist:
                found = None
            field = found if isinstance(found, models.Field) else None
        words = field.verbose_name if field is not None else JSON_KEYS.get(name, name)
        label = capfirst(str(words))
        old_shown, new_shown = _display(field, old, name), _display(field, new, name)
        if old_shown is None and new_shown is None:
            continue  # an empty field at creation says nothing
        if _with_unit(name, new if new is not None else old) is not None:
            # The value carries its own unit, which may differ from the one the label names
            # ("eligible (m)" shown as "0.500 km"): the label says what, the value how much.
            label = _LABEL_UNIT.sub("", label)
        change = AuditChange(label=label, old=old_shown, new=new_shown)
        if change not in changes:  # a figure stored twice (a statement's m and km) reads once
            changes.append(change)
    status_field = None
    if model is not None and any(f.name == "status" for f in model._meta.concrete_fields):
        status_field = model._meta.get_field("status")
    action = AUDIT_ACTIONS.get(record.action)
    if action is None and isinstance(status_field, models.Field) and status_field.choices:
        action = dict(status_field.flatchoices).get(record.action)
    return AuditEntry(
        at=record.at,
        actor=str(record.actor) if record.actor else None,
        action=str(action or record.action),
        changes=changes,
        reason=record.reason,
    )


def audit_trail(*, user: User, obj: models.Model) -> list[AuditEntry]:
    """The object's audit trail as `includes/audit_trail.html` shows it (empty if not allowed)."""
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=True)
    records = audit_list(user=user).filter(content_type=content_type, object_id=str(obj.pk))
    model = content_type.model_class()
    return [_entry(record, model) for record in records]


def counts_by_status(items: models.QuerySet[Any]) -> Mapping[str, int]:
    return {
        row["status"]: row["n"] for row in items.order_by().values("status").annotate(n=Count("pk"))
    }


@dataclass(frozen=True)
class NavItem:
    """An entry of the main navigation, shown to those with `capability` only."""

    label: StrOrPromise
    url_name: str
    capability: Capability


# The main navigation, in order. A new page adds its line here (docs/ui.md).
NAVIGATION: list[NavItem] = [
    NavItem(gettext_lazy("Dashboard"), "home", EVERYONE),
    NavItem(gettext_lazy("My vehicles"), "operators:vehicle_list", COMPANY_STAFF),
    NavItem(gettext_lazy("Companies"), "operators:company_list", SEE_ALL_COMPANIES),
    NavItem(gettext_lazy("Vehicles"), "operators:vehicle_list", SEE_ALL_COMPANIES),
    NavItem(gettext_lazy("Road segments"), "routes:segment_list", EVERYONE),
    NavItem(gettext_lazy("Upload trip logs"), "trips:trip_upload", COMPANY_STAFF),
    NavItem(gettext_lazy("My trips"), "trips:trip_list", COMPANY_STAFF),
    NavItem(gettext_lazy("Trips"), "trips:trip_list", SEE_ALL_COMPANIES),
    NavItem(gettext_lazy("Review queue"), "trips:review_queue", REVIEW_TRIPS),
    NavItem(gettext_lazy("Live map"), "telemetry:live_map", EVERYONE),
    # Collisions' incidents: a company reports on its own (recorder.selectors scopes them),
    # the bureau closes them, finance reads them as the other government roles do.
    NavItem(gettext_lazy("Incidents"), "recorder:incident_list", EVERYONE),
    # The bureau grades; finance reads the grades its computation pays by.
    NavItem(gettext_lazy("Grades"), "subsidies:grade_list", SEE_ALL_COMPANIES),
    NavItem(gettext_lazy("My statements"), "subsidies:statement_list", COMPANY_STAFF),
    # Every government role reads them (subsidies.selectors); finance acts on them.
    NavItem(gettext_lazy("Statements"), "subsidies:statement_list", SEE_ALL_COMPANIES),
    NavItem(gettext_lazy("Annual computation"), "subsidies:compute", SETTLE),
    NavItem(gettext_lazy("Objections"), "payments:objection_list", SETTLE),
    NavItem(gettext_lazy("Payment batches"), "payments:batch_list", SETTLE),
    NavItem(gettext_lazy("Clawbacks"), "payments:clawback_list", SETTLE),
    NavItem(gettext_lazy("Working-day calendar"), "payments:work_calendar", SETTLE),
    NavItem(gettext_lazy("Accounts"), "admin:operators_user_changelist", ADMINISTER),
]


@dataclass(frozen=True)
class NavLink:
    label: StrOrPromise
    url: str
    current: bool


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the user's navigation, the current section marked, and map settings."""
    user = request.user
    links: list[NavLink] = []
    if user.is_authenticated:
        items = [item for item in NAVIGATION if item.capability.allows(user)]
        urls = [reverse(item.url_name) for item in items]
        # The current section is the longest URL that prefixes the path ("/" only on itself).
        matches = [
            u for u in urls if request.path == u or (u != "/" and request.path.startswith(u))
        ]
        current = max(matches, key=len, default=None)
        links = [
            NavLink(label=item.label, url=url, current=url == current)
            for item, url in zip(items, urls, strict=True)
        ]
    return {"nav_items": links, "map_settings": map_settings(user)}


def map_settings(user: Any) -> dict[str, Any]:
    """What static/js/map.js reads: the base map's tile layers, and for admins only a
    notice when there is none and how to set one (docs/configuration.md)."""
    base = settings.BASE_MAP
    conf: dict[str, Any] = {"tileLayers": base.for_browser()}
    if not base.configured and user.is_authenticated and ADMINISTER.allows(user):
        if base.problem == "no_key":
            conf["notice"] = _(
                "No base map: MAP_TILES=tianditu needs a 天地图 key in TIANDITU_KEY. The "
                "approved roads and areas are drawn on a plain background."
            )
        else:
            conf["notice"] = _(
                "No base map is configured: the approved roads and areas are drawn on a "
                "plain background. Set MAP_TILES=tianditu with TIANDITU_KEY (天地图), or "
                "MAP_TILES=osm, in the environment (docs/configuration.md)."
            )
    return conf


class PageLocaleMiddleware(LocaleMiddleware):
    """Pages are in Chinese whatever language the browser prefers, English only once the
    person picks it in the header (the language cookie): the ledger's users are Yangquan's
    officials and companies, and a shared office PC's browser language says little about
    its user. The API keeps honouring Accept-Language, so an integrator can ask for English.
    """

    def process_request(self, request: HttpRequest) -> None:
        if not request.path_info.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)
