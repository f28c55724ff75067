"""Web pages for companies and vehicles. Thin: a form validates, a selector reads (scoped to
the user, so another company's object is a 404), a service writes (`submit` maps refusals
onto the form's fields).

Pages on one object look it up before checking the role, so an object the user cannot see
is a 404 and only a visible one may answer 403 (docs/architecture.md, "Errors").
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, CharField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.forms import submit
from core.roles import MANAGE_COMPANIES, PROPOSE_VEHICLES, SEE_ALL_COMPANIES, Role
from core.services import require
from core.versions import VERSION_FIELD, version_initial
from core.web import (
    acting_user,
    audit_trail,
    capability_required,
    counts_by_status,
    paginate,
    render_form_page,
)

from . import services
from .forms import (
    PERMIT_WARNING_DAYS,
    BankDecideForm,
    BankRequestForm,
    CompanyFilterForm,
    OperatorAdmitForm,
    OperatorForm,
    OperatorStatusForm,
    VehicleApproveForm,
    VehicleEditForm,
    VehicleFilterForm,
    VehicleForm,
    VehicleStatusForm,
)
from .models import BankDetailsChange, Operator, User, Vehicle, mask_account
from .selectors import operator_list, vehicle_list

# ---- permits ---------------------------------------------------------------------------

# A vehicle in these states has no permit whose expiry matters.
NO_PERMIT_STATUSES = (Vehicle.Status.PROPOSED, Vehicle.Status.REJECTED, Vehicle.Status.RETIRED)


def with_permit_state(vehicles: QuerySet[Vehicle], *, today: dt.date) -> QuerySet[Vehicle]:
    """Annotate `permit_state`: expired, expiring (within 30 days), future, valid, or ""
    when there is no permit that matters (proposed, rejected, retired)."""
    horizon = today + dt.timedelta(days=PERMIT_WARNING_DAYS)
    return vehicles.annotate(
        permit_state=Case(
            When(status__in=NO_PERMIT_STATUSES, then=Value("")),
            When(permit_valid_to__isnull=True, then=Value("")),
            When(permit_valid_to__lt=today, then=Value("expired")),
            When(permit_valid_to__lte=horizon, then=Value("expiring")),
            When(permit_valid_from__gt=today, then=Value("future")),
            default=Value("valid"),
            output_field=CharField(),
        )
    )


def permit_alerts(vehicles: QuerySet[Vehicle], *, today: dt.date) -> QuerySet[Vehicle]:
    """Vehicles in service whose permit has expired or expires within 30 days, soonest first."""
    horizon = today + dt.timedelta(days=PERMIT_WARNING_DAYS)
    soon = vehicles.exclude(status__in=NO_PERMIT_STATUSES).filter(permit_valid_to__lte=horizon)
    return with_permit_state(soon, today=today).order_by("permit_valid_to", "plate")


def dashboard(*, user: User, today: dt.date) -> dict[str, Any]:
    """This app's share of the home page's cards (templates/operators/_dashboard_cards.html)."""
    vehicles = vehicle_list(user=user)
    vehicle_counts = counts_by_status(vehicles)
    context: dict[str, Any] = {
        "vehicle_counts": [
            (value, label, vehicle_counts.get(value, 0)) for value, label in Vehicle.Status.choices
        ],
        "vehicles_total": sum(vehicle_counts.values()),
        "permit_alerts": list(permit_alerts(vehicles, today=today)[:8]),
        "warning_days": PERMIT_WARNING_DAYS,
    }
    if user.role == Role.OPERATOR:
        context["company"] = operator_list(user=user).first()
    else:
        company_counts = counts_by_status(operator_list(user=user))
        context["company_counts"] = [
            (value, label, company_counts.get(value, 0)) for value, label in Operator.Status.choices
        ]
    return context


def _no_longer_applies(request: HttpRequest, message: str, url: str) -> HttpResponse:
    """A page for an action that no longer applies is not offered: back to the object,
    saying why (a bookmark, a second tab, the back button). A POST from such a page still
    reaches the service, which refuses it (a stale form by its version) above the form."""
    messages.info(request, message)
    return redirect(url)


def _can_admit(company: Operator) -> bool:
    return Operator.Status.ADMITTED in Operator.TRANSITIONS[company.status]


def _company_statuses(company: Operator) -> bool:
    return bool(Operator.TRANSITIONS[company.status] - {Operator.Status.ADMITTED})


def _can_approve(vehicle: Vehicle) -> bool:
    return (
        vehicle.status == Vehicle.Status.APPROVED
        or Vehicle.Status.APPROVED in Vehicle.TRANSITIONS[vehicle.status]
    )


def _vehicle_statuses(vehicle: Vehicle) -> bool:
    return bool(Vehicle.TRANSITIONS[vehicle.status] - {Vehicle.Status.APPROVED})


# ---- companies -------------------------------------------------------------------------


def _company_crumbs(
    company: Operator | None = None, *, user: User | None = None
) -> list[tuple[str, str | None]]:
    """Companies › the company; company staff, who have no list of companies, start at their
    own company's page (`user` given and not government)."""
    crumbs: list[tuple[str, str | None]] = []
    if user is None or user.is_government:
        crumbs.append((_("Companies"), reverse("operators:company_list")))
    if company is not None:
        crumbs.append((company.name, reverse("operators:company_detail", args=[company.pk])))
    return crumbs


