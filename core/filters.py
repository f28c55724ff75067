"""Filters shared by the apps' lists, and those of the audit trail list."""

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django_filters.fields import IsoDateTimeField
from django_filters.filterset import FILTER_FOR_DBFIELD_DEFAULTS
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.views import APIView

from .models import AuditRecord

# Ids are 64-bit (BigAutoField); a larger number would reach the database and fail there.
ID_MAX = 2**63 - 1


class WholeNumberFilter(django_filters.NumberFilter):
    """A whole number in range, or a 400 naming the filter (django-filter's NumberFilter
    takes any decimal: `?year=0.5` was an empty list, not an error)."""

    field_class = forms.IntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, min_value=-ID_MAX, max_value=ID_MAX, **kwargs)


class IdFilter(WholeNumberFilter):
    """A foreign key by plain id: a whole number in range, or a 400 naming the filter."""


_INTEGER_FIELDS = (
    models.AutoField,
    models.BigAutoField,
    models.SmallAutoField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
)


class FilterSet(django_filters.FilterSet):
    """The project's FilterSet: a filter made from an integer model field (`Meta.fields`)
    takes whole numbers only."""

    FILTER_DEFAULTS = {
        **FILTER_FOR_DBFIELD_DEFAULTS,
        **{field: {"filter_class": WholeNumberFilter} for field in _INTEGER_FIELDS},
    }


_WITH_WHOLE_NUMBERS: dict[type[django_filters.FilterSet], type[FilterSet]] = {}


def _with_whole_numbers(filterset: type[django_filters.FilterSet]) -> type[FilterSet]:
    # The FilterSet's metaclass makes its Meta.fields' filters again, from FILTER_DEFAULTS.
    if filterset not in _WITH_WHOLE_NUMBERS:
        _WITH_WHOLE_NUMBERS[filterset] = type(
            filterset.__name__, (filterset, FilterSet), {"__module__": filterset.__module__}
        )
    return _WITH_WHOLE_NUMBERS[filterset]


class FilterBackend(DjangoFilterBackend):
    """DRF's django-filter backend (settings: DEFAULT_FILTER_BACKENDS), giving every list's
    FilterSet the project's integer filters, whether it derives from `FilterSet` above or
    from django-filter's own: no app can forget it."""

    filterset_base = FilterSet

    def get_filterset_class(
        self, view: APIView, queryset: models.QuerySet[Any] | None = None
    ) -> type[django_filters.FilterSet] | None:
        filterset: type[django_filters.FilterSet] | None = super().get_filterset_class(
            view, queryset
        )
        if filterset is None or issubclass(filterset, FilterSet):
            return filterset
        return _with_whole_numbers(filterset)


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


class AuditRecordFilter(FilterSet):
    model = django_filters.CharFilter(field_name="content_type__model")
    actor = IdFilter(field_name="actor_id")
    at_after = InstantFilter(field_name="at", lookup_expr="gte")
    at_before = InstantFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AuditRecord
        fields = ["model", "object_id", "action", "actor"]
