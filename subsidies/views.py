"""Web pages for grades, the annual computation and statements (finance, the bureau and
companies). Thin: a form validates, a selector reads (scoped to the user, so a company's
request for another company's statement, or for any draft, is a 404), a service writes
through `submit()`.

Downloads are the API's export endpoints (session authentication answers GET), so a
file looks the same whoever asks for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from core.charts import Point, bar_chart
from core.forms import submit
from core.roles import GRADE, SEE_ALL_COMPANIES, SETTLE, Role
from core.services import require
from core.versions import VERSION_FIELD, version_initial
from core.web import (
    AUDIT_ACTIONS,
    acting_user,
    audit_trail,
    capability_required,
    counts_by_status,
    paginate,
    render_form_page,
)
from operators.models import Operator, User
from operators.selectors import operator_list

from . import glossary, selectors, services, tasks
from .computation import ComputeSummary, statements_compute
from .forms import (
    FIRST_YEAR,
    LAST_YEAR,
    AssessmentForm,
    ComputeForm,
    StatementActionForm,
    StatementFilterForm,
    StatementIssueForm,
    YearForm,
)
from .models import Statement
from .money import ZERO
from .templatetags.subsidies_format import km3, yuan

# The computation writes these audit actions; the trail shows them in words.
AUDIT_ACTIONS.setdefault("recompute", gettext_lazy("Recomputed"))

# How long the computation page keeps refreshing after queueing a run on a real worker.
COMPUTE_WATCH = dt.timedelta(minutes=5)


def _this_year() -> int:
    return selectors.current_year()


def _valid_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Http404
    return year


# ---- the dashboard ---------------------------------------------------------------------


def dashboard(*, user: User, today: dt.date) -> dict[str, Any]:
    """This app's card on the home page (subsidies/_dashboard_cards.html)."""
    if user.role == Role.OPERATOR:
        last_year = selectors.year_to_date(user=user, year=today.year - 1)
        return {
            "subsidy_ytd": selectors.year_to_date(user=user, year=today.year),
            "subsidy_last_year": last_year if last_year and last_year.projection else None,
        }
    return {"subsidy_totals": selectors.year_totals(user=user, year=today.year)}


# ---- statements ------------------------------------------------------------------------


def _statement_crumbs(
    user: User, statement: Statement | None = None
) -> list[tuple[str, str | None]]:
    label = _("My statements") if user.role == Role.OPERATOR else _("Statements")
    crumbs: list[tuple[str, str | None]] = [(label, reverse("subsidies:statement_list"))]
    if statement is not None:
        crumbs.append((_statement_title(statement), statement_url(statement)))
    return crumbs


def statement_origin_crumbs(user: User, pk: int | None) -> list[tuple[str, str | None]] | None:
    """A page opened from a statement (?from=statement:<id>, core.web.came_from) leads back
    to it: Statements → the statement, if the reader may see it (a company: its issued ones).
    Opened from the statement list's charts of the year so far (?from=statement): the list."""
    if pk is None:
        return _statement_crumbs(user)
    statement = selectors.statement_list(user=user).filter(pk=pk).first()
    return _statement_crumbs(user, statement) if statement is not None else None


def _statement_title(statement: Statement) -> str:
    return _("%(company)s · %(year)s · %(kind)s") % {
        "company": statement.operator.name,
        "year": statement.year,
        "kind": statement.get_kind_display(),
    }


def statement_url(statement: Statement) -> str:
    return reverse("subsidies:statement_detail", args=[statement.pk])


def _downloads(statement: Statement) -> list[tuple[str, str]]:
    return [
        (_("PDF"), reverse("statement-pdf", args=[statement.pk])),
        (_("Excel (XLSX)"), reverse("statement-xlsx", args=[statement.pk])),
        (_("CSV"), reverse("statement-csv", args=[statement.pk])),
    ]


@dataclass(frozen=True)
class KmChart:
    """One chart of a statement's or a year's kilometres and the table with the same figures."""

    key: str  # "month" or "vehicle", for the section's id
    heading: str
    column: str  # the table's first column
    svg: str
    rows: list[selectors.SummaryRow]


