"""Web forms for trips. They validate input only; trips.services decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.forms import DateInput, Form
from operators.models import Operator, Vehicle

from .models import Trip


def _reason(*, required: bool) -> forms.CharField:
    return forms.CharField(
        label=_("Reason"),
        required=required,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded in the audit trail."),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is uploaded as a trip of its own."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        clean_one = super().clean
        files = list(data) if isinstance(data, list | tuple) else [data]
        # No file at all is cleaned as one empty file: "This field is required."
        return [clean_one(item, initial) for item in files or [None]]


class TripUploadForm(Form):
    """The upload page's fields. With JavaScript each file goes to POST /api/v1/trips/ on
    its own (progress and live status per file); without, the page posts them all here."""

    # The API takes the VIN, so the choice's value is the VIN.
    vehicle = forms.ModelChoiceField(
        label=_("Vehicle"), queryset=Vehicle.objects.none(), to_field_name="vin"
    )
    logs = MultipleFileField(
        label=_("Trip log files"),
        help_text=_(
            "CSV, GPX, GeoJSON, NMEA 0183 or Parquet; one file per trip, several at a time."
        ),
    )
    format = forms.ChoiceField(
        label=_("Format"),
        required=False,
        choices=[("", _("Detect from the content")), *Trip.Format.choices],
    )
    crs = forms.ChoiceField(
        label=_("Coordinates"),
        choices=[
            (Trip.Crs.WGS84, _("WGS-84 (satellite receivers)")),
            (Trip.Crs.GCJ02, _("GCJ-02 (shifted, from Chinese web maps)")),
        ],
        initial=Trip.Crs.WGS84,
    )
    mode = forms.ChoiceField(
        label=_("Driving mode"),
        required=False,
        choices=[("", _("As recorded in the file")), *Trip.Mode.choices],
        help_text=_("For files whose fixes carry no driving mode (GPX, NMEA)."),
    )

    def __init__(self, *args: Any, vehicles: QuerySet[Vehicle], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["vehicle"].queryset = vehicles  # type: ignore[attr-defined]


class TripFilterForm(Form):
    operator = forms.ModelChoiceField(
        label=_("Company"), required=False, queryset=Operator.objects.none()
    )
    vehicle = forms.ModelChoiceField(
        label=_("Vehicle"), required=False, queryset=Vehicle.objects.none()
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Trip.Status.choices]
    )
    started_from = forms.DateField(label=_("Started on or after"), required=False, widget=DateInput)
    started_to = forms.DateField(label=_("Started on or before"), required=False, widget=DateInput)

    def __init__(
        self,
        *args: Any,
        companies: QuerySet[Operator] | None,
        vehicles: QuerySet[Vehicle],
        **kwargs: Any,
    ) -> None:
        """`companies`: those to filter by, or None for company staff (who see only theirs)."""
        super().__init__(*args, **kwargs)
        if companies is None:
            del self.fields["operator"]
        else:
            self.fields["operator"].queryset = companies  # type: ignore[attr-defined]
        self.fields["vehicle"].queryset = vehicles  # type: ignore[attr-defined]

    def filter(self, trips: QuerySet[Trip]) -> QuerySet[Trip]:
        if not self.is_valid():
            return trips
        data = self.cleaned_data
        if data.get("operator"):
            trips = trips.filter(operator=data["operator"])
        if data["vehicle"]:
            trips = trips.filter(vehicle=data["vehicle"])
        if data["status"]:
            trips = trips.filter(status=data["status"])
        # Local (Asia/Shanghai) days: __date converts to the current time zone.
        if data["started_from"]:
            trips = trips.filter(started_at__date__gte=data["started_from"])
        if data["started_to"]:
            trips = trips.filter(started_at__date__lte=data["started_to"])
        return trips


class TripReviewForm(Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("Accept: the kilometres count")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    reason = _reason(required=True)


class TripReverifyForm(Form):
    reason = _reason(required=True)


class TripDeclareModeForm(Form):
    mode = forms.ChoiceField(
        label=_("Driving mode"),
        choices=Trip.Mode.choices,
        widget=forms.RadioSelect,
        help_text=_("The mode the whole trip was driven in."),
    )
    reason = _reason(required=False)


class TripWithdrawForm(Form):
    reason = _reason(required=True)
