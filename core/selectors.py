"""Reading the audit trail: government staff only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from .models import AuditRecord
from .roles import SEE_ALL_COMPANIES

if TYPE_CHECKING:
    from operators.models import User


def audit_list(*, user: User) -> QuerySet[AuditRecord]:
    # Government staff check each other's decisions (finance reads the bureau's grades and
    # approvals behind a statement); companies never read the trail.
    if not SEE_ALL_COMPANIES.allows(user):
        return AuditRecord.objects.none()
    return AuditRecord.objects.select_related("actor", "content_type")
