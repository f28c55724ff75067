"""Trips over REST. Thin: validate, call a service or selector, serialise."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from core.api import permission
from core.roles import REVIEW_TRIPS, UPLOAD
from core.services import audit_record
from core.web import acting_user
from routes.renderers import GeoJSONRenderer

from . import serializers as s
from . import services
from .filters import TripFilter
from .models import Trip
from .selectors import trip_conflicts, trip_list
from .throttling import UploadThrottle

_FORM_ROOM_BYTES = 64 * 1024


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The file is larger than the limit."
    default_code = "too_large"


class Gone(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "The file was deleted."
    default_code = "gone"


def _refuse_purged(trip: Trip) -> None:
    if trip.raw_purged_at is not None:
        raise Gone(
            _(
                "The raw file and the full trace of this trip were deleted on %(date)s under "
                "the retention rule; its SHA-256 and verified totals are kept."
            )
            % {"date": timezone.localdate(trip.raw_purged_at).isoformat()}
        )


def _download_name(trip: Trip) -> str:
    """The uploader's file name, reduced to a plain base name: only a suggestion to the
    browser, and never a path (the file itself is stored under its hash)."""
    try:
        return get_valid_filename(PurePath(trip.original_name.replace("\\", "/")).name)
    except SuspiciousFileOperation:  # nothing usable left ("", "..")
        return f"trip-{trip.pk}"


class TripViewSet(viewsets.GenericViewSet[Trip]):
    serializer_class = s.TripOutputSerializer
    filterset_class = TripFilter
    queryset = Trip.objects.none()

    def get_queryset(self) -> QuerySet[Trip]:
        return trip_list(user=acting_user(self.request))

    def get_throttles(self) -> list[BaseThrottle]:
        if self.action == "create":
            return [UploadThrottle()]
        return super().get_throttles()

    def get_permissions(self) -> list[BasePermission]:
        if self.action in ("review", "reverify"):
            return [IsAuthenticated(), permission(REVIEW_TRIPS)()]
        if self.action in ("create", "declare_mode", "withdraw"):
            return [IsAuthenticated(), permission(UPLOAD)()]
        return [IsAuthenticated()]

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.TripOutputSerializer(page, many=True).data)

    @extend_schema(responses=s.TripDetailOutputSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        trip = self.get_object()
        return Response(self._detail(trip))

    def _detail(self, trip: Trip) -> dict[str, Any]:
        conflicts = trip_conflicts(user=acting_user(self.request), trip=trip)
        return dict(s.TripDetailOutputSerializer(trip, context={"conflicts": conflicts}).data)

    @extend_schema(
        request={"multipart/form-data": s.TripUploadInputSerializer},
        responses={
            202: s.TripAcceptedOutputSerializer,
            200: OpenApiResponse(s.TripAcceptedOutputSerializer, "The trip already exists."),
            413: OpenApiResponse(description="The file is larger than the limit."),
            429: OpenApiResponse(description="Too many uploads with this token; see Retry-After."),
        },
    )
    def create(self, request: Request) -> Response:
        # Refused on the declared length, before the body is read and spooled to disk. The
        # form's other fields and multipart framing need a little room beyond the file.
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdigit() and int(declared) > settings.TRIP_MAX_BYTES + _FORM_ROOM_BYTES:
            raise PayloadTooLarge(self._too_large())
        data = s.TripUploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        if upload.size > settings.TRIP_MAX_BYTES:
            raise PayloadTooLarge(self._too_large())
        trip, created = services.trip_upload(
            actor=acting_user(request),
            vin=data.validated_data["vin"],
            data=upload.read(),
            original_name=upload.name or "",
            declared_format=data.validated_data.get("format", ""),
            crs=data.validated_data["crs"],
            declared_mode=data.validated_data.get("mode", ""),
            external_id=data.validated_data.get("external_id", ""),
        )
        return Response(
            s.TripAcceptedOutputSerializer(trip).data,
            status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
        )

    def _too_large(self) -> str:
        return _("The file is larger than the limit of %(mb)d MB.") % {
            "mb": settings.TRIP_MAX_BYTES // (1024 * 1024)
        }

    @extend_schema(
        responses={
            (200, "application/geo+json"): OpenApiTypes.OBJECT,
            410: OpenApiResponse(description="Deleted under the retention rule."),
        }
    )
    # The renderers only let content negotiation accept a GeoJSON (or JSON) Accept header;
    # the file is sent as it is.
    # Not named `trace`: DRF takes a method named after an HTTP verb as that verb's handler.
    @action(
        detail=True,
        methods=["get"],
        url_path="trace",
        url_name="trace",
        renderer_classes=[GeoJSONRenderer, JSONRenderer],
    )
    def trace_geojson(self, request: Request, pk: str) -> FileResponse:
        """The processed trace: a GeoJSON FeatureCollection with each step tagged."""
        trip = self.get_object()
        _refuse_purged(trip)
        if not trip.trace_file:
            raise exceptions.NotFound(_("This trip has no processed trace."))
        return FileResponse(trip.trace_file.open("rb"), content_type="application/geo+json")

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            410: OpenApiResponse(description="Deleted under the retention rule."),
        }
    )
    @action(detail=True, methods=["get"])
    def raw(self, request: Request, pk: str) -> FileResponse:
        """The raw file exactly as uploaded. Every download is recorded."""
        trip = self.get_object()
        _refuse_purged(trip)
        audit_record(actor=acting_user(request), obj=trip, action="download_raw")
        return FileResponse(
            trip.raw_file.open("rb"),
            as_attachment=True,
            filename=_download_name(trip),
            content_type="application/octet-stream",
        )

    @extend_schema(request=s.TripReviewInputSerializer, responses=s.TripDetailOutputSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str) -> Response:
        trip = self.get_object()
        data = s.TripReviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        trip = services.trip_review(
            actor=acting_user(request),
            trip=trip,
            accept=data.validated_data["decision"] == "accept",
            reason=data.validated_data["reason"],
        )
        return Response(self._detail(trip))

    @extend_schema(
        request=s.TripReverifyInputSerializer, responses={202: s.TripAcceptedOutputSerializer}
    )
    @action(detail=True, methods=["post"])
    def reverify(self, request: Request, pk: str) -> Response:
        trip = self.get_object()
        data = s.TripReverifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        trip = services.trip_reverify(
            actor=acting_user(request), trip=trip, reason=data.validated_data["reason"]
        )
        return Response(s.TripAcceptedOutputSerializer(trip).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=s.TripDeclareModeInputSerializer,
        responses={202: s.TripAcceptedOutputSerializer},
        description=(
            "The company declares the driving mode of its trip rejected for `mode_missing`; "
            "the trip is verified again from its raw file (a new verification version)."
        ),
    )
    @action(detail=True, methods=["post"], url_path="declare-mode", url_name="declare-mode")
    def declare_mode(self, request: Request, pk: str) -> Response:
        trip = self.get_object()
        data = s.TripDeclareModeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        trip = services.trip_declare_mode(
            actor=acting_user(request),
            trip=trip,
            mode=data.validated_data["mode"],
            reason=data.validated_data.get("reason", ""),
        )
        return Response(s.TripAcceptedOutputSerializer(trip).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=s.TripWithdrawInputSerializer,
        responses=s.TripDetailOutputSerializer,
        description=(
            "The company withdraws its trip (kept, never paid); refused while an approved or "
            "issued statement holds it."
        ),
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        trip = self.get_object()
        data = s.TripWithdrawInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        trip = services.trip_withdraw(
            actor=acting_user(request), trip=trip, reason=data.validated_data["reason"]
        )
        return Response(self._detail(trip))
