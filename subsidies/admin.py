from django.contrib import admin

from core.admin import GovernmentReadOnlyAdmin

from .models import (
    Assessment,
    GradingPolicy,
    LedgerEntry,
    Statement,
    StatementLine,
    SubsidyPolicy,
)


@admin.register(SubsidyPolicy)
class SubsidyPolicyAdmin(GovernmentReadOnlyAdmin):
    list_display = ["version", "name", "valid_from", "valid_to", "annual_cap_yuan"]


@admin.register(Assessment)
class AssessmentAdmin(GovernmentReadOnlyAdmin):
    list_display = ["operator", "year", "grade", "score", "assessed_by", "assessed_at"]
    list_filter = ["year", "grade"]


@admin.register(Statement)
class StatementAdmin(GovernmentReadOnlyAdmin):
    list_display = ["operator", "year", "kind", "km", "grade", "amount_yuan", "reason", "status"]
    list_filter = ["year", "kind", "status", "reason"]
    search_fields = ["operator__name", "operator__credit_code"]


@admin.register(StatementLine)
class StatementLineAdmin(GovernmentReadOnlyAdmin):
    list_display = ["statement", "trip", "day", "eligible_m"]
    raw_id_fields = ["statement", "trip"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(GovernmentReadOnlyAdmin):
    list_display = ["at", "kind", "operator", "year", "amount_yuan", "statement", "actor"]
    list_filter = ["kind", "year"]


@admin.register(GradingPolicy)
class GradingPolicyAdmin(GovernmentReadOnlyAdmin):
    list_display = ["version", "name", "valid_from", "valid_to"]
