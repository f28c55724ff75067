from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import GovernmentReadOnlyAdmin
from core.roles import ADMINISTER
from core.services import audit_record

from .models import ApiToken, Operator, User, Vehicle


@admin.register(Operator)
class OperatorAdmin(GovernmentReadOnlyAdmin):
    list_display = ["name", "credit_code", "status", "settled_on", "pilot_admitted_on"]
    list_filter = ["status"]
    search_fields = ["name", "credit_code"]


@admin.register(Vehicle)
class VehicleAdmin(GovernmentReadOnlyAdmin):
    list_display = ["plate", "vin", "operator", "category", "status", "permit_valid_to"]
    list_filter = ["status", "category", "operator"]
    search_fields = ["plate", "vin", "permit_number"]


@admin.register(ApiToken)
class ApiTokenAdmin(GovernmentReadOnlyAdmin):
    list_display = ["prefix", "user", "created_at", "last_used_at", "revoked_at"]
    exclude = ["key_hash"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    """Admins manage accounts; the role/company pair is checked by the model's constraints."""

    list_display = ["username", "role", "operator", "is_active", "last_login"]
    list_filter = ["role", "is_active", "operator"]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Role"), {"fields": ("role", "operator")}),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "password1", "password2", "role", "operator")}),
    )

    def _is_admin(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and ADMINISTER.allows(request.user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # accounts are deactivated, never deleted: the audit trail points at them

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        secret = {"password", "password1", "password2"}
        audit_record(
            actor=request.user if isinstance(request.user, User) else None,
            obj=obj,
            action="update" if change else "create",
            changes={
                name: [form.initial.get(name), form.cleaned_data.get(name)]
                for name in form.changed_data
                if name not in secret
            },
        )
