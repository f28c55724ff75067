"""Road segments and zones over REST, GeoJSON in and out. Thin: validate, call, serialise."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import ValidationError

from core.api import permission
from core.roles import EDIT_SEGMENTS
from core.schema import AutoSchema
from core.web import acting_user

from . import import_services, services
from . import serializers as s
from .filters import SegmentFilter
from .models import RoadSegment
from .renderers import GeoJSONRenderer
from .selectors import segment_list, segment_summary

SegmentWriter = permission(EDIT_SEGMENTS)
READ_ACTIONS = frozenset({"list", "retrieve", "geojson", "summary"})
FEATURE = {
    "type": "object",
    "description": "GeoJSON Feature: the segment's geometry, and its other fields as properties.",
    "required": ["type", "id", "geometry", "properties"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "id": {"type": "integer"},
        "geometry": {"type": "object"},
        "properties": {"type": "object"},
    },
}
FEATURE_COLLECTION = {
    "type": "object",
    "description": "GeoJSON FeatureCollection; each Feature's properties are the segment's fields.",
    "required": ["type", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": FEATURE},
    },
}
# Actions that answer one segment (a Feature under GeoJSON), and those answering the list.
ONE_SEGMENT_ACTIONS = frozenset(
    {"retrieve", "create", "partial_update", "submit", "return_to_draft", "approve"}
    | {"suspend", "retire", "reinstate"}
)
SEGMENT_LIST_ACTIONS = frozenset({"list", "geojson"})


class SegmentSchema(AutoSchema):
    """Under GeoJSON (?format=geojson, or Accept: application/geo+json) a segment is a
    Feature and the list a FeatureCollection; the JSON shapes stay the serializers'."""

    def _get_response_for_code(
        self,
        serializer: Any,
        status_code: str,
        media_types: Any = None,
        direction: Any = "response",
    ) -> dict[str, Any]:
        response: dict[str, Any] = super()._get_response_for_code(  # type: ignore[no-untyped-call]
            serializer, status_code, media_types, direction
        )
        content = response.get("content", {})
        action = getattr(self.view, "action", None)
        if status_code.startswith("2") and GeoJSONRenderer.media_type in content:
            if action in ONE_SEGMENT_ACTIONS:
                content[GeoJSONRenderer.media_type] = {"schema": FEATURE}
            elif action in SEGMENT_LIST_ACTIONS:
                content[GeoJSONRenderer.media_type] = {"schema": FEATURE_COLLECTION}
        return response


