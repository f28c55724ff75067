"""Trip list filters. Foreign keys by plain id, so another company's id gives an empty list."""

import django_filters

from core.filters import IdFilter, InstantFilter

from .models import Trip


class TripFilter(django_filters.FilterSet):
    vehicle = IdFilter(field_name="vehicle_id")
    operator = IdFilter(field_name="operator_id")
    vin = django_filters.CharFilter(field_name="vehicle__vin")
    started_after = InstantFilter(field_name="started_at", lookup_expr="gte")
    started_before = InstantFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = Trip
        fields = ["vehicle", "operator", "vin", "status", "external_id"]