@capability_required(SEE_ALL_COMPANIES)
def company_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    filter_form = CompanyFilterForm(request.GET or None)
    companies = filter_form.filter(operator_list(user=user))
    return render(
        request,
        "operators/company_list.html",
        {
            "page_title": _("Companies"),
            "breadcrumbs": [(_("Companies"), None)],
            "filter_form": filter_form,
            "page_obj": paginate(request, companies),
            "can_manage": MANAGE_COMPANIES.allows(user),
        },
    )


@login_required
def company_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Open to company staff for their own company; any other id is a 404."""
    user = acting_user(request)
    company = get_object_or_404(operator_list(user=user), pk=pk)
    today = timezone.localdate()
    can_manage = MANAGE_COMPANIES.allows(user)
    vehicles = with_permit_state(vehicle_list(user=user).filter(operator=company), today=today)
    pending = _pending_bank_change(company)
    return render(
        request,
        "operators/company_detail.html",
        {
            "page_title": company.name,
            "breadcrumbs": _company_crumbs(company, user=user),
            "company": company,
            "vehicles": vehicles,
            "can_manage": can_manage,
            "can_admit": can_manage and _can_admit(company),
            "can_change_status": can_manage and _company_statuses(company),
            "masked_account": mask_account(company.bank_account),
            "pending_bank_change": pending,
            "pending_masked": mask_account(pending.bank_account) if pending else "",
            "audit_entries": audit_trail(user=user, obj=company),
        },
    )


@capability_required(MANAGE_COMPANIES)
def company_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = OperatorForm(request.POST or None)
    if form.is_valid():
        data = dict(form.cleaned_data)
        company = submit(
            form,
            services.operator_create,
            actor=user,
            name=data.pop("name"),
            credit_code=data.pop("credit_code"),
            **data,
        )
        if company is not None:
            messages.success(request, _("Company “%(name)s” registered.") % {"name": company.name})
            return redirect("operators:company_detail", pk=company.pk)
    return render_form_page(
        request,
        form=form,
        title=_("Register a company"),
        breadcrumbs=[*_company_crumbs(), (_("Register a company"), None)],
        submit_label=_("Register"),
        cancel_url=reverse("operators:company_list"),
    )


@login_required
def company_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    company = get_object_or_404(operator_list(user=user), pk=pk)
    require(user, MANAGE_COMPANIES)
    initial = {name: getattr(company, name) for name in OperatorForm.base_fields}
    form = OperatorForm(request.POST or None, initial=initial)
    if form.is_valid():
        changed = {k: v for k, v in form.cleaned_data.items() if k in form.changed_data}
        done = submit(form, services.operator_update, actor=user, operator=company, data=changed)
        if done is not None:
            messages.success(request, _("Changes saved."))
            return redirect("operators:company_detail", pk=company.pk)
    return render_form_page(
        request,
        form=form,
        title=_("Edit company details"),
        breadcrumbs=[*_company_crumbs(company), (_("Edit"), None)],
        submit_label=_("Save"),
        cancel_url=reverse("operators:company_detail", args=[company.pk]),
    )


@login_required
def company_admit(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    company = get_object_or_404(operator_list(user=user), pk=pk)
    require(user, MANAGE_COMPANIES)
    detail_url = reverse("operators:company_detail", args=[company.pk])
    if request.method == "GET" and not _can_admit(company):
        return _no_longer_applies(
            request,
            _("“%(name)s” is %(status)s: there is nothing to admit.")
            % {"name": company.name, "status": company.get_status_display()},
            detail_url,
        )
    form = OperatorAdmitForm(request.POST or None, initial=version_initial(company))
    if form.is_valid():
        done = submit(
            form, services.operator_admit, actor=user, operator=company, **form.cleaned_data
        )
        if done is not None:
            messages.success(
                request, _("“%(name)s” is admitted to the pilot.") % {"name": company.name}
            )
            return redirect("operators:company_detail", pk=company.pk)
    return render_form_page(
        request,
        form=form,
        title=_("Admit to the pilot"),
        subject=company.name,
        intro=_("Kilometres count from the later of the settling date and the admission date."),
        breadcrumbs=[*_company_crumbs(company), (_("Admit to the pilot"), None)],
        submit_label=_("Admit"),
        cancel_url=reverse("operators:company_detail", args=[company.pk]),
    )


@login_required
def company_status(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    company = get_object_or_404(operator_list(user=user), pk=pk)
    require(user, MANAGE_COMPANIES)
    if request.method == "GET" and not _company_statuses(company):
        return _no_longer_applies(
            request,
            _("“%(name)s” is %(status)s: its status cannot change any more.")
            % {"name": company.name, "status": company.get_status_display()},
            reverse("operators:company_detail", args=[company.pk]),
        )
    form = OperatorStatusForm(
        request.POST or None, operator=company, initial=version_initial(company)
    )
    if form.is_valid():
        done = submit(
            form, services.operator_set_status, actor=user, operator=company, **form.cleaned_data
        )
        if done is not None:
            messages.success(request, _("Status changed."))
            return redirect("operators:company_detail", pk=company.pk)
    return render_form_page(
        request,
        form=form,
        title=_("Suspend or withdraw"),
        subject=company.name,
        breadcrumbs=[*_company_crumbs(company), (_("Suspend or withdraw"), None)],
        submit_label=_("Change status"),
        cancel_url=reverse("operators:company_detail", args=[company.pk]),
        danger=True,
    )


# ---- vehicles --------------------------------------------------------------------------


def _vehicle_crumbs(user: User, vehicle: Vehicle | None = None) -> list[tuple[str, str | None]]:
    label = _("My vehicles") if user.role == Role.OPERATOR else _("Vehicles")
    crumbs: list[tuple[str, str | None]] = [(label, reverse("operators:vehicle_list"))]
    if vehicle is not None:
        crumbs.append((vehicle.plate, reverse("operators:vehicle_detail", args=[vehicle.pk])))
    return crumbs


def _companies_to_choose(user: User) -> QuerySet[Operator] | None:
    """Government staff choose among the companies they see; company staff have only theirs."""
    return None if user.role == Role.OPERATOR else operator_list(user=user)


@login_required
def vehicle_list_page(request: HttpRequest) -> HttpResponse:
    """Company staff: my vehicles. Government: every company's, with a company filter."""
    user = acting_user(request)
    today = timezone.localdate()
    filter_form = VehicleFilterForm(request.GET or None, companies=_companies_to_choose(user))
    vehicles = with_permit_state(
        filter_form.filter(vehicle_list(user=user), today=today), today=today
    )
    title = _("My vehicles") if user.role == Role.OPERATOR else _("Vehicles")
    return render(
        request,
        "operators/vehicle_list.html",
        {
            "page_title": title,
            "breadcrumbs": [(title, None)],
            "filter_form": filter_form,
            "page_obj": paginate(request, vehicles),
            "show_company": user.role != Role.OPERATOR,
            "can_propose": PROPOSE_VEHICLES.allows(user),
            "warning_days": PERMIT_WARNING_DAYS,
        },
    )


