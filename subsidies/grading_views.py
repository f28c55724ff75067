"""Grading pages beside the grade form (subsidies/views.py): accepting the scorecard's
proposal. The scorecard itself shows through the `grading` template tags."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from core.roles import GRADE
from core.web import acting_user, capability_required
from operators.models import Operator
from operators.selectors import operator_list

from . import services
from .forms import FIRST_YEAR, LAST_YEAR, GradeAcceptForm
from .grading import grade_evidence


@require_POST
@capability_required(GRADE)
def grade_accept(request: HttpRequest, operator_pk: int, year: int) -> HttpResponse:
    """Grade the company-year as its scorecard proposes (audited), then back to the grades."""
    user = acting_user(request)
    company: Operator = get_object_or_404(operator_list(user=user), pk=operator_pk)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Http404
    back = reverse("subsidies:grade_edit", args=[company.pk, year])
    proposal = grade_evidence(operator_id=company.pk, year=year).proposal
    if proposal is None:
        messages.error(request, _("No grading policy covers this year: there is no proposal."))
        return redirect(back)
    form = GradeAcceptForm(request.POST)
    if not form.is_valid():  # only tampered hidden fields: the page draws valid ones
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    shown = form.cleaned_data["grade"]
    if shown and shown != proposal.grade:
        # The trips changed since the page was drawn: the button named another grade.
        messages.error(
            request,
            _(
                "The scorecard now proposes %(grade)s, not %(shown)s as on the page you "
                "accepted: nothing was saved. Look at the scorecard again, then decide."
            )
            % {"grade": proposal.grade, "shown": shown},
        )
        return redirect(back)
    try:
        services.assessment_set(
            actor=user,
            operator=company,
            year=year,
            grade=proposal.grade,
            seen_version=form.cleaned_data["seen_version"],
        )
    except ApplicationError as error:
        messages.error(request, str(error.message))
        return redirect(back)
    messages.success(
        request,
        _("%(company)s is graded %(grade)s for %(year)s.")
        % {"company": company.name, "grade": proposal.grade, "year": year},
    )
    return redirect(f"{reverse('subsidies:grade_list')}?year={year}")
