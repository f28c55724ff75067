"""The recorder over REST: importing event files; incidents listed, reported, closed. Thin."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import permission
from core.roles import IMPORT_ADS_EVENTS, REVIEW_TRIPS
from core.web import acting_user

from . import serializers as s
from .models import Incident
from .selectors import incident_list
from .services import ads_events_import, incident_close, incident_report


class AdsEventImportView(APIView):
    permission_classes = [IsAuthenticated, permission(IMPORT_ADS_EVENTS)]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": s.AdsEventImportInputSerializer},
        responses={201: s.AdsEventImportOutputSerializer},
        description="Import data-recorder events (GB 44497), all or nothing: a refused row "
        "refuses the file and is named with its line. Idempotent by (vehicle, time, event).",
    )
    def post(self, request: Request) -> Response:
        data = s.AdsEventImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        result = ads_events_import(
            actor=acting_user(request), data=upload.read(), original_name=upload.name or ""
        )
        return Response(
            s.AdsEventImportOutputSerializer(result).data, status=status.HTTP_201_CREATED
        )


class IncidentListView(generics.ListAPIView[Incident]):
    serializer_class = s.IncidentOutputSerializer
    permission_classes = [IsAuthenticated]
    queryset = Incident.objects.none()

    def get_queryset(self) -> QuerySet[Incident]:
        return incident_list(user=acting_user(self.request)).order_by("report_due_at", "pk")


class IncidentDetailView(generics.RetrieveAPIView[Incident]):
    serializer_class = s.IncidentOutputSerializer
    permission_classes = [IsAuthenticated]
    queryset = Incident.objects.none()

    def get_queryset(self) -> QuerySet[Incident]:
        return incident_list(user=acting_user(self.request))


class IncidentReportView(APIView):
    permission_classes = [IsAuthenticated, permission(IMPORT_ADS_EVENTS)]

    @extend_schema(
        request=s.IncidentReportInputSerializer,
        responses=s.IncidentOutputSerializer,
        description="The company's report on an open incident (late ones are taken).",
    )
    def post(self, request: Request, pk: int) -> Response:
        user = acting_user(request)
        incident = get_object_or_404(incident_list(user=user), pk=pk)
        data = s.IncidentReportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = incident_report(actor=user, incident=incident, **data.validated_data)
        return Response(s.IncidentOutputSerializer(incident).data)


class IncidentCloseView(APIView):
    permission_classes = [IsAuthenticated, permission(REVIEW_TRIPS)]

    @extend_schema(
        request=s.IncidentCloseInputSerializer,
        responses=s.IncidentOutputSerializer,
        description="The bureau closes an incident, reported or not, with a reason; final.",
    )
    def post(self, request: Request, pk: int) -> Response:
        user = acting_user(request)
        incident = get_object_or_404(incident_list(user=user), pk=pk)
        data = s.IncidentCloseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = incident_close(
            actor=user, incident=incident, reason=data.validated_data["reason"]
        )
        return Response(s.IncidentOutputSerializer(incident).data)
