"""After the statement over REST: the public notice and objections (no token), objection
decisions, payment batches with their treasury file, and clawbacks. Thin."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import permission
from core.roles import SEE_ALL_COMPANIES, SETTLE
from core.web import acting_user
from subsidies.selectors import statement_list

from . import exports, services
from . import serializers as s
from .models import Clawback, Objection, PaymentBatch, WorkCalendarYear
from .selectors import (
    batch_list,
    clawback_list,
    notice_totals,
    objection_list,
    public_notice,
    public_statement,
    work_calendar_history,
    work_calendars,
)
from .throttling import ObjectionThrottle
from .workdays import DayRange

Government = permission(SEE_ALL_COMPANIES)
Finance = permission(SETTLE)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def how_to_object(request: HttpRequest | Request, year: int) -> str:
    """Said where the notice is read, the printed PDF too: so the page's full address, not
    a path of the API (its clients have the API's description)."""
    page = request.build_absolute_uri(reverse("payments:public_notice", args=[year]))
    return _(
        "Anyone may object to an amount while its notice runs, on the public-notice page "
        "%(page)s, with a name, a contact and the text. The finance bureau decides each "
        "objection and gives its reason."
    ) % {"page": page}


def _download(content: bytes, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class PublicNoticeView(APIView):
    """The public notice (公示) of a year as JSON: no token needed."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[s.PublicNoticeQueryInputSerializer],
        responses=s.PublicNoticeOutputSerializer,
        auth=[],
    )
    def get(self, request: Request) -> Response:
        data = s.PublicNoticeQueryInputSerializer(data=request.query_params.dict())
        data.is_valid(raise_exception=True)
        year = data.validated_data["year"]
        rows = public_notice(year=year)
        km, yuan = notice_totals(rows)
        return Response(
            s.PublicNoticeOutputSerializer(
                {
                    "year": year,
                    "how_to_object": how_to_object(request, year),
                    "rows": rows,
                    "total_km": km,
                    "total_yuan": yuan,
                }
            ).data
        )


class ObjectionCreateView(APIView):
    """Object to a statement on public notice: anyone, no token, throttled per address."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [ObjectionThrottle]

    @extend_schema(
        request=s.ObjectionInputSerializer,
        responses={201: s.ObjectionReceiptOutputSerializer},
        auth=[],
    )
    def post(self, request: Request, pk: int) -> Response:
        statement = public_statement(statement_id=pk)
        if statement is None:
            raise Http404
        data = s.ObjectionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        objection = services.objection_submit(statement=statement, **data.validated_data)
        return Response(
            s.ObjectionReceiptOutputSerializer(objection).data, status=status.HTTP_201_CREATED
        )


class ObjectionViewSet(viewsets.GenericViewSet[Objection]):
    serializer_class = s.ObjectionOutputSerializer
    queryset = Objection.objects.none()
    filterset_class = None

    def get_queryset(self) -> QuerySet[Objection]:
        return objection_list(user=acting_user(self.request))

    def get_permissions(self) -> list[BasePermission]:
        if self.action == "resolve":
            return [IsAuthenticated(), Finance()]
        return [IsAuthenticated(), Government()]

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.ObjectionOutputSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.ObjectionOutputSerializer(self.get_object()).data)

    @extend_schema(request=s.ObjectionResolveInputSerializer, responses=s.ObjectionOutputSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        """Uphold (the statement waits for an adjustment) or dismiss, with the reason."""
        objection = self.get_object()
        data = s.ObjectionResolveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        objection = services.objection_resolve(
            actor=acting_user(request), objection=objection, **data.validated_data
        )
        return Response(s.ObjectionOutputSerializer(objection).data)


class PaymentBatchViewSet(viewsets.GenericViewSet[PaymentBatch]):
    serializer_class = s.PaymentBatchOutputSerializer
    queryset = PaymentBatch.objects.none()
    filterset_class = None

    def get_queryset(self) -> QuerySet[PaymentBatch]:
        return batch_list(user=acting_user(self.request))

    def get_permissions(self) -> list[BasePermission]:
        return [IsAuthenticated(), Finance()]

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.PaymentBatchOutputSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.PaymentBatchOutputSerializer(self.get_object()).data)

    @extend_schema(
        request=s.PaymentBatchInputSerializer, responses={201: s.PaymentBatchOutputSerializer}
    )
    def create(self, request: Request) -> Response:
        """Group issued statements whose notice has closed into a batch."""
        user = acting_user(request)
        data = s.PaymentBatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data["statements"]
        statements = list(statement_list(user=user).filter(pk__in=ids))
        if len(statements) != len(set(ids)):
            raise exceptions.ValidationError({"statements": [_("No such statement.")]})
        batch = services.batch_create(
            actor=user, statements=statements, purpose=data.validated_data["purpose"]
        )
        return Response(s.PaymentBatchOutputSerializer(batch).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.BatchActionInputSerializer, responses=s.PaymentBatchOutputSerializer)
    @action(detail=True, methods=["post"])
    def issue(self, request: Request, pk: str) -> Response:
        """Send the batch to the treasury."""
        data = s.BatchActionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        batch = services.batch_issue(
            actor=acting_user(request), batch=self.get_object(), **data.validated_data
        )
        return Response(s.PaymentBatchOutputSerializer(batch).data)

    @extend_schema(request=s.BatchPaidInputSerializer, responses=s.PaymentBatchOutputSerializer)
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request: Request, pk: str) -> Response:
        """Record each payment's bank reference; not by whoever sent the batch."""
        batch = self.get_object()
        data = s.BatchPaidInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        references: dict[int, str] = {}
        for key, value in data.validated_data["references"].items():
            try:
                references[int(key)] = value
            except ValueError:
                raise exceptions.ValidationError(
                    {"references": [_("Key each reference by a statement id.")]}
                ) from None
        batch = services.batch_mark_paid(
            actor=acting_user(request),
            batch=batch,
            references=references,
            reason=data.validated_data["reason"],
        )
        return Response(s.PaymentBatchOutputSerializer(batch).data)

    @extend_schema(responses={(200, XLSX): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def xlsx(self, request: Request, pk: str) -> HttpResponse:
        """The treasury payment file."""
        batch = self.get_object()
        return _download(
            exports.treasury_xlsx(batch), content_type=XLSX, filename=f"batch-{batch.pk}.xlsx"
        )

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def csv(self, request: Request, pk: str) -> HttpResponse:
        """The treasury payment file as CSV (UTF-8 with a byte-order mark)."""
        batch = self.get_object()
        return _download(
            exports.treasury_csv(batch),
            content_type="text/csv; charset=utf-8",
            filename=f"batch-{batch.pk}.csv",
        )


class ClawbackViewSet(viewsets.GenericViewSet[Clawback]):
    serializer_class = s.ClawbackOutputSerializer
    queryset = Clawback.objects.none()
    filterset_class = None

    def get_queryset(self) -> QuerySet[Clawback]:
        return clawback_list(user=acting_user(self.request))

    def get_permissions(self) -> list[BasePermission]:
        return [IsAuthenticated(), Finance()]

    def _statement(self, request: Request, pk: int) -> Any:
        statement = statement_list(user=acting_user(request)).filter(pk=pk).first()
        if statement is None:
            raise exceptions.ValidationError({"statement": [_("No such statement.")]})
        return statement

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.ClawbackOutputSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.ClawbackOutputSerializer(self.get_object()).data)

    @extend_schema(request=s.ClawbackInputSerializer, responses={201: s.ClawbackOutputSerializer})
    def create(self, request: Request) -> Response:
        """Open a clawback (追回) of money paid on a statement, with an optional penalty."""
        data = s.ClawbackInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        statement = self._statement(request, fields.pop("statement"))
        clawback = services.clawback_open(actor=acting_user(request), statement=statement, **fields)
        return Response(s.ClawbackOutputSerializer(clawback).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ClawbackRecoverInputSerializer, responses=s.ClawbackOutputSerializer)
    @action(detail=True, methods=["post"])
    def recover(self, request: Request, pk: str) -> Response:
        clawback = self.get_object()
        data = s.ClawbackRecoverInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        clawback = services.clawback_recover(
            actor=acting_user(request), clawback=clawback, **data.validated_data
        )
        return Response(s.ClawbackOutputSerializer(clawback).data)

    @extend_schema(request=s.ClawbackRecoverInputSerializer, responses=s.ClawbackOutputSerializer)
    @action(detail=True, methods=["post"], url_path="recover-penalty")
    def recover_penalty(self, request: Request, pk: str) -> Response:
        clawback = self.get_object()
        data = s.ClawbackRecoverInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        clawback = services.clawback_recover_penalty(
            actor=acting_user(request), clawback=clawback, **data.validated_data
        )
        return Response(s.ClawbackOutputSerializer(clawback).data)

    @extend_schema(request=s.ClawbackOffsetInputSerializer, responses=s.ClawbackOutputSerializer)
    @action(detail=True, methods=["post"])
    def offset(self, request: Request, pk: str) -> Response:
        """Withhold the amount from the company's next statement, as an explicit line."""
        clawback = self.get_object()
        data = s.ClawbackOffsetInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        against = self._statement(request, data.validated_data["statement"])
        clawback = services.clawback_offset(
            actor=acting_user(request), clawback=clawback, against=against
        )
        return Response(s.ClawbackOutputSerializer(clawback).data)


class WorkCalendarViewSet(viewsets.GenericViewSet[WorkCalendarYear]):
    """The holiday schedules finance entered for years the chinese-calendar package does
    not know (payments/workdays.py); `{year}` is the key. A year corrected has several
    revisions: the newest is in effect, the list shows them all."""

    serializer_class = s.WorkCalendarOutputSerializer
    queryset = WorkCalendarYear.objects.none()
    filterset_class = None
    lookup_field = "year"
    lookup_value_regex = "[0-9]{4}"

    def get_queryset(self) -> QuerySet[WorkCalendarYear]:
        return work_calendars()

    def get_permissions(self) -> list[BasePermission]:
        return [IsAuthenticated(), Finance()]

    def list(self, request: Request) -> Response:
        """Every revision of every entered year, newest year and revision first."""
        page = self.paginate_queryset(work_calendar_history())
        return self.get_paginated_response(s.WorkCalendarOutputSerializer(page, many=True).data)

    def retrieve(self, request: Request, year: str) -> Response:
        """The year's revision in effect."""
        return Response(s.WorkCalendarOutputSerializer(self.get_object()).data)

    @extend_schema(
        request=s.WorkCalendarInputSerializer, responses={201: s.WorkCalendarOutputSerializer}
    )
    def create(self, request: Request) -> Response:
        """Enter a year's official schedule, all of it at once; or, with a `reason`, correct
        an entered year by a new revision of all of it. What was entered never changes."""
        data = s.WorkCalendarInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        ranges = [
            DayRange(r["start"], r.get("end", r["start"]), r["kind"], r["name"])
            for r in fields["ranges"]
        ]
        common = {"year": fields["year"], "source": fields["source"], "ranges": ranges}
        calendar = (
            services.work_calendar_correct(
                actor=acting_user(request),
                reason=fields["reason"],
                seen_revision=fields["seen_revision"],
                **common,
            )
            if fields["reason"].strip()
            else services.work_calendar_enter(actor=acting_user(request), **common)
        )
        return Response(
            s.WorkCalendarOutputSerializer(calendar).data, status=status.HTTP_201_CREATED
        )