class SegmentViewSet(viewsets.GenericViewSet[RoadSegment]):
    """Road segments (centreline + corridor) and areas, one row per approved version."""

    serializer_class = s.SegmentOutputSerializer
    filterset_class = SegmentFilter
    queryset = RoadSegment.objects.none()  # for the schema; get_queryset scopes by user
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, GeoJSONRenderer]
    schema = SegmentSchema()

    def get_queryset(self) -> QuerySet[RoadSegment]:
        return segment_list(user=acting_user(self.request))

    def get_permissions(self) -> list[BasePermission]:
        if self.action in READ_ACTIONS:
            return [IsAuthenticated()]
        return [IsAuthenticated(), SegmentWriter()]

    def _wants_geojson(self, request: Request) -> bool:
        renderer: BaseRenderer | None = getattr(request, "accepted_renderer", None)
        return renderer is not None and renderer.format == "geojson"

    def _one(self, segment: RoadSegment, code: int = status.HTTP_200_OK) -> Response:
        if self._wants_geojson(self.request):
            return Response(s.segment_feature(segment), status=code)
        return Response(s.SegmentOutputSerializer(segment).data, status=code)

    def list(self, request: Request) -> Response:
        segments = self.filter_queryset(self.get_queryset())
        if self._wants_geojson(request):
            return Response(s.feature_collection(segments))
        page = self.paginate_queryset(segments)
        return self.get_paginated_response(s.SegmentOutputSerializer(page, many=True).data)

    @extend_schema(responses={200: FEATURE_COLLECTION})
    @action(detail=False, methods=["get"], renderer_classes=[GeoJSONRenderer])
    def geojson(self, request: Request) -> Response:
        """Every segment you may see, filtered like the list, as one FeatureCollection."""
        return Response(s.feature_collection(self.filter_queryset(self.get_queryset())))

    def retrieve(self, request: Request, pk: str) -> Response:
        return self._one(self.get_object())

    @extend_schema(request=s.SegmentCreateInputSerializer, responses=s.SegmentOutputSerializer)
    def create(self, request: Request) -> Response:
        data = s.SegmentCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        segment = services.segment_create(actor=acting_user(request), **data.validated_data)
        return self._one(segment, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.SegmentUpdateInputSerializer,
        responses={200: s.SegmentOutputSerializer, 201: s.SegmentOutputSerializer},
        description="Changes a draft in place (200). Changing the geometry, width, kind or "
        "two-way flag of an approved or suspended segment makes a new draft version (201).",
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        segment = self.get_object()
        data = s.SegmentUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields: dict[str, Any] = dict(data.validated_data)
        repair, reason = fields.pop("repair"), fields.pop("reason")
        result = services.segment_update(
            actor=acting_user(request), segment=segment, data=fields, repair=repair, reason=reason
        )
        code = status.HTTP_201_CREATED if result.pk != segment.pk else status.HTTP_200_OK
        return self._one(result, code)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        services.segment_delete(actor=acting_user(request), segment=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.SegmentReasonInputSerializer, responses=s.SegmentOutputSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        segment = self.get_object()
        data = s.SegmentReasonInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._one(
            services.segment_submit(
                actor=acting_user(request), segment=segment, **data.validated_data
            )
        )

    @extend_schema(request=s.SegmentReasonInputSerializer, responses=s.SegmentOutputSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_to_draft(self, request: Request, pk: str) -> Response:
        segment = self.get_object()
        data = s.SegmentReasonInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._one(
            services.segment_return(
                actor=acting_user(request), segment=segment, **data.validated_data
            )
        )

    @extend_schema(request=s.SegmentApproveInputSerializer, responses=s.SegmentOutputSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        segment = self.get_object()
        data = s.SegmentApproveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._one(
            services.segment_approve(
                actor=acting_user(request), segment=segment, **data.validated_data
            )
        )

    @extend_schema(request=s.SegmentEndInputSerializer, responses=s.SegmentOutputSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, pk: str) -> Response:
        segment = self.get_object()
        data = s.SegmentEndInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._one(
            services.segment_suspend(
                actor=acting_user(request), segment=segment, **data.validated_data
            )
        )

    @extend_schema(request=s.SegmentEndInputSerializer, responses=s.SegmentOutputSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request: Request, pk: str) -> Response:
        segment = self.get_object()
        data = s.SegmentEndInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._one(
            services.segment_retire(
                actor=acting_user(request), segment=segment, **data.validated_data
            )
        )

    @extend_schema(
        request=s.SegmentReinstateInputSerializer,
        responses={201: s.SegmentOutputSerializer},
        description="Reinstate a suspended segment: a new approved version with its own window.",
    )
    @action(detail=True, methods=["post"])
    def reinstate(self, request: Request, pk: str) -> Response:
        segment = self.get_object()
        data = s.SegmentReinstateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reinstated = services.segment_reinstate(
            actor=acting_user(request), segment=segment, **data.validated_data
        )
        return self._one(reinstated, status.HTTP_201_CREATED)

    @extend_schema(
        request={"multipart/form-data": s.SegmentImportInputSerializer},
        responses={200: s.ImportReportOutputSerializer, 201: s.ImportReportOutputSerializer},
        description="Dry run by default (200, a report per feature); commit=true creates "
        "every feature as a draft in one transaction (201), only if none has a problem.",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_file(self, request: Request) -> Response:
        data = s.SegmentImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields: dict[str, Any] = dict(data.validated_data)
        upload = fields.pop("file")
        report = import_services.segment_import(
            actor=acting_user(request),
            data=upload.read(),
            filename=upload.name or "",
            **fields,
        )
        code = status.HTTP_201_CREATED if report.committed else status.HTTP_200_OK
        return Response(s.import_report_data(report), status=code)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "as_of",
                OpenApiTypes.STR,
                description="Date (the end of that day, Asia/Shanghai) or ISO time; default now.",
            )
        ],
        responses=s.SummaryOutputSerializer,
    )
    @action(detail=False, methods=["get"], filterset_class=None)
    def summary(self, request: Request) -> Response:
        """Open road km, two-way operating km against the plan's target, counts per status."""
        raw = request.query_params.get("as_of")
        try:
            at = s.parse_instant(raw, end_of_day=True) if raw else timezone.now()
        except ValidationError as exc:
            raise ValidationError({"as_of": exc.detail}) from exc
        summary = segment_summary(user=acting_user(request), at=at)
        two_way_km = summary.two_way_operating_m / 1000
        data = {
            "as_of": summary.at,
            "open_road_km": round(summary.open_road_m / 1000, 3),
            "two_way_operating_km": round(two_way_km, 3),
            "target_two_way_km": summary.target_two_way_km,
            "target_progress": round(two_way_km / summary.target_two_way_km, 4)
            if summary.target_two_way_km
            else 0.0,
            "open_roads": summary.open_roads,
            "open_areas": summary.open_areas,
            "open_area_km2": round(summary.open_area_m2 / 1e6, 3),
            "by_status": summary.by_status,
        }
        return Response(s.SummaryOutputSerializer(data).data)
