"""Web forms for grades, the annual computation and statements. They validate input only;
the subsidies services decide (and `submit()` puts their refusals next to the fields)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.forms import DateInput, Form, VersionField, model_formfield
from operators.models import Operator

from .models import Assessment, Statement

FIRST_YEAR, LAST_YEAR = 2000, 2100


def year_field(*, required: bool = True) -> forms.IntegerField:
    return forms.IntegerField(
        label=_("Year"), required=required, min_value=FIRST_YEAR, max_value=LAST_YEAR
    )


AUDITED = _("Recorded in the audit trail.")


def _reason(help_text: Any = AUDITED) -> forms.CharField:
    return forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=help_text,
    )


class YearForm(Form):
    """The year a page shows (GET): grades, the computation summary, the public notice."""

    year = year_field()

    def year_or(self, default: int) -> int:
        return self.cleaned_data["year"] if self.is_valid() else default


class ComputeForm(Form):
    year = year_field()


class AssessmentForm(Form):
    grade = model_formfield(Assessment, "grade")
    score = model_formfield(Assessment, "score", help_text=_("Optional, 0 to 100."))
    notes = model_formfield(Assessment, "notes", widget=forms.Textarea(attrs={"rows": 4}))
    reason = _reason(_("Why the grade changes; recorded in the audit trail."))
    seen_version = VersionField()


class GradeAcceptForm(Form):
    """Accept the scorecard's proposal (a button beside the grade form): the grade the
    button named, and the grade's version when it was drawn."""

    grade = forms.ChoiceField(
        choices=Assessment.Grade.choices, required=False, widget=forms.HiddenInput
    )
    seen_version = VersionField()


class StatementActionForm(Form):
    """Approve, issue or mark paid. The field is not called `reason`: the services use that
    name for the statement's own reason (e.g. "no grade yet") when they refuse."""

    comment = _reason()
    seen_version = VersionField()


class StatementIssueForm(StatementActionForm):
    """Issue under a document number (文号) and date."""

    document_number = forms.CharField(
        label=_("Document number"), max_length=100, help_text=_("Unique, e.g. 阳财建〔2026〕12号.")
    )
    issued_on = forms.DateField(
        label=_("Issued on"), required=False, widget=DateInput, help_text=_("Default: today.")
    )


class StatementFilterForm(Form):
    year = year_field(required=False)
    operator = forms.ModelChoiceField(
        label=_("Company"), required=False, queryset=Operator.objects.none(), empty_label=_("All")
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Statement.Status.choices]
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All")), *Statement.Kind.choices]
    )

    def __init__(self, *args: Any, companies: QuerySet[Operator] | None, **kwargs: Any) -> None:
        """`companies`: those to filter by, or None for company staff (who see only theirs)."""
        super().__init__(*args, **kwargs)
        if companies is None:
            del self.fields["operator"]
        else:
            self.fields["operator"].queryset = companies  # type: ignore[attr-defined]

    def filter(self, statements: QuerySet[Statement]) -> QuerySet[Statement]:
        if not self.is_valid():
            return statements
        data = self.cleaned_data
        if data["year"]:
            statements = statements.filter(year=data["year"])
        if data.get("operator"):
            statements = statements.filter(operator=data["operator"])
        if data["status"]:
            statements = statements.filter(status=data["status"])
        if data["kind"]:
            statements = statements.filter(kind=data["kind"])
        return statements
