"""Filters shared by the apps' lists, and those of the audit trail list."""

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from .models import AuditRecord

# Ids are 64-bit (BigAutoField); a larger number would reach the database and fail there.
ID_MAX = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A foreign key by plain id: a whole number in range, or a 400 naming the filter."""

    field_class = forms.IntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, min_value=-ID_MAX, max_value=ID_MAX, **kwargs)


class InstantField(IsoDateTimeField):
    """An ISO 8601 instant, in UTC: PostgreSQL takes no offset beyond ±15:59, and an
    instant before year 1 in UTC cannot be represented at all (a 400, not a 500)."""

    def to_python(self, value: Any) -> dt.datetime | None:
        instant: dt.datetime | None = super().to_python(value)
        if instant is None:
            return None
        try:
            return instant.astimezone(dt.UTC)
        except OverflowError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class InstantFilter(django_filters.IsoDateTimeFilter):
    field_class = InstantField


class AuditRecordFilter(django_filters.FilterSet):
    model = django_filters.CharFilter(field_name="content_type__model")
    actor = IdFilter(field_name="actor_id")
    at_after = InstantFilter(field_name="at", lookup_expr="gte")
    at_before = InstantFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AuditRecord
        fields = ["model", "object_id", "action", "actor"]