@login_required
def vehicle_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    today = timezone.localdate()
    vehicle = get_object_or_404(with_permit_state(vehicle_list(user=user), today=today), pk=pk)
    can_manage = MANAGE_COMPANIES.allows(user)
    return render(
        request,
        "operators/vehicle_detail.html",
        {
            "page_title": vehicle.plate,
            "breadcrumbs": _vehicle_crumbs(user, vehicle),
            "vehicle": vehicle,
            "is_company": user.role == Role.OPERATOR,
            "can_edit": services.vehicle_changeable_by(user, vehicle),
            "can_approve": can_manage and _can_approve(vehicle),
            "can_change_status": can_manage and _vehicle_statuses(vehicle),
            "warning_days": PERMIT_WARNING_DAYS,
            "audit_entries": audit_trail(user=user, obj=vehicle),
        },
    )


@capability_required(PROPOSE_VEHICLES)
def vehicle_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = VehicleForm(
        request.POST or None,
        companies=_companies_to_choose(user),
        initial={"operator": request.GET.get("operator")},
    )
    if form.is_valid():
        vehicle = submit(form, services.vehicle_propose, actor=user, **form.cleaned_data)
        if vehicle is not None:
            messages.success(
                request,
                _("Vehicle %(plate)s proposed; the transport bureau will review its permit.")
                % {"plate": vehicle.plate},
            )
            return redirect("operators:vehicle_detail", pk=vehicle.pk)
    return render_form_page(
        request,
        form=form,
        title=_("Propose a vehicle"),
        breadcrumbs=[*_vehicle_crumbs(user), (_("Propose a vehicle"), None)],
        submit_label=_("Propose"),
        cancel_url=reverse("operators:vehicle_list"),
    )