def _km_charts(
    year: int,
    by_month: list[selectors.SummaryRow],
    by_vehicle: list[selectors.SummaryRow],
    key: str,
) -> list[KmChart]:
    """Kilometres per month and per vehicle, drawn (core.charts) and tabled; each bar and
    row leads to the trip list filtered the same way. `key` tells the charts' ids apart."""
    trips = reverse("trips:trip_list")
    unit = _("km")
    charts = []
    for kind, heading, chart, column, found in (
        ("month", _("By month"), _("Kilometres per month"), _("Month"), by_month),
        ("vehicle", _("By vehicle"), _("Kilometres per vehicle"), _("Plate"), by_vehicle),
    ):
        title = _("%(heading)s, %(year)s") % {"heading": chart, "year": year}
        svg = bar_chart(
            [Point(row.key, float(row.km), url=f"{trips}?{row.trips_query}") for row in found],
            chart_id=f"km-{kind}-{key}",
            title=title,
            description="; ".join(f"{row.key}: {km3(row.km)} {unit}" for row in found)
            or _("No kilometres."),
            unit=unit,
        )
        charts.append(KmChart(kind, str(heading), str(column), svg, found))
    return charts


def _statement_km_charts(statement: Statement) -> list[KmChart]:
    return _km_charts(
        statement.year,
        selectors.statement_by_month(statement=statement),
        selectors.statement_by_vehicle(statement=statement),
        key=str(statement.pk),
    )


@login_required
def statement_list_page(request: HttpRequest) -> HttpResponse:
    """Government: every statement, filtered. Company staff: their issued statements."""
    user = acting_user(request)
    is_company = user.role == Role.OPERATOR
    filter_form = StatementFilterForm(
        request.GET or None, companies=None if is_company else operator_list(user=user)
    )
    statements = filter_form.filter(selectors.statement_list(user=user))
    total_amount, total_km = selectors.statement_totals(statements=statements)
    title = _("My statements") if is_company else _("Statements")
    year = _this_year()
    ytd = selectors.year_to_date(user=user, year=year)
    last_year = selectors.year_to_date(user=user, year=year - 1)
    return render(
        request,
        "subsidies/statement_list.html",
        {
            "page_title": title,
            "breadcrumbs": [(title, None)],
            "filter_form": filter_form,
            "page_obj": paginate(request, statements),
            "total_amount": total_amount,
            "total_km": total_km,
            "is_company": is_company,
            "can_compute": SETTLE.allows(user),
            "ytd": ytd,
            # Last year, once computed: projected until issued, then the issued figure.
            "ytd_last": last_year if last_year and last_year.projection else None,
            # The year as it stands, computed or not: the same trip days as its km above.
            "km_charts": _km_charts(
                year, *selectors.year_km(user=user, year=year), key=f"year-{year}"
            )
            if ytd and ytd.eligible_km
            else [],
        },
    )


@login_required
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    statement = selectors.statement_get(user=user, statement_id=pk)
    can_act = SETTLE.allows(user)
    km_charts = _statement_km_charts(statement)
    by_vehicle = next(chart.rows for chart in km_charts if chart.key == "vehicle")
    return render(
        request,
        "subsidies/statement_detail.html",
        {
            "page_title": _statement_title(statement),
            "breadcrumbs": _statement_crumbs(user, statement),
            "statement": statement,
            "is_company": user.role == Role.OPERATOR,
            "lines": paginate(request, selectors.statement_lines(statement=statement)),
            "km_charts": km_charts,
            "trips_changed": selectors.statement_trips_changed(
                statement=statement, by_vehicle=by_vehicle
            ),
            "can_compute": can_act,
            "ledger": selectors.ledger_for(statement=statement),
            "actions": [
                (slug, action.button)
                for slug, action in STATEMENT_ACTIONS.items()
                if can_act and statement.status == action.from_status
            ],
            "downloads": _downloads(statement),
            "policy_basis": glossary.policy_basis(statement.policy),
            "glossary": glossary.GLOSSARY,
            "audit_entries": audit_trail(user=user, obj=statement),
        },
    )


@dataclass(frozen=True)
class StatementAction:
    service: Callable[..., Statement]
    from_status: str
    button: Any
    title: Any
    intro: Any
    done: Any
    # Why the page is not offered once the statement has left `from_status` (%(status)s).
    gone: Any


STATEMENT_ACTIONS: dict[str, StatementAction] = {
    "approve": StatementAction(
        service=services.statement_approve,
        from_status=Statement.Status.DRAFT,
        button=pgettext_lazy("statement", "Approve"),
        title=gettext_lazy("Approve the statement"),
        intro=gettext_lazy(
            "Approval confirms the figures. A later computation that changes them sends the "
            "statement back to draft."
        ),
        done=gettext_lazy("Statement approved."),
        gone=gettext_lazy("This statement is %(status)s: there is nothing to approve."),
    ),
    "issue": StatementAction(
        service=services.statement_issue,
        from_status=Statement.Status.APPROVED,
        button=gettext_lazy("Issue"),
        title=gettext_lazy("Issue the statement"),
        intro=gettext_lazy(
            "Once issued the statement cannot change: its amount is entered in the ledger, the "
            "company can download it, and any later correction is an adjustment statement."
        ),
        done=gettext_lazy("Statement issued."),
        gone=gettext_lazy("This statement is %(status)s: only an approved statement is issued."),
    ),
    "mark-paid": StatementAction(
        service=services.statement_mark_paid,
        from_status=Statement.Status.ISSUED,
        button=gettext_lazy("Mark paid"),
        title=gettext_lazy("Record the payment"),
        intro=gettext_lazy("Records that the amount has been paid to the company (拨付)."),
        done=gettext_lazy("Payment recorded."),
        gone=gettext_lazy(
            "This statement is %(status)s: only an issued statement's payment is recorded."
        ),
    ),
}


