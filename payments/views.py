"""The public notice (公示) for everyone, without login: a year's issued statements with
their notice period, a form to object, and the printable PDF."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.forms import submit

from . import exports, services
from .api import how_to_object
from .forms import ObjectionForm
from .selectors import notice_totals, public_notice, public_statement
from .throttling import page_objection_allowed

FIRST_YEAR, LAST_YEAR = 2000, 2100


def _year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Http404
    return year


@require_http_methods(["GET", "POST"])
def public_notice_page(request: HttpRequest, year: int) -> HttpResponse:
    year = _year(year)
    rows = public_notice(year=year)
    form = ObjectionForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        statement = public_statement(statement_id=form.cleaned_data["statement"])
        if statement is None or statement.year != year:
            raise Http404
        if not page_objection_allowed(request):
            return render(
                request,
                "payments/public_notice.html",
                {"page_title": _("Too many objections"), "throttled": True, "year": year},
                status=429,
            )
        fields = {k: form.cleaned_data[k] for k in ("name", "contact", "text")}
        done = submit(form, services.objection_submit, statement=statement, **fields)
        if done is not None:
            messages.success(
                request,
                _("Objection #%(id)s is received; the finance bureau will answer it.")
                % {"id": done.pk},
            )
            return redirect(reverse("payments:public_notice", args=[year]))
    km, yuan = notice_totals(rows)
    return render(
        request,
        "payments/public_notice.html",
        {
            "page_title": _("Public notice %(year)s") % {"year": year},
            "year": year,
            "rows": rows,
            "total_km": km,
            "total_amount": yuan,
            "form": form,
            "how_to_object": how_to_object(request, year),
            "pdf_url": reverse("payments:public_notice_pdf", args=[year]),
        },
    )


def public_notice_pdf(request: HttpRequest, year: int) -> HttpResponse:
    year = _year(year)
    content = exports.notice_pdf(year, public_notice(year=year), how_to_object(request, year))
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="public-notice-{year}.pdf"'
    return response
