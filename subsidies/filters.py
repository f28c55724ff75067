"""List filters. Companies filter by plain id, so an id you cannot see gives an empty list."""

import django_filters

from core.filters import IdFilter

from .models import Assessment, Statement


class AssessmentFilter(django_filters.FilterSet):
    operator = IdFilter(field_name="operator_id")

    class Meta:
        model = Assessment
        fields = ["operator", "year", "grade"]


class StatementFilter(django_filters.FilterSet):
    operator = IdFilter(field_name="operator_id")

    class Meta:
        model = Statement
        fields = ["operator", "year", "status", "kind"]
