"""The public objection form and finance's forms. They validate input only; the services
decide."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import Form, VersionField


class ObjectionForm(Form):
    statement = forms.IntegerField(widget=forms.HiddenInput)
    name = forms.CharField(label=_("Your name"), max_length=100)
    contact = forms.CharField(
        label=_("Contact"), max_length=200, help_text=_("A phone number or an address.")
    )
    text = forms.CharField(
        label=_("Objection"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )


class ScheduleForm(Form):
    """A year's whole schedule: its source and its lines (payments/workdays.parse_ranges)."""

    source = forms.CharField(
        label=_("Source"),
        max_length=200,
        help_text=_("The State Council's notice, e.g. 国办发明电〔2026〕7号."),
    )
    ranges = forms.CharField(
        label=_("Holidays and make-up working days"),
        widget=forms.Textarea(attrs={"rows": 12, "class": "mono"}),
        help_text=_(
            "One line each: a day or a range, holiday or workday, and its name, e.g. "
            "“2027-02-06..2027-02-13 holiday 春节” and “2027-02-14 workday 春节调休”. "
            "Other weekdays are working days and other weekends are off."
        ),
    )


class WorkCalendarForm(ScheduleForm):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)

    field_order = ["year", "source", "ranges"]


class WorkCalendarCorrectForm(ScheduleForm):
    """A new revision of an entered year: the whole schedule again, and why."""

    reason = forms.CharField(
        label=_("Reason for the correction"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was wrong in the revision in effect; shown beside the new revision."),
    )
    # The revision the correction was made from: refused if a newer one came since.
    seen_revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)


class ObjectionResolveForm(Form):
    outcome = forms.ChoiceField(
        label=_("Decision"),
        choices=[("upheld", _("Uphold")), ("dismissed", _("Dismiss"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    seen_version = VersionField()


class BatchCreateForm(Form):
    statements = forms.MultipleChoiceField(
        label=_("Statements"), widget=forms.CheckboxSelectMultiple
    )
    purpose = forms.CharField(
        label=_("Purpose"),
        max_length=200,
        required=False,
        help_text=_("Left empty: “Autonomous-driving pilot subsidy”."),
    )

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["statements"].choices = choices  # type: ignore[attr-defined]  # a ChoiceField


class BatchStepForm(Form):
    reason = forms.CharField(label=_("Comment"), required=False, max_length=500)
    seen_version = VersionField()


class BatchPaidForm(BatchStepForm):
    """One bank reference per payment of the batch (fields `ref_<statement id>`)."""

    def __init__(self, *args: Any, payments: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for statement_id, label in payments:
            self.fields[f"ref_{statement_id}"] = forms.CharField(label=label, max_length=100)
        self.order_fields([f"ref_{pk}" for pk, _label in payments])

    def references(self) -> dict[int, str]:
        return {
            int(name.removeprefix("ref_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("ref_")
        }


class ClawbackOpenForm(Form):
    statement = forms.TypedChoiceField(label=_("Paid statement"), coerce=int)
    amount_yuan = forms.DecimalField(
        label=_("To recover (yuan)"), max_digits=14, decimal_places=2, min_value=Decimal("0.01")
    )
    penalty_yuan = forms.DecimalField(
        label=_("Penalty (yuan)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal(0),
        required=False,
        help_text=_("A separate receivable, recovered by bank on its own; leave empty for none."),
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["statement"].choices = choices  # type: ignore[attr-defined]  # a ChoiceField


class BankReferenceForm(Form):
    bank_reference = forms.CharField(label=_("Bank reference"), max_length=100)
    seen_version = VersionField()


class ClawbackOffsetForm(Form):
    against = forms.TypedChoiceField(label=_("Offset against"), coerce=int)
    seen_version = VersionField()

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["against"].choices = choices  # type: ignore[attr-defined]  # a ChoiceField