@login_required
def vehicle_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    vehicle = get_object_or_404(vehicle_list(user=user), pk=pk)
    require(user, PROPOSE_VEHICLES)
    if request.method == "GET" and not services.vehicle_changeable_by(user, vehicle):
        return _no_longer_applies(
            request,
            _("An approved vehicle can only be changed by the transport bureau."),
            reverse("operators:vehicle_detail", args=[vehicle.pk]),
        )
    form = VehicleEditForm(
        request.POST or None,
        initial={"plate": vehicle.plate, "category": vehicle.category, **version_initial(vehicle)},
    )
    if form.is_valid():
        changed = {
            k: v
            for k, v in form.cleaned_data.items()
            if k in form.changed_data and k != VERSION_FIELD
        }
        done = submit(
            form,
            services.vehicle_update,
            actor=user,
            vehicle=vehicle,
            data=changed,
            seen_version=form.cleaned_data[VERSION_FIELD],
        )
        if done is not None:
            messages.success(request, _("Changes saved."))
            return redirect("operators:vehicle_detail", pk=vehicle.pk)
    return render_form_page(
        request,
        form=form,
        title=_("Edit vehicle"),
        subject=str(vehicle),
        breadcrumbs=[*_vehicle_crumbs(user, vehicle), (_("Edit"), None)],
        submit_label=_("Save"),
        cancel_url=reverse("operators:vehicle_detail", args=[vehicle.pk]),
    )


