"""Web forms for incidents. They validate input only; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import Form, model_formfield

from .models import Incident


class IncidentReportForm(Form):
    report = model_formfield(
        Incident, "report", required=True, widget=forms.Textarea(attrs={"rows": 5})
    )
    cause = model_formfield(Incident, "cause", required=True)
    injured = model_formfield(Incident, "injured", required=True, min_value=0)
    damage = model_formfield(
        Incident,
        "damage",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("To vehicles, property or the road; leave empty if none."),
    )


class IncidentCloseForm(Form):
    reason = forms.CharField(
        label=_("Reason for closing"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded with the incident and in the audit trail. Closing is final."),
    )


class AdsEventImportForm(Form):
    file = forms.FileField(
        label=_("Event file"),
        help_text=_(
            "CSV with the columns time (ISO 8601 with its offset), vin, event, initiator, and "
            "optionally lat, lon, note; or JSON lines with the same keys. All or nothing: a "
            "refused line refuses the file. Events already recorded are not added again."
        ),
    )
