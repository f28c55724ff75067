"""OpenAPI: the error answers every operation can give, documented once for all of them.

drf-spectacular documents only the answers a view declares, so without this the schema
said an operation answers 200 or 201 and nothing else, and a client (or the fuzzer,
tests/hardening/test_fuzz.py) meeting a 400 or a 404 met something undocumented. The
errors follow docs/architecture.md: 400 names the field, 401/403/404 carry a `detail`, and
so do 415 (a body of another media type) and 429 (throttled).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorOutputSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()


VALIDATION_ERROR = OpenApiResponse(
    {
        "type": "object",
        "description": "Each refused field (or `non_field_errors`, or `detail`) with its reasons.",
        "additionalProperties": {},
    },
    description="Malformed or refused input; the body names the field.",
)
ERRORS = {
    "400": VALIDATION_ERROR,
    "401": OpenApiResponse(ErrorOutputSerializer, "No token, or a bad one."),
    "403": OpenApiResponse(ErrorOutputSerializer, "Your role may not do this."),
    "404": OpenApiResponse(
        ErrorOutputSerializer, "No such object, or one you may not see (another company's)."
    ),
}
THROTTLED = OpenApiResponse(ErrorOutputSerializer, "Too many requests; see Retry-After.")
UNSUPPORTED = OpenApiResponse(
    ErrorOutputSerializer, "The body's Content-Type is none of the request's media types."
)


def _empty_means_absent(parameters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A filter, `page`, `page_size` or `format` sent empty (`?status=`, as an HTML form
    sends an unset field) is read as if it were absent: the schema says so."""
    for parameter in parameters:
        if parameter.get("in") == "query" and not parameter.get("required"):
            parameter["allowEmptyValue"] = True
    return parameters


class AutoSchema(SpectacularAutoSchema):
    def _get_filter_parameters(self) -> list[dict[str, Any]]:
        return _empty_means_absent(super()._get_filter_parameters())  # type: ignore[no-untyped-call]

    def _get_pagination_parameters(self) -> list[dict[str, Any]]:
        return _empty_means_absent(super()._get_pagination_parameters())  # type: ignore[no-untyped-call]

    def _get_format_parameters(self) -> list[dict[str, Any]]:
        return _empty_means_absent(super()._get_format_parameters())

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        errors = dict(ERRORS)
        if getattr(self.view, "throttle_classes", None):
            errors["429"] = THROTTLED
        if self.method in ("POST", "PUT", "PATCH"):
            errors["415"] = UNSUPPORTED
        for code, response in errors.items():
            # A view's own description of an error code wins.
            if code not in responses:
                responses[code] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                    response, code, direction=direction
                )
        return responses
