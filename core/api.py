"""Shared API pieces: strict input serializers, pagination, role permissions, error mapping."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ApplicationError
from .roles import Capability


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class InputSerializer(serializers.Serializer[Any]):
    """Base for input serializers: an unknown field is an error, not silently dropped."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict) or hasattr(data, "keys"):
            unknown = sorted(set(data.keys()) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


def permission(capability: Capability) -> type[permissions.BasePermission]:
    """A DRF permission class admitting authenticated users who have `capability`."""

    class HasCapability(permissions.BasePermission):
        message = _("Your role may not do this.")

        def has_permission(self, request: Request, view: APIView) -> bool:
            return capability.allows(request.user)

    HasCapability.__name__ = f"May_{capability.name}"
    return HasCapability


def _validation_detail(error: DjangoValidationError) -> Any:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if key == "__all__" else key): value
            for key, value in error.message_dict.items()
        }
    return {"non_field_errors": error.messages}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map service errors to 400 with the field named; everything else as DRF does."""
    if isinstance(exc, ApplicationError):
        detail = {exc.field: [exc.message]} if exc.field else {"detail": exc.message}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_validation_detail(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)
