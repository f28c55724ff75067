"""List filters. Foreign keys filter by plain id so a wrong id reveals nothing (empty list)."""

import django_filters

from core.filters import IdFilter

from .models import Operator, Vehicle


class OperatorFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Operator
        fields = ["status", "credit_code", "name"]


class VehicleFilter(django_filters.FilterSet):
    operator = IdFilter(field_name="operator_id")
    permit_expires_before = django_filters.DateFilter(
        field_name="permit_valid_to", lookup_expr="lt"
    )

    class Meta:
        model = Vehicle
        fields = ["operator", "status", "category", "vin", "plate"]
