"""Grading over REST beside the assessments API: accept the scorecard's proposal, and the
annual disengagement report (XLSX, CSV, PDF). Thin: validate, call, serialise."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import permission
from core.errors import ApplicationError
from core.roles import ADMINISTER, GRADE
from core.services import audit_record
from core.web import acting_user
from operators.models import Operator, User
from operators.selectors import operator_list

from . import disengagement_report as report
from . import services
from .grading import grade_evidence, grading_policy_create
from .grading_serializers import (
    AcceptProposalInputSerializer,
    GradingPolicyInputSerializer,
    GradingPolicyOutputSerializer,
    ReportInputSerializer,
)
from .models import GradingPolicy
from .serializers import AssessmentDetailOutputSerializer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _company(user: User, operator_id: int) -> Operator:
    company = operator_list(user=user).filter(pk=operator_id).first()
    if company is None:
        raise Http404
    return company


class AcceptProposalView(APIView):
    permission_classes = [IsAuthenticated, permission(GRADE)]

    @extend_schema(
        request=AcceptProposalInputSerializer,
        responses={201: AssessmentDetailOutputSerializer, 200: AssessmentDetailOutputSerializer},
        description="Grade a company-year as its scorecard proposes under the grading policy "
        "in force (audited). To grade otherwise, POST /api/v1/assessments/ with a reason.",
    )
    def post(self, request: Request) -> Response:
        user = acting_user(request)
        data = AcceptProposalInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        company = _company(user, data.validated_data["operator"])
        year = data.validated_data["year"]
        evidence = grade_evidence(operator_id=company.pk, year=year)
        if evidence.proposal is None:
            raise ApplicationError(
                _("No grading policy covers this year: there is no proposal."), field="year"
            )
        existed = company.assessments.filter(year=year).exists()
        assessment = services.assessment_set(
            actor=user,
            operator=company,
            year=year,
            grade=evidence.proposal.grade,
            seen_version=data.validated_data["seen_version"],
        )
        return Response(
            AssessmentDetailOutputSerializer(assessment).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )


class DisengagementReportView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[ReportInputSerializer],
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, XLSX): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.BINARY,
        },
        description="A company's annual disengagement report in Chinese: the scorecard, per "
        "vehicle, and each disengagement. Company staff get their own company's only.",
    )
    def get(self, request: Request) -> HttpResponse:
        user = acting_user(request)
        data = ReportInputSerializer(data=request.query_params.dict())
        data.is_valid(raise_exception=True)
        company = _company(user, data.validated_data["operator"])
        year, kind = data.validated_data["year"], data.validated_data["file"]
        content = report.report_data(company=company, year=year)
        audit_record(
            actor=user,
            obj=company,
            action="download_disengagement_report",
            changes={"year": [None, year], "file": [None, kind]},
        )
        body, content_type = {
            "pdf": (report.report_pdf, "application/pdf"),
            "xlsx": (report.report_xlsx, XLSX),
            "csv": (report.report_csv, "text/csv; charset=utf-8"),
        }[kind]
        response = HttpResponse(body(content), content_type=content_type)
        filename = f"disengagements-{company.credit_code}-{year}.{kind}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class GradingPolicyListView(APIView):
    """Grading policy versions: everyone signed in reads them; administrators add one."""

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "POST":
            return [IsAuthenticated(), permission(ADMINISTER)()]
        return [IsAuthenticated()]

    @extend_schema(responses=GradingPolicyOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        policies = GradingPolicy.objects.order_by("-valid_from", "-version")
        return Response(GradingPolicyOutputSerializer(policies, many=True).data)

    @extend_schema(
        request=GradingPolicyInputSerializer,
        responses={201: GradingPolicyOutputSerializer},
        description="A new version of the grading thresholds (versions are never edited).",
    )
    def post(self, request: Request) -> Response:
        data = GradingPolicyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy = grading_policy_create(actor=acting_user(request), **data.validated_data)
        return Response(GradingPolicyOutputSerializer(policy).data, status=status.HTTP_201_CREATED)
