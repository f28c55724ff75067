from django.contrib import admin

from core.admin import GovernmentReadOnlyAdmin

from .models import Trip, TripDay, TripSegment


@admin.register(Trip)
class TripAdmin(GovernmentReadOnlyAdmin):
    list_display = ["id", "vehicle", "operator", "status", "started_at", "eligible_m"]
    list_filter = ["status", "operator", "format"]
    search_fields = ["vehicle__vin", "vehicle__plate", "external_id", "raw_sha256"]
    date_hierarchy = "started_at"


@admin.register(TripDay)
class TripDayAdmin(GovernmentReadOnlyAdmin):
    list_display = ["trip", "day", "autonomous_m", "eligible_m"]
    date_hierarchy = "day"


@admin.register(TripSegment)
class TripSegmentAdmin(GovernmentReadOnlyAdmin):
    list_display = ["trip", "segment", "eligible_m"]