@login_required
def statement_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = acting_user(request)
    statement = selectors.statement_get(user=user, statement_id=pk)
    step = STATEMENT_ACTIONS.get(action)
    if step is None:
        raise Http404
    require(user, SETTLE)
    if request.method == "GET" and statement.status != step.from_status:
        # Not offered (a bookmark, a second tab): back to the statement, saying why. A POST
        # from a page drawn earlier reaches the service, which refuses it by its version.
        messages.info(request, str(step.gone) % {"status": statement.get_status_display()})
        return redirect(statement_url(statement))
    # An empty reason posts nothing a test client would send: bind on the method, not the data.
    form_class = StatementIssueForm if action == "issue" else StatementActionForm
    form = form_class(
        request.POST if request.method == "POST" else None, initial=version_initial(statement)
    )
    if form.is_valid():
        extra = (
            {
                "document_number": form.cleaned_data["document_number"],
                "issued_on": form.cleaned_data["issued_on"],
            }
            if action == "issue"
            else {}
        )
        done = submit(
            form,
            step.service,
            actor=user,
            statement=statement,
            reason=form.cleaned_data["comment"],
            seen_version=form.cleaned_data["seen_version"],
            **extra,
        )
        if done is not None:
            messages.success(request, str(step.done))
            return redirect(statement_url(statement))
    title = str(step.title)
    return render_form_page(
        request,
        form=form,
        title=title,
        subject=_("%(statement)s · amount %(amount)s")
        % {"statement": _statement_title(statement), "amount": yuan(statement.amount_yuan)},
        intro=str(step.intro),
        breadcrumbs=[*_statement_crumbs(user, statement), (title, None)],
        submit_label=str(step.button),
        cancel_url=statement_url(statement),
    )


@capability_required(SEE_ALL_COMPANIES)
def public_notice_page(request: HttpRequest) -> HttpResponse:
    """The public-notice list (公示) of a year's issued amounts, and its downloads."""
    user = acting_user(request)
    year_form = YearForm(request.GET or None, initial={"year": _this_year()})
    year = year_form.year_or(_this_year())
    rows = selectors.public_notice(user=user, year=year)
    notice_url = reverse("statement-public-notice")
    title = _("Public notice")
    return render(
        request,
        "subsidies/public_notice.html",
        {
            "page_title": title,
            "breadcrumbs": [(_("Statements"), reverse("subsidies:statement_list")), (title, None)],
            "year_form": year_form,
            "year": year,
            "rows": rows,
            "total_amount": sum((row.amount_yuan for row in rows), ZERO),
            "downloads": [
                (_("CSV"), f"{notice_url}?year={year}&file=csv"),
                (_("Excel (XLSX)"), f"{notice_url}?year={year}&file=xlsx"),
            ],
        },
    )


# ---- the annual computation ------------------------------------------------------------


