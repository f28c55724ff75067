"""Filters of the audit trail list."""

import django_filters

from .models import AuditRecord


class AuditRecordFilter(django_filters.FilterSet):
    model = django_filters.CharFilter(field_name="content_type__model")
    actor = django_filters.NumberFilter(field_name="actor_id")
    at_after = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    at_before = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AuditRecord
        fields = ["model", "object_id", "action", "actor"]
