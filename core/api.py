"""Shared API pieces: the router, strict input serializers, pagination, role permissions,
error mapping."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination, permissions, routers, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ApplicationError
from .roles import Capability


class Router(routers.DefaultRouter):
    """DRF's router without the `.json` twin of every route: no view takes a `format`
    argument, so each of them answered 500. `?format=` (content negotiation) stays."""

    include_format_suffixes = False


class Pagination(pagination.PageNumberPagination):
    """`?page=N&page_size=M`: whole numbers, M at most 500, or a 400 naming the parameter
    (DRF reads a page size it cannot use as the default, and a bad page as a 404). A page
    past the last is still a 404."""

    page_size_query_param = "page_size"
    max_page_size = 500
    last_page_strings = ()

    def _whole_number(self, request: Request, name: str, maximum: int | None) -> int | None:
        value = request.query_params.get(name, "")
        if value == "":
            return None
        field = forms.IntegerField(min_value=1, max_value=maximum)
        try:
            number: int = field.clean(value)
        except DjangoValidationError as error:
            raise exceptions.ValidationError({name: error.messages}) from None
        return number

    def get_page_size(self, request: Request) -> int | None:
        size = self._whole_number(request, self.page_size_query_param, self.max_page_size)
        return self.page_size if size is None else size

    def get_page_number(self, request: Request, paginator: Paginator[Any]) -> int:
        return self._whole_number(request, self.page_query_param, None) or 1

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters


class InputSerializer(serializers.Serializer[Any]):
    """Base for input serializers: an unknown field is an error, not silently dropped, and
    a text field takes text only (DRF's CharField takes a number as its digits:
    `{"reason": 0}` was the reason "0")."""

    def to_internal_value(self, data: Any) -> Any:
        if not (isinstance(data, dict) or hasattr(data, "keys")):
            return super().to_internal_value(data)
        unknown = sorted(set(data.keys()) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        not_text = {
            name: [field.error_messages["invalid"]]
            for name, field in self.fields.items()
            if isinstance(field, serializers.CharField)
            and not field.read_only
            and name in data
            and not isinstance(data[name], str | None)
        }
        if not not_text:
            return super().to_internal_value(data)
        # The other fields' errors too, as DRF names every refused field at once.
        try:
            super().to_internal_value(data)
        except serializers.ValidationError as error:
            if isinstance(error.detail, dict):
                raise serializers.ValidationError({**error.detail, **not_text}) from None
        raise serializers.ValidationError(not_text)


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