@capability_required(SETTLE)
def compute(request: HttpRequest) -> HttpResponse:
    """Run a year's computation: in-process when tasks run eagerly (the embedded default),
    else queued for the worker, and the page refreshes until its figures change."""
    user = acting_user(request)
    if request.method == "POST":
        form = ComputeForm(request.POST)
    else:
        form = ComputeForm(initial={"year": request.GET.get("year") or _this_year()})
    summary: ComputeSummary | None = None
    if form.is_valid():
        year = form.cleaned_data["year"]
        submit(form, services.compute_refusal, year=year)  # a refusal shows next to the year
        if form.errors:
            pass
        elif tasks.compute_statements.app.conf.task_always_eager:
            # Rendered, not redirected, so this run's summary shows; a reload that posts
            # again is harmless, the computation being idempotent.
            summary = submit(form, statements_compute, year=year, actor=user)
            if summary is not None:
                messages.success(
                    request, _("The computation for %(year)s is done.") % {"year": year}
                )
        else:
            tasks.compute_statements.delay(year, actor_id=user.pk)
            messages.info(
                request,
                _("The computation for %(year)s is queued; this page refreshes until it is done.")
                % {"year": year},
            )
            query = urlencode({"year": year, "queued": timezone.now().isoformat()})
            return redirect(f"{reverse('subsidies:compute')}?{query}")
    year = _shown_year(request, form)
    totals = selectors.year_totals(user=user, year=year)
    queued_at = _queued_at(request)
    latest = selectors.statement_list(user=user).filter(year=year).order_by("-computed_at").first()
    waiting = (
        queued_at is not None
        and timezone.now() - queued_at < COMPUTE_WATCH
        and (latest is None or latest.computed_at < queued_at)
    )
    return render(
        request,
        "subsidies/compute.html",
        {
            "page_title": _("Annual computation"),
            "breadcrumbs": [(_("Annual computation"), None)],
            "form": form,
            "summary": summary,
            "year": year,
            "totals": totals,
            "latest": latest,
            "queued_at": queued_at,
            "waiting": waiting,
            "status_counts": _status_counts(user, year),
            "zero_amounts": selectors.zero_amounts(user=user, year=year),
            "can_grade": GRADE.allows(user),
        },
    )


def _queued_at(request: HttpRequest) -> dt.datetime | None:
    try:
        return parse_datetime(request.GET.get("queued", ""))
    except ValueError:  # well-formed but impossible, e.g. month 13
        return None


def _shown_year(request: HttpRequest, form: ComputeForm) -> int:
    if form.is_bound and form.is_valid():
        return int(form.cleaned_data["year"])
    shown = YearForm(request.GET or None)
    return shown.year_or(_this_year())


def _status_counts(user: User, year: int) -> list[tuple[str, str, int]]:
    counts = counts_by_status(selectors.statement_list(user=user).filter(year=year))
    return [(value, str(label), counts.get(value, 0)) for value, label in Statement.Status.choices]


# ---- grades ----------------------------------------------------------------------------


@capability_required(SEE_ALL_COMPANIES)
def grade_list(request: HttpRequest) -> HttpResponse:
    """Companies of a year with the figures that inform a grade, and the grade given."""
    user = acting_user(request)
    year_form = YearForm(request.GET or None, initial={"year": _this_year()})
    year = year_form.year_or(_this_year())
    grades = {a.operator_id: a for a in selectors.assessment_list(user=user).filter(year=year)}
    rows = [
        (
            company,
            selectors.assessment_figures(user=user, operator_id=company.pk, year=year),
            grades.get(company.pk),
        )
        for company in operator_list(user=user).order_by("name")
    ]
    return render(
        request,
        "subsidies/grade_list.html",
        {
            "page_title": _("Grades"),
            "breadcrumbs": [(_("Grades"), None)],
            "year_form": year_form,
            "year": year,
            "rows": rows,
            "can_grade": GRADE.allows(user),
        },
    )


@login_required
def grade_edit(request: HttpRequest, operator_pk: int, year: int) -> HttpResponse:
    user = acting_user(request)
    company: Operator = get_object_or_404(operator_list(user=user), pk=operator_pk)
    year = _valid_year(year)
    require(user, GRADE)
    figures = selectors.assessment_figures(user=user, operator_id=company.pk, year=year)
    assessment = selectors.assessment_list(user=user).filter(operator=company, year=year).first()
    # Version 0: not graded yet, so a grade someone else gives meanwhile makes the page stale.
    initial = (
        {
            "grade": assessment.grade,
            "score": assessment.score,
            "notes": assessment.notes,
            **version_initial(assessment),
        }
        if assessment
        else {VERSION_FIELD: 0}
    )
    form = AssessmentForm(request.POST or None, initial=initial)
    if form.is_valid():
        done = submit(
            form,
            services.assessment_set,
            actor=user,
            operator=company,
            year=year,
            **form.cleaned_data,
        )
        if done is not None:
            messages.success(
                request,
                _("%(company)s is graded %(grade)s for %(year)s.")
                % {"company": company.name, "grade": done.grade, "year": year},
            )
            return redirect(f"{reverse('subsidies:grade_list')}?year={year}")
    title = _("Grade %(year)s") % {"year": year}
    return render(
        request,
        "subsidies/grade_edit.html",
        {
            "page_title": title,
            "breadcrumbs": [
                (_("Grades"), f"{reverse('subsidies:grade_list')}?year={year}"),
                (title, None),
            ],
            "company": company,
            "year": year,
            "figures": figures,
            "assessment": assessment,
            "issued": selectors.year_issued(user=user, operator_id=company.pk, year=year),
            "form": form,
            "audit_entries": audit_trail(user=user, obj=assessment) if assessment else [],
        },
    )