@login_required
def vehicle_approve(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    vehicle = get_object_or_404(vehicle_list(user=user), pk=pk)
    require(user, MANAGE_COMPANIES)
    if request.method == "GET" and not _can_approve(vehicle):
        return _no_longer_applies(
            request,
            _("%(plate)s is %(status)s: its permit cannot be approved.")
            % {"plate": vehicle.plate, "status": vehicle.get_status_display()},
            reverse("operators:vehicle_detail", args=[vehicle.pk]),
        )
    form = VehicleApproveForm(
        request.POST or None,
        initial={
            "permit_number": vehicle.permit_number,
            "permit_valid_from": vehicle.permit_valid_from,
            "permit_valid_to": vehicle.permit_valid_to,
            **version_initial(vehicle),
        },
    )
    if form.is_valid():
        done = submit(
            form, services.vehicle_approve, actor=user, vehicle=vehicle, **form.cleaned_data
        )
        if done is not None:
            messages.success(request, _("Permit of %(plate)s approved.") % {"plate": done.plate})
            return redirect("operators:vehicle_detail", pk=vehicle.pk)
    renewal = vehicle.status == Vehicle.Status.APPROVED
    title = _("Renew the permit") if renewal else _("Approve the permit")
    return render_form_page(
        request,
        form=form,
        title=title,
        subject=f"{vehicle} · {vehicle.operator.name}",
        breadcrumbs=[*_vehicle_crumbs(user, vehicle), (title, None)],
        submit_label=_("Approve"),
        cancel_url=reverse("operators:vehicle_detail", args=[vehicle.pk]),
    )


@login_required
def vehicle_status(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    vehicle = get_object_or_404(vehicle_list(user=user), pk=pk)
    require(user, MANAGE_COMPANIES)
    if request.method == "GET" and not _vehicle_statuses(vehicle):
        return _no_longer_applies(
            request,
            _("%(plate)s is %(status)s: its status cannot change any more.")
            % {"plate": vehicle.plate, "status": vehicle.get_status_display()},
            reverse("operators:vehicle_detail", args=[vehicle.pk]),
        )
    form = VehicleStatusForm(
        request.POST or None, vehicle=vehicle, initial=version_initial(vehicle)
    )
    if form.is_valid():
        done = submit(
            form, services.vehicle_set_status, actor=user, vehicle=vehicle, **form.cleaned_data
        )
        if done is not None:
            messages.success(request, _("Status changed."))
            return redirect("operators:vehicle_detail", pk=vehicle.pk)
    return render_form_page(
        request,
        form=form,
        title=_("Reject, suspend or retire"),
        subject=f"{vehicle} · {vehicle.operator.name}",
        breadcrumbs=[*_vehicle_crumbs(user, vehicle), (_("Reject, suspend or retire"), None)],
        submit_label=_("Change status"),
        cancel_url=reverse("operators:vehicle_detail", args=[vehicle.pk]),
        danger=True,
    )


# --- bank details: the company (or government staff) asks, the bureau confirms ---------------


def _pending_bank_change(company: Operator) -> BankDetailsChange | None:
    return company.bank_changes.filter(status=BankDetailsChange.Status.PENDING).first()


@login_required
def bank_request(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    company = get_object_or_404(operator_list(user=user), pk=pk)
    form = BankRequestForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        change = submit(
            form, services.bank_details_request, actor=user, operator=company, **form.cleaned_data
        )
        if change is not None:
            messages.success(request, _("The change is waiting for the bureau's confirmation."))
            return redirect("operators:company_detail", pk=company.pk)
    title = _("Change the bank details")
    return render_form_page(
        request,
        form=form,
        title=title,
        subject=company.name,
        intro=_(
            "Subsidies are paid to this account once the transport bureau confirms the change; "
            "until then they go to the current one."
        ),
        breadcrumbs=[*_company_crumbs(company, user=user), (title, None)],
        submit_label=_("Ask for the change"),
        cancel_url=reverse("operators:company_detail", args=[company.pk]),
    )


@capability_required(MANAGE_COMPANIES)
def bank_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    company = get_object_or_404(operator_list(user=user), pk=pk)
    change = _pending_bank_change(company)
    if change is None:
        messages.info(request, _("No change of the bank details is waiting."))
        return redirect("operators:company_detail", pk=company.pk)
    form = BankDecideForm(
        request.POST if request.method == "POST" else None, initial=version_initial(change)
    )
    if form.is_valid():
        data = dict(form.cleaned_data)
        done = submit(
            form,
            services.bank_details_decide,
            actor=user,
            change=change,
            confirm=data.pop("decision") == "confirm",
            **data,
        )
        if done is not None:
            messages.success(
                request, _("Decided: %(status)s.") % {"status": done.get_status_display()}
            )
            return redirect("operators:company_detail", pk=company.pk)
    title = _("Confirm or reject the change")
    return render_form_page(
        request,
        form=form,
        title=title,
        subject=_("%(bank)s · %(account)s, asked by %(who)s")
        % {
            "bank": change.bank_name,
            "account": mask_account(change.bank_account),
            "who": change.requested_by,
        },
        intro=_(
            "Before confirming, check the new account with the company by a channel you trust."
        ),
        breadcrumbs=[*_company_crumbs(company), (title, None)],
        submit_label=_("Decide"),
        cancel_url=reverse("operators:company_detail", args=[company.pk]),
    )
