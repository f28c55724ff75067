"""Web forms for companies and vehicles. They validate input only; the services decide."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from core.forms import Form, VersionField, model_formfield

from .identifiers import normalise_plate, normalise_vin
from .models import Operator, Vehicle
from .throttling import client_address, login_wait_s

PERMIT_WARNING_DAYS = 30


def _reason(*, required: bool) -> forms.CharField:
    return forms.CharField(
        label=_("Reason"),
        required=required,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded in the audit trail."),
    )


def _next_statuses(
    model: type[Operator] | type[Vehicle], current: str, excluded: str
) -> list[tuple[str, str]]:
    """The statuses the model's TRANSITIONS allow from `current`, less the approval one."""
    allowed = model.TRANSITIONS[current] - {excluded}
    return [(value, str(label)) for value, label in model.Status.choices if value in allowed]


class OperatorForm(Form):
    name = model_formfield(Operator, "name")
    # Wider than the 18 characters stored: people paste codes with spaces or dashes.
    credit_code = model_formfield(Operator, "credit_code", max_length=40)
    settled_on = model_formfield(Operator, "settled_on")
    contact_name = model_formfield(Operator, "contact_name")
    contact_phone = model_formfield(Operator, "contact_phone")
    contact_email = model_formfield(Operator, "contact_email")


class OperatorAdmitForm(Form):
    pilot_admitted_on = model_formfield(Operator, "pilot_admitted_on", required=True)
    reason = _reason(required=False)
    seen_version = VersionField()


