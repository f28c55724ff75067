from django.contrib import admin

from core.admin import GovernmentReadOnlyAdmin

from .models import RoadSegment


@admin.register(RoadSegment)
class RoadSegmentAdmin(GovernmentReadOnlyAdmin):
    list_display = [
        "name",
        "version",
        "kind",
        "status",
        "two_way",
        "length_m",
        "valid_from",
        "valid_to",
        "approval_ref",
    ]
    list_filter = ["status", "kind", "two_way"]
    search_fields = ["name", "road_code", "approval_ref", "series"]
