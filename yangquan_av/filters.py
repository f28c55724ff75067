"""Filters shared by the apps' lists, and those of the audit trail list."""

import django_filters
from django import forms

from .models import AuditRecord

# Ids are 64-bit (BigAutoField); a larger number would reach the database and fail there.
ID_MAX = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A foreign key by plain id: a whole number in range, or a 400 naming the filter."""

    field_class = forms.IntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, min_value=-ID_MAX, max_value=ID_MAX, **kwargs)


class AuditRecordFilter(django_filters.FilterSet):
    model = django_filters.CharFilter(field_name="content_type__model")
    actor = IdFilter(field_name="actor_id")
    at_after = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    at_before = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AuditRecord
        fields = ["model", "object_id", "action", "actor"]
