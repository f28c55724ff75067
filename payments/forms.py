"""The public objection form. It validates input only; the service decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import Form


class ObjectionForm(Form):
    statement = forms.IntegerField(widget=forms.HiddenInput)
    name = forms.CharField(label=_("Your name"), max_length=100)
    contact = forms.CharField(
        label=_("Contact"), max_length=200, help_text=_("A phone number or an address.")
    )
    text = forms.CharField(
        label=_("Objection"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
