"""A read-only window on terminals and raw archives for government staff."""

from django.contrib import admin

from core.admin import GovernmentReadOnlyAdmin

from .models import RawArchive, Terminal


@admin.register(Terminal)
class TerminalAdmin(GovernmentReadOnlyAdmin):
    list_display = ["terminal_id", "protocol", "vehicle", "active", "registered_at"]
    list_filter = ["protocol", "active"]
    search_fields = ["terminal_id", "vehicle__vin", "vehicle__plate"]
    exclude = ["auth_code_sha256"]


@admin.register(RawArchive)
class RawArchiveAdmin(GovernmentReadOnlyAdmin):
    list_display = ["terminal", "day", "messages", "size", "sha256", "created_at"]
    list_filter = ["day"]
