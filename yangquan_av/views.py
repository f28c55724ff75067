"""The role-aware home page: the dashboard, one group of cards per app (docs/ui.md), and the
not-found and server-error answers."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework.exceptions import NotFound

from core.charts import SERIES_COLORS, Series, lines_chart
from core.roles import Role
from core.web import acting_user, figure
from operators import views as operators_views
from operators.models import User, local_day_start
from operators.selectors import operator_list
from recorder import views as recorder_views
from routes import views as routes_views
from subsidies import views as subsidies_views
from trips import views as trips_views
from trips.models import Trip, TripDay


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
    if user.is_government:
        context["km_by_company"] = km_by_company(user=user, today=today)
    return render(request, "home.html", context)


KM_MONTHS = 24  # as the two-way km chart beside it
KM_LINES = len(SERIES_COLORS)  # companies beyond the largest few share the last line


@dataclass(frozen=True)
class KmByCompany:
    """Eligible km per company per month (accepted trips, by the local day driven): a chart
    and the same figures as a table (home.html)."""

    chart: SafeString
    lines: list[tuple[str, str, list[float], float]]  # name, colour, km per month, total
    rows: list[tuple[str, list[float], float]]  # "2026-03", km per line, total; newest first
    total: float


def _months_back(today: dt.date, count: int) -> list[dt.date]:
    year, month = today.year, today.month
    firsts = []
    for _i in range(count):
        firsts.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


def km_by_company(*, user: User, today: dt.date) -> KmByCompany:
    """The companies the user may see, and one aggregate query over their accepted trips'
    days of the last KM_MONTHS months, by month and company; the biggest companies get a
    line each, the rest one line together."""
    firsts = _months_back(today, KM_MONTHS)
    companies = dict(operator_list(user=user).values_list("pk", "name"))
    # The company ids as a list and a bound on the start let PostgreSQL read only the trips
    # in the window through the (operator, status, started_at) index instead of scanning
    # every trip. A trip lasts at most TRIP_VERIFY's max_duration_s (a day): a month before
    # the window's first day keeps every trip with a day inside it.
    sums = (
        TripDay.objects.filter(
            trip__operator_id__in=list(companies),
            trip__status=Trip.Status.ACCEPTED,
            trip__started_at__gte=local_day_start(firsts[0]) - dt.timedelta(days=31),
            day__gte=firsts[0],
            day__lte=today,
        )
        .annotate(month=TruncMonth("day"))
        .values("month", "trip__operator_id")
        .annotate(m=Sum("eligible_m"))
    )
    index = {first: i for i, first in enumerate(firsts)}
    km: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(firsts))
    for row in sums:
        month = row["month"]
        month = month.date() if isinstance(month, dt.datetime) else month
        km[companies[row["trip__operator_id"]]][index[month]] += float(row["m"]) / 1000
    ranked = sorted(km.items(), key=lambda item: (-sum(item[1]), item[0]))
    if len(ranked) > KM_LINES:
        rest = [
            sum(values) for values in zip(*(v for _n, v in ranked[KM_LINES - 1 :]), strict=True)
        ]
        ranked = [*ranked[: KM_LINES - 1], (_("Other companies"), rest)]
    labels = [f"{first:%Y-%m}" for first in firsts]
    total = float(sum(sum(values) for _n, values in ranked))
    chart = lines_chart(
        labels,
        [Series(name, values) for name, values in ranked],
        chart_id="km-by-company-chart",
        title=_("Eligible km per company, month by month"),
        description=_(
            "Eligible km of accepted trips per company in each month from %(first)s to "
            "%(last)s: %(km)s km in all."
        )
        % {
            "first": labels[0],
            "last": labels[-1],
            "km": figure(Decimal(repr(total)), 3),
        },
        unit=_("km"),
        width=720,
        height=240,
    )
    lines = [
        (name, SERIES_COLORS[i % len(SERIES_COLORS)], values, sum(values))
        for i, (name, values) in enumerate(ranked)
    ]
    rows = [
        (label, [values[i] for _n, values in ranked], float(sum(v[i] for _n, v in ranked)))
        for i, label in enumerate(labels)
    ]
    return KmByCompany(chart=chart, lines=lines, rows=rows[::-1], total=total)


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