class OperatorStatusForm(Form):
    status = forms.ChoiceField(label=_("New status"))
    reason = _reason(required=True)
    seen_version = VersionField()

    def __init__(self, *args: Any, operator: Operator, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = _next_statuses(  # type: ignore[attr-defined]
            Operator, operator.status, Operator.Status.ADMITTED
        )


class VehicleForm(Form):
    """Propose a vehicle. Government staff also choose the company."""

    operator = forms.ModelChoiceField(label=_("Company"), queryset=Operator.objects.none())
    vin = model_formfield(
        Vehicle,
        "vin",
        max_length=30,
        help_text=_("17 characters; the 9th is a check digit."),
    )
    plate = model_formfield(
        Vehicle, "plate", max_length=12, help_text=_("For example 晋C12345 or 晋CD12345.")
    )
    category = model_formfield(Vehicle, "category")

    def __init__(self, *args: Any, companies: QuerySet[Operator] | None, **kwargs: Any) -> None:
        """`companies`: those the user may choose from, or None for company staff (their own)."""
        super().__init__(*args, **kwargs)
        if companies is None:
            del self.fields["operator"]
        else:
            self.fields["operator"].queryset = companies  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        """Every error at once, not in rounds: the model's validators (VIN check digit, plate
        format) and uniqueness run here beside the fields' own checks, on the values the
        service will store. The service checks them all again (`full_clean`)."""
        data = super().clean() or {}
        checked = {"vin", "plate", "category"} - set(self.errors)
        if not checked:
            return data
        vehicle = Vehicle(
            vin=normalise_vin(data.get("vin") or ""),
            plate=normalise_plate(data.get("plate") or ""),
            category=data.get("category") or "",
        )
        exclude = {f.name for f in Vehicle._meta.fields} - checked
        try:
            vehicle.full_clean(exclude=exclude, validate_constraints=False)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                if name in checked:
                    self.add_error(name, messages)
        return data


class VehicleEditForm(Form):
    """What can be corrected on a vehicle; the VIN identifies it and never changes."""

    plate = model_formfield(Vehicle, "plate", max_length=12)
    category = model_formfield(Vehicle, "category")
    seen_version = VersionField()


class VehicleApproveForm(Form):
    permit_number = model_formfield(Vehicle, "permit_number", required=True)
    permit_valid_from = model_formfield(Vehicle, "permit_valid_from", required=True)
    permit_valid_to = model_formfield(Vehicle, "permit_valid_to", required=True)
    reason = _reason(required=False)
    seen_version = VersionField()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("permit_valid_from"), data.get("permit_valid_to")
        if start and end and end < start:
            self.add_error("permit_valid_to", _("The permit cannot end before it starts."))
        return data


class VehicleStatusForm(Form):
    status = forms.ChoiceField(label=_("New status"))
    reason = _reason(required=True)
    seen_version = VersionField()

    def __init__(self, *args: Any, vehicle: Vehicle, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = _next_statuses(  # type: ignore[attr-defined]
            Vehicle, vehicle.status, Vehicle.Status.APPROVED
        )


class BankRequestForm(Form):
    bank_name = forms.CharField(label=_("Bank"), max_length=200)
    bank_account = forms.CharField(
        label=_("Account number"), max_length=60, help_text=_("8 to 40 digits; spaces are ignored.")
    )


class BankDecideForm(Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("confirm", _("Confirm")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)
    seen_version = VersionField()


class CompanyFilterForm(Form):
    q = forms.CharField(label=_("Name or credit code"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Operator.Status.choices]
    )

    def filter(self, companies: QuerySet[Operator]) -> QuerySet[Operator]:
        if not self.is_valid():
            return companies
        if q := self.cleaned_data["q"].strip():
            companies = companies.filter(Q(name__icontains=q) | Q(credit_code__icontains=q))
        if status := self.cleaned_data["status"]:
            companies = companies.filter(status=status)
        return companies


class VehicleFilterForm(Form):
    PERMIT_CHOICES = [
        ("", _("All")),
        ("expired", _("Expired")),
        ("expiring", _("Expiring within 30 days")),
    ]

    q = forms.CharField(label=_("Plate or VIN"), required=False)
    operator = forms.ModelChoiceField(
        label=_("Company"), required=False, queryset=Operator.objects.none(), empty_label=_("All")
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Vehicle.Status.choices]
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All")), *Vehicle.Category.choices]
    )
    permit = forms.ChoiceField(label=_("Permit"), required=False, choices=PERMIT_CHOICES)

    def __init__(self, *args: Any, companies: QuerySet[Operator] | None, **kwargs: Any) -> None:
        """`companies`: those to filter by, or None for company staff (who see only theirs)."""
        super().__init__(*args, **kwargs)
        if companies is None:
            del self.fields["operator"]
        else:
            self.fields["operator"].queryset = companies  # type: ignore[attr-defined]

    def filter(self, vehicles: QuerySet[Vehicle], *, today: dt.date) -> QuerySet[Vehicle]:
        if not self.is_valid():
            return vehicles
        data = self.cleaned_data
        if q := data["q"].strip():
            vehicles = vehicles.filter(Q(plate__icontains=q) | Q(vin__icontains=q.upper()))
        if data.get("operator"):
            vehicles = vehicles.filter(operator=data["operator"])
        if data["status"]:
            vehicles = vehicles.filter(status=data["status"])
        if data["category"]:
            vehicles = vehicles.filter(category=data["category"])
        if data["permit"] == "expired":
            vehicles = vehicles.filter(permit_valid_to__lt=today)
        elif data["permit"] == "expiring":
            horizon = today + dt.timedelta(days=PERMIT_WARNING_DAYS)
            vehicles = vehicles.filter(permit_valid_to__gte=today, permit_valid_to__lte=horizon)
        return vehicles


class LoginForm(AuthenticationForm):
    """The login form, labelled like the UI's other forms, saying so when the login throttle
    holds (the backend refuses then anyway; this only gives the reason)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username and self.request is not None:
            wait = login_wait_s(username=username, address=client_address(self.request))
            if wait is not None:
                raise ValidationError(
                    _("Too many failed logins. Try again in %(minutes)d minutes."),
                    code="throttled",
                    params={"minutes": math.ceil(wait / 60)},
                )
        return super().clean()
