from django.contrib import admin

from .models import AdsEvent, EventFile, Incident


@admin.register(AdsEvent)
class AdsEventAdmin(admin.ModelAdmin[AdsEvent]):
    list_display = ["vehicle", "at", "type", "initiator", "source"]
    list_filter = ["type", "source"]

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(EventFile)
class EventFileAdmin(admin.ModelAdmin[EventFile]):
    list_display = ["original_name", "sha256", "rows", "created_events", "received_at"]

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin[Incident]):
    list_display = ["vehicle", "occurred_at", "report_due_at", "status"]
    list_filter = ["status"]

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
