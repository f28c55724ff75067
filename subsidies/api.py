"""Policies, grades, statements and their exports over REST. Thin: validate, call, serialise."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import Pagination, permission
from core.roles import ADMINISTER, GRADE, SEE_ALL_COMPANIES, SETTLE
from core.services import audit_record
from core.web import acting_user
from operators.selectors import operator_list

from . import exports, services, tasks
from . import serializers as s
from .filters import AssessmentFilter, StatementFilter
from .models import Assessment, Statement, SubsidyPolicy
from .selectors import (
    assessment_figures,
    assessment_list,
    policy_list,
    public_notice,
    statement_by_month,
    statement_by_vehicle,
    statement_lines,
    statement_list,
)

Admin = permission(ADMINISTER)
Graders = permission(GRADE)
Government = permission(SEE_ALL_COMPANIES)
Finance = permission(SETTLE)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(content: bytes, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class PolicyViewSet(viewsets.GenericViewSet[SubsidyPolicy]):
    serializer_class = s.PolicyOutputSerializer
    queryset = SubsidyPolicy.objects.none()
    filterset_class = None

    def get_queryset(self) -> QuerySet[SubsidyPolicy]:
        return policy_list(user=acting_user(self.request))

    def get_permissions(self) -> list[BasePermission]:
        if self.action in ("list", "retrieve"):
            return [IsAuthenticated()]
        return [IsAuthenticated(), Admin()]

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.PolicyOutputSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.PolicyOutputSerializer(self.get_object()).data)

    @extend_schema(request=s.PolicyCreateInputSerializer, responses={201: s.PolicyOutputSerializer})
    def create(self, request: Request) -> Response:
        data = s.PolicyCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy = services.policy_create(actor=acting_user(request), **data.validated_data)
        return Response(s.PolicyOutputSerializer(policy).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.PolicyUpdateInputSerializer, responses=s.PolicyOutputSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        policy = self.get_object()
        data = s.PolicyUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields: dict[str, Any] = dict(data.validated_data)
        reason = fields.pop("reason")
        policy = services.policy_update(
            actor=acting_user(request), policy=policy, data=fields, reason=reason
        )
        return Response(s.PolicyOutputSerializer(policy).data)


class AssessmentViewSet(viewsets.GenericViewSet[Assessment]):
    serializer_class = s.AssessmentOutputSerializer
    queryset = Assessment.objects.none()
    filterset_class = AssessmentFilter

    def get_queryset(self) -> QuerySet[Assessment]:
        return assessment_list(user=acting_user(self.request))

    def get_permissions(self) -> list[BasePermission]:
        if self.action in ("list", "retrieve"):
            return [IsAuthenticated()]
        if self.action == "figures":
            return [IsAuthenticated(), Government()]
        return [IsAuthenticated(), Graders()]

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.AssessmentOutputSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.AssessmentDetailOutputSerializer(self.get_object()).data)

    @extend_schema(
        request=s.AssessmentInputSerializer,
        responses={
            200: s.AssessmentDetailOutputSerializer,
            201: s.AssessmentDetailOutputSerializer,
        },
        description="Grade a company-year (201), or change its grade (200, audited). A new "
        "grade for a year already issued flows into an adjustment at the next computation.",
    )
    def create(self, request: Request) -> Response:
        user = acting_user(request)
        data = s.AssessmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields: dict[str, Any] = dict(data.validated_data)
        operator = operator_list(user=user).filter(pk=fields.pop("operator")).first()
        if operator is None:
            raise exceptions.ValidationError({"operator": [_("No such company.")]})
        existed = Assessment.objects.filter(operator=operator, year=fields["year"]).exists()
        assessment = services.assessment_set(actor=user, operator=operator, **fields)
        return Response(
            s.AssessmentDetailOutputSerializer(assessment).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )

    @extend_schema(
        parameters=[s.AssessmentFiguresInputSerializer],
        responses=s.AssessmentFiguresOutputSerializer,
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def figures(self, request: Request) -> Response:
        """What informs a grade: km, disengagements, km per disengagement, flagged trips."""
        data = s.AssessmentFiguresInputSerializer(data=request.query_params.dict())
        data.is_valid(raise_exception=True)
        figures = assessment_figures(
            user=acting_user(request),
            operator_id=data.validated_data["operator"],
            year=data.validated_data["year"],
        )
        return Response(s.AssessmentFiguresOutputSerializer(figures).data)


class StatementViewSet(viewsets.GenericViewSet[Statement]):
    serializer_class = s.StatementOutputSerializer
    queryset = Statement.objects.none()
    filterset_class = StatementFilter

    def get_queryset(self) -> QuerySet[Statement]:
        return statement_list(user=acting_user(self.request))

    def get_permissions(self) -> list[BasePermission]:
        if self.action in ("compute", "approve", "issue", "mark_paid"):
            return [IsAuthenticated(), Finance()]
        if self.action == "public_notice":
            return [IsAuthenticated(), Government()]
        return [IsAuthenticated()]

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.StatementOutputSerializer(page, many=True).data)

    @extend_schema(responses=s.StatementDetailOutputSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.StatementDetailOutputSerializer(self.get_object()).data)

    @extend_schema(responses=s.StatementLineOutputSerializer(many=True))
    @action(detail=True, methods=["get"], filterset_class=None)
    def lines(self, request: Request, pk: str) -> Response:
        """The drill-down: each contributing trip's eligible metres, per local day."""
        paginator = Pagination()
        page = paginator.paginate_queryset(
            statement_lines(statement=self.get_object()), request, view=self
        )
        return paginator.get_paginated_response(
            s.StatementLineOutputSerializer(page, many=True).data
        )

    @extend_schema(
        request=s.ComputeInputSerializer,
        responses={202: s.ComputeOutputSerializer},
        description="Queue the computation of every company's statement for the year "
        "(idempotent; the nightly job does the same). A year not yet started, or outside "
        "the policy's window, or with trips changed since issue that do not hold their "
        "audited verification's figures, is a 400 naming the reason (and the trips).",
    )
    @action(detail=False, methods=["post"], filterset_class=None)
    def compute(self, request: Request) -> Response:
        data = s.ComputeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        year = data.validated_data["year"]
        services.compute_refusal(year=year)
        tasks.compute_statements.delay(year, actor_id=acting_user(request).pk)
        return Response({"year": year, "queued": True}, status=status.HTTP_202_ACCEPTED)

    def _act(self, request: Request, service: Any) -> Response:
        statement = self.get_object()
        data = s.StatementActionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        statement = service(actor=acting_user(request), statement=statement, **data.validated_data)
        return Response(s.StatementDetailOutputSerializer(statement).data)

    @extend_schema(
        request=s.StatementActionInputSerializer, responses=s.StatementDetailOutputSerializer
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        return self._act(request, services.statement_approve)

    @extend_schema(
        request=s.StatementIssueInputSerializer, responses=s.StatementDetailOutputSerializer
    )
    @action(detail=True, methods=["post"])
    def issue(self, request: Request, pk: str) -> Response:
        """Issue an approved statement under a document number (文号) and date: immutable
        from now on, its amount accrues and its public notice opens. Not by whoever
        approved it (FOUR_EYES); a regular statement only once its year is over."""
        statement = self.get_object()
        data = s.StatementIssueInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        statement = services.statement_issue(
            actor=acting_user(request), statement=statement, **data.validated_data
        )
        return Response(s.StatementDetailOutputSerializer(statement).data)

    @extend_schema(
        request=s.StatementActionInputSerializer, responses=s.StatementDetailOutputSerializer
    )
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request: Request, pk: str) -> Response:
        return self._act(request, services.statement_mark_paid)

    def _filename(self, statement: Statement, extension: str) -> str:
        operator = statement.operator.credit_code
        return f"statement-{operator}-{statement.year}-{statement.pk}.{extension}"

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], filterset_class=None)
    def pdf(self, request: Request, pk: str) -> HttpResponse:
        """The statement as a PDF in Chinese, with the amount in 大写 and trip summaries."""
        statement = self.get_object()
        audit_record(actor=acting_user(request), obj=statement, action="download_pdf")
        content = exports.statement_pdf(
            statement,
            statement_by_month(statement=statement),
            statement_by_vehicle(statement=statement),
        )
        return _download(
            content, content_type="application/pdf", filename=self._filename(statement, "pdf")
        )

    @extend_schema(responses={(200, XLSX): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], filterset_class=None)
    def xlsx(self, request: Request, pk: str) -> HttpResponse:
        """The statement and its trip lines as a workbook."""
        statement = self.get_object()
        audit_record(actor=acting_user(request), obj=statement, action="download_xlsx")
        content = exports.statement_xlsx(statement, statement_lines(statement=statement))
        return _download(content, content_type=XLSX, filename=self._filename(statement, "xlsx"))

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], filterset_class=None)
    def csv(self, request: Request, pk: str) -> HttpResponse:
        """The statement's trip lines as CSV (UTF-8 with a byte-order mark)."""
        statement = self.get_object()
        audit_record(actor=acting_user(request), obj=statement, action="download_csv")
        content = exports.statement_csv(statement, statement_lines(statement=statement))
        return _download(
            content,
            content_type="text/csv; charset=utf-8",
            filename=self._filename(statement, "csv"),
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT, required=True),
            OpenApiParameter("file", OpenApiTypes.STR, enum=["csv", "xlsx"], default="csv"),
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSX): OpenApiTypes.BINARY,
        },
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="public-notice",
        filterset_class=None,
        pagination_class=None,
    )
    def public_notice(self, request: Request) -> HttpResponse:
        """The public-notice list (公示): each company's issued amount for the year."""
        data = s.PublicNoticeInputSerializer(data=request.query_params.dict())
        data.is_valid(raise_exception=True)
        year = data.validated_data["year"]
        user = acting_user(request)
        rows = public_notice(user=user, year=year)
        # The list is of no one object: recorded on the person who downloaded it.
        audit_record(
            actor=user,
            obj=user,
            action="download_public_notice",
            changes={"year": [None, year], "file": [None, data.validated_data["file"]]},
        )
        if data.validated_data["file"] == "xlsx":
            return _download(
                exports.public_notice_xlsx(rows),
                content_type=XLSX,
                filename=f"public-notice-{year}.xlsx",
            )
        return _download(
            exports.public_notice_csv(rows),
            content_type="text/csv; charset=utf-8",
            filename=f"public-notice-{year}.csv",
        )
