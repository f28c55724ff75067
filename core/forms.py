"""Web form pieces every app's pages share: the base form and the service-error mapping.

Forms only validate input; a view then calls a service through `submit()`, which puts a
refusal (`ApplicationError`) or a model validation error next to the field it names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models

from .errors import ApplicationError

P = ParamSpec("P")
T = TypeVar("T")


class Form(forms.Form):
    """Base of the UI's forms: marks required labels (CSS adds the asterisk)."""

    required_css_class = "required"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Labels stand above their fields, so no colon (and none to translate).
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class DateInput(forms.DateInput):
    """The browser's date picker; its value is always ISO (YYYY-MM-DD) whatever the language."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class VersionField(forms.IntegerField):
    """The object's version when the page was drawn, in a hidden input; the service refuses
    the form when the object changed since (core/versions.py). Name it `seen_version`, give
    it its initial value with `core.versions.version_initial(obj)`, and pass it on with the
    rest of `cleaned_data` to a service that takes `seen_version: int | None = None`."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 0)
        super().__init__(**kwargs)


def model_formfield(model: type[models.Model], name: str, **kwargs: Any) -> forms.Field:
    """A form field with the model field's label, help text, length and choices.

    The model's validators (VIN check digit, credit code...) are not copied: the service
    runs them in `full_clean()` and `submit()` shows their message on this field.
    """
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model.__name__}.{name} is not a concrete field")
    if isinstance(field, models.DateField):
        kwargs.setdefault("widget", DateInput)
    formfield = field.formfield(**kwargs)
    if formfield is None:
        raise TypeError(f"{model.__name__}.{name} has no form field")
    return formfield


def add_service_error(form: forms.BaseForm, error: ApplicationError | ValidationError) -> None:
    """Put a service's refusal next to the form field it names, or above the form.

    An error naming a field this form does not show (or none) goes to the top of the form,
    so nothing is ever lost.
    """
    if isinstance(error, ApplicationError):
        field = error.field if error.field in form.fields else None
        if field is not None and form.fields[field].widget.is_hidden:
            field = None  # nobody would see it next to a hidden input
        form.add_error(field, ValidationError(error.message))
        return
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        field = name if name != NON_FIELD_ERRORS and name in form.fields else None
        form.add_error(field, errors)


def submit(
    form: forms.BaseForm, service: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
) -> T | None:
    """Call `service`; on a refusal put its errors on `form` and return None.

    Call it once `form.is_valid()`:

        vehicle = submit(form, services.vehicle_propose, actor=user, **form.cleaned_data)
        if vehicle is not None:
            return redirect(vehicle_url)
        # fall through and render the form again, errors and all
    """
    try:
        return service(*args, **kwargs)
    except (ApplicationError, ValidationError) as error:
        add_service_error(form, error)
        return None
