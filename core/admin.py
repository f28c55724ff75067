"""Django admin: a read-only window on every model for government staff.

State changes go through services (which validate and audit), so the admin changes
nothing itself except user accounts, which admins manage.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditRecord


class GovernmentReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = request.user
        return bool(user.is_active and getattr(user, "is_government", False))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditRecord)
class AuditRecordAdmin(GovernmentReadOnlyAdmin):
    list_display = ["at", "actor", "action", "content_type", "object_repr", "reason"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "object_id", "reason"]
    date_hierarchy = "at"
