"""Finance's pages after the statement: objections and their decision, payment batches
(made, sent, paid with a bank reference per payment), clawbacks (追回) and the working-day
calendar. Thin: a form validates, a selector reads, a service writes through `submit()`,
so a refusal (four eyes, a stale page, a notice still running) shows on the page.

Downloads are the API's export endpoints (session authentication answers GET).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ApplicationError
from core.forms import submit
from core.roles import SETTLE
from core.versions import version_initial
from core.web import (
    AUDIT_ACTIONS,
    acting_user,
    audit_trail,
    capability_required,
    paginate,
    render_form_page,
)
from subsidies import glossary
from subsidies.models import Statement
from subsidies.money import ZERO
from subsidies.templatetags.subsidies_format import yuan

from . import services
from .forms import (
    BankReferenceForm,
    BatchCreateForm,
    BatchPaidForm,
    BatchStepForm,
    ClawbackOffsetForm,
    ClawbackOpenForm,
    ObjectionResolveForm,
    WorkCalendarCorrectForm,
    WorkCalendarForm,
)
from .models import CLAWBACK_LEGAL_BASIS, Clawback, Objection, PaymentBatch, WorkCalendarYear
from .selectors import (
    batch_candidates,
    batch_list,
    clawback_list,
    objection_list,
    offset_candidates,
    paid_statements,
    work_calendar_history,
)
from .workdays import format_ranges, package_years, parse_ranges

# The services write these audit actions; the trail shows them in words.
AUDIT_ACTIONS.setdefault("penalty_recovered", gettext_lazy("Penalty recovered"))
AUDIT_ACTIONS.setdefault("schedule", gettext_lazy("Schedule entered"))


def _label(statement: Statement) -> str:
    return _("No. %(id)s · %(company)s · %(year)s · %(amount)s") % {
        "id": statement.pk,
        "company": statement.operator.name,
        "year": statement.year,
        "amount": yuan(statement.amount_yuan),
    }


# --- objections ----------------------------------------------------------------------------


@capability_required(SETTLE)
def objection_list_page(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    status = request.GET.get("status", "open")
    objections = objection_list(user=user)
    if status in Objection.Status.values:
        objections = objections.filter(status=status)
    return render(
        request,
        "payments/objection_list.html",
        {
            "page_title": _("Objections"),
            "objections": paginate(request, objections),
            "status": status,
            "statuses": Objection.Status.choices,
        },
    )


@capability_required(SETTLE)
def objection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    objection = get_object_or_404(objection_list(user=user), pk=pk)
    form = None
    if objection.status == Objection.Status.OPEN:
        form = ObjectionResolveForm(
            request.POST if request.method == "POST" else None,
            initial=version_initial(objection),
        )
        if form.is_valid():
            done = submit(
                form,
                services.objection_resolve,
                actor=user,
                objection=objection,
                **form.cleaned_data,
            )
            if done is not None:
                messages.success(request, _("Objection #%(id)s decided.") % {"id": done.pk})
                return redirect("payments:objection_detail", pk=done.pk)
    title = _("Objection #%(id)s") % {"id": objection.pk}
    return render(
        request,
        "payments/objection_detail.html",
        {
            "page_title": title,
            "breadcrumbs": [(_("Objections"), reverse("payments:objection_list")), (title, None)],
            "objection": objection,
            "form": form,
            "audit_entries": audit_trail(user=user, obj=objection),
        },
    )


# --- payment batches -----------------------------------------------------------------------


@capability_required(SETTLE)
def batch_list_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "payments/batch_list.html",
        {
            "page_title": _("Payment batches"),
            "batches": paginate(request, batch_list(user=acting_user(request))),
        },
    )


@capability_required(SETTLE)
def batch_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    candidates = {s.pk: s for s in batch_candidates(user=user)}
    form = BatchCreateForm(
        request.POST if request.method == "POST" else None,
        choices=[(pk, _label(s)) for pk, s in candidates.items()],
    )
    if form.is_valid():
        chosen = [candidates[int(pk)] for pk in form.cleaned_data["statements"]]
        batch = submit(
            form,
            services.batch_create,
            actor=user,
            statements=chosen,
            purpose=form.cleaned_data["purpose"],
        )
        if batch is not None:
            messages.success(request, _("Batch #%(id)s made.") % {"id": batch.pk})
            return redirect("payments:batch_detail", pk=batch.pk)
    title = _("New payment batch")
    return render_form_page(
        request,
        form=form,
        title=title,
        intro=_(
            "Issued statements whose public notice is over, with no objection pending and the "
            "company's bank details confirmed by the bureau."
        )
        if candidates
        else _("No statement can be paid now."),
        breadcrumbs=[(_("Payment batches"), reverse("payments:batch_list")), (title, None)],
        submit_label=_("Make the batch"),
        cancel_url=reverse("payments:batch_list"),
    )


def _batch_title(batch: PaymentBatch) -> str:
    return _("Payment batch #%(id)s") % {"id": batch.pk}


@capability_required(SETTLE)
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    batch = get_object_or_404(batch_list(user=user), pk=pk)
    payments = list(batch.payments.select_related("statement").order_by("payee", "pk"))
    return render(
        request,
        "payments/batch_detail.html",
        {
            "page_title": _batch_title(batch),
            "breadcrumbs": [
                (_("Payment batches"), reverse("payments:batch_list")),
                (_batch_title(batch), None),
            ],
            "batch": batch,
            "payments": payments,
            "total_label": glossary.TOTAL,
            "total_amount": sum(p.amount_yuan for p in payments),
            "total_offset": sum(p.offset_yuan for p in payments),
            "total_paid": sum(p.paid_yuan for p in payments),
            "downloads": [
                (_("Excel (XLSX)"), reverse("payment-batch-xlsx", args=[batch.pk])),
                (_("CSV"), reverse("payment-batch-csv", args=[batch.pk])),
            ],
            "audit_entries": audit_trail(user=user, obj=batch),
        },
    )


@capability_required(SETTLE)
def batch_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """Send the batch to the treasury (`issue`) or record its payment (`paid`)."""
    user = acting_user(request)
    batch = get_object_or_404(batch_list(user=user), pk=pk)
    data = request.POST if request.method == "POST" else None
    initial = version_initial(batch)
    detail = reverse("payments:batch_detail", args=[batch.pk])
    done: PaymentBatch | None = None
    form: BatchStepForm
    if step == "issue":
        form = BatchStepForm(data, initial=initial)
        title, button = _("Send to the treasury"), _("Send")
        intro = _("The payment file is final once sent.")
        if form.is_valid():
            done = submit(form, services.batch_issue, actor=user, batch=batch, **form.cleaned_data)
    elif step == "paid":
        paid_form = BatchPaidForm(
            data,
            initial=initial,
            payments=[(p.statement_id, p.payee) for p in batch.payments.order_by("payee", "pk")],
        )
        form = paid_form
        title, button = _("Record the payment"), _("Mark paid")
        intro = _(
            "The bank reference of each payment, as on the treasury's return. Not by whoever "
            "sent the batch."
        )
        if paid_form.is_valid():
            done = submit(
                form,
                services.batch_mark_paid,
                actor=user,
                batch=batch,
                references=paid_form.references(),
                reason=form.cleaned_data["reason"],
                seen_version=form.cleaned_data["seen_version"],
            )
    else:
        raise Http404
    if done is not None:
        messages.success(request, _("%(batch)s: done.") % {"batch": _batch_title(batch)})
        return redirect(detail)
    return render_form_page(
        request,
        form=form,
        title=title,
        subject=_batch_title(batch),
        intro=intro,
        breadcrumbs=[
            (_("Payment batches"), reverse("payments:batch_list")),
            (_batch_title(batch), detail),
            (title, None),
        ],
        submit_label=button,
        cancel_url=detail,
    )


# --- clawbacks -----------------------------------------------------------------------------


@capability_required(SETTLE)
def clawback_list_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "payments/clawback_list.html",
        {
            "page_title": _("Clawbacks"),
            "clawbacks": paginate(request, clawback_list(user=acting_user(request))),
        },
    )


@capability_required(SETTLE)
def clawback_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    paid = {s.pk: s for s in paid_statements(user=user)}
    form = ClawbackOpenForm(
        request.POST if request.method == "POST" else None,
        choices=[(pk, _label(s)) for pk, s in paid.items()],
        initial={"statement": request.GET.get("statement")},
    )
    if form.is_valid():
        data = dict(form.cleaned_data)
        clawback = submit(
            form,
            services.clawback_open,
            actor=user,
            statement=paid[data.pop("statement")],
            amount_yuan=data["amount_yuan"],
            penalty_yuan=data["penalty_yuan"] or ZERO,
            reason=data["reason"],
        )
        if clawback is not None:
            messages.success(request, _("Clawback #%(id)s opened.") % {"id": clawback.pk})
            return redirect("payments:clawback_detail", pk=clawback.pk)
    title = _("Open a clawback")
    return render_form_page(
        request,
        form=form,
        title=title,
        intro=_(
            "Money paid on a statement that proved wrong is owed back (legal basis: %(basis)s). "
            "A penalty is a separate receivable, never netted against a subsidy."
        )
        % {"basis": CLAWBACK_LEGAL_BASIS},
        breadcrumbs=[(_("Clawbacks"), reverse("payments:clawback_list")), (title, None)],
        submit_label=_("Open the clawback"),
        cancel_url=reverse("payments:clawback_list"),
    )


def _clawback_title(clawback: Clawback) -> str:
    return _("Clawback #%(id)s") % {"id": clawback.pk}


@capability_required(SETTLE)
def clawback_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    clawback = get_object_or_404(clawback_list(user=user), pk=pk)
    return render(
        request,
        "payments/clawback_detail.html",
        {
            "page_title": _clawback_title(clawback),
            "breadcrumbs": [
                (_("Clawbacks"), reverse("payments:clawback_list")),
                (_clawback_title(clawback), None),
            ],
            "clawback": clawback,
            "entries": clawback.entries.select_related("actor", "statement"),
            "audit_entries": audit_trail(user=user, obj=clawback),
        },
    )


@capability_required(SETTLE)
def clawback_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """Record the recovery (`recover`), the penalty's (`recover-penalty`), or withhold the
    amount from a later statement (`offset`)."""
    user = acting_user(request)
    clawback = get_object_or_404(clawback_list(user=user), pk=pk)
    data = request.POST if request.method == "POST" else None
    initial = version_initial(clawback)
    detail = reverse("payments:clawback_detail", args=[clawback.pk])
    done: Clawback | None = None
    form: BankReferenceForm | ClawbackOffsetForm
    if step in ("recover", "recover-penalty"):
        form = BankReferenceForm(data, initial=initial)
        penalty = step == "recover-penalty"
        title = _("Record the penalty's recovery") if penalty else _("Record the recovery")
        service = services.clawback_recover_penalty if penalty else services.clawback_recover
        if form.is_valid():
            done = submit(form, service, actor=user, clawback=clawback, **form.cleaned_data)
    elif step == "offset":
        targets = {s.pk: s for s in offset_candidates(user=user, clawback=clawback)}
        form = ClawbackOffsetForm(
            data,
            initial=initial,
            choices=[(pk, _label(s)) for pk, s in targets.items()],
        )
        title = _("Offset against a later statement")
        if form.is_valid():
            done = submit(
                form,
                services.clawback_offset,
                actor=user,
                clawback=clawback,
                against=targets[form.cleaned_data["against"]],
                seen_version=form.cleaned_data["seen_version"],
            )
    else:
        raise Http404
    if done is not None:
        messages.success(request, _("%(clawback)s: done.") % {"clawback": _clawback_title(done)})
        return redirect(detail)
    return render_form_page(
        request,
        form=form,
        title=title,
        subject=_("%(clawback)s · %(amount)s")
        % {"clawback": _clawback_title(clawback), "amount": yuan(clawback.amount_yuan)},
        breadcrumbs=[
            (_("Clawbacks"), reverse("payments:clawback_list")),
            (_clawback_title(clawback), detail),
            (title, None),
        ],
        submit_label=title,
        cancel_url=detail,
    )


# --- the working-day calendar ----------------------------------------------------------------


@dataclass(frozen=True)
class CalendarYear:
    """An entered year on the calendar page: the revision in effect and the earlier ones."""

    year: int
    in_effect: WorkCalendarYear
    superseded: list[WorkCalendarYear]


def _calendar_years() -> list[CalendarYear]:
    years: dict[int, list[WorkCalendarYear]] = {}
    for calendar in work_calendar_history():  # newest year and revision first
        years.setdefault(calendar.year, []).append(calendar)
    return [CalendarYear(year, found[0], found[1:]) for year, found in years.items()]


@capability_required(SETTLE)
def work_calendar(request: HttpRequest) -> HttpResponse:
    """The years the notice period can be counted in, and the form to enter a new one; with
    `?correct=<year>`, the form to correct an entered year by a new revision."""
    user = acting_user(request)
    data = request.POST if request.method == "POST" else None
    years = _calendar_years()
    correcting = _year_to_correct(request, years)
    if isinstance(correcting, HttpResponse):
        return correcting
    form: WorkCalendarForm | WorkCalendarCorrectForm
    if correcting is None:
        form = WorkCalendarForm(data)
    else:
        form = WorkCalendarCorrectForm(
            data,
            initial={
                "source": correcting.in_effect.source,
                "ranges": format_ranges(correcting.in_effect.days.all()),
                "seen_revision": correcting.in_effect.revision,
            },
        )
    if form.is_valid():
        try:
            ranges = parse_ranges(form.cleaned_data["ranges"])
        except ApplicationError as error:
            form.add_error("ranges", error.message)
        else:
            calendar = (
                submit(
                    form,
                    services.work_calendar_enter,
                    actor=user,
                    year=form.cleaned_data["year"],
                    source=form.cleaned_data["source"],
                    ranges=ranges,
                )
                if correcting is None
                else submit(
                    form,
                    services.work_calendar_correct,
                    actor=user,
                    year=correcting.year,
                    source=form.cleaned_data["source"],
                    ranges=ranges,
                    reason=form.cleaned_data["reason"],
                    seen_revision=form.cleaned_data["seen_revision"],
                )
            )
            if calendar is not None:
                messages.success(
                    request,
                    _("The %(year)s schedule is entered: notices may now run into %(year)s.")
                    % {"year": calendar.year}
                    if calendar.revision == 1
                    else _(
                        "The %(year)s schedule is corrected (revision %(revision)s): notices "
                        "issued from now count on it; those already running keep their dates."
                    )
                    % {"year": calendar.year, "revision": calendar.revision},
                )
                return redirect(f"{reverse('payments:work_calendar')}#year-{calendar.year}")
    known = package_years()
    return render(
        request,
        "payments/work_calendar.html",
        {
            "page_title": _("Working-day calendar"),
            "years": years,
            "package_first": known.start,
            "package_last": known.stop - 1,
            "form": form,
            "correcting": correcting,
        },
    )


def _year_to_correct(
    request: HttpRequest, years: list[CalendarYear]
) -> CalendarYear | HttpResponse | None:
    """The entered year `?correct=` names; a redirect saying why for one never entered."""
    asked = request.GET.get("correct")
    if asked is None:
        return None
    found = next((y for y in years if str(y.year) == asked), None)
    if found is None:
        messages.info(
            request,
            _("No schedule has been entered for %(year)s: there is nothing to correct.")
            % {"year": asked},
        )
        return redirect("payments:work_calendar")
    return found
