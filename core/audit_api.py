"""The audit trail over REST: read-only, government staff."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import mixins, serializers, viewsets

from .api import permission
from .filters import AuditRecordFilter
from .models import AuditRecord
from .roles import SEE_ALL_COMPANIES
from .selectors import audit_list
from .web import acting_user


class AuditRecordOutputSerializer(serializers.ModelSerializer[AuditRecord]):
    model = serializers.CharField(source="content_type.model", read_only=True)
    actor_username = serializers.CharField(
        source="actor.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = AuditRecord
        fields = [
            "id",
            "at",
            "actor",
            "actor_username",
            "action",
            "model",
            "object_id",
            "object_repr",
            "changes",
            "reason",
        ]
        read_only_fields = fields


class AuditRecordViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[AuditRecord]
):
    serializer_class = AuditRecordOutputSerializer
    filterset_class = AuditRecordFilter
    permission_classes = [permission(SEE_ALL_COMPANIES)]
    queryset = AuditRecord.objects.none()

    def get_queryset(self) -> QuerySet[AuditRecord]:
        return audit_list(user=acting_user(self.request))
