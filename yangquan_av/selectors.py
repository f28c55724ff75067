"""Reading the audit trail: bureau and admin only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from .models import AuditRecord
from .roles import Role

if TYPE_CHECKING:
    from operators.models import User


def audit_list(*, user: User) -> QuerySet[AuditRecord]:
    if user.role not in (Role.BUREAU, Role.ADMIN):
        return AuditRecord.objects.none()
    return AuditRecord.objects.select_related("actor", "content_type")
