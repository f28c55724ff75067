"""Segment list filters: status, kind, series, name, and "valid at" a date or time."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from rest_framework import exceptions, serializers

from .models import RoadSegment
from .serializers import parse_instant
from .validity import valid_at_q


class SegmentFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    valid_at = django_filters.CharFilter(
        method="filter_valid_at",
        label="Approved and valid at this time (a date means the end of that day).",
    )

    class Meta:
        model = RoadSegment
        fields = ["status", "kind", "series", "road_code", "two_way", "name"]

    def filter_valid_at(
        self, queryset: QuerySet[RoadSegment], name: str, value: Any
    ) -> QuerySet[RoadSegment]:
        try:
            at = parse_instant(value, end_of_day=True)
        except serializers.ValidationError as exc:
            raise exceptions.ValidationError({"valid_at": exc.detail}) from exc
        return queryset.filter(valid_at_q(at))
