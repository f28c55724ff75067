"""Companies, vehicles and tokens over REST. Thin: validate, call a service, serialise."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import permission
from core.roles import MANAGE_COMPANIES
from core.web import acting_user

from . import serializers as s
from . import services
from .filters import OperatorFilter, VehicleFilter
from .models import ApiToken, Operator, User, Vehicle
from .selectors import operator_list, vehicle_list
from .throttling import client_address, login_wait_s

GovernmentWriter = permission(MANAGE_COMPANIES)


class OperatorViewSet(viewsets.GenericViewSet[Operator]):
    serializer_class = s.OperatorOutputSerializer
    filterset_class = OperatorFilter
    queryset = Operator.objects.none()  # for the schema; get_queryset scopes by user

    def get_queryset(self) -> QuerySet[Operator]:
        return operator_list(user=acting_user(self.request))

    def get_permissions(self) -> list[BasePermission]:
        # A company's own staff may ask to change its bank details (the service checks whose).
        if self.action in ("list", "retrieve", "bank_details"):
            return [IsAuthenticated()]
        return [IsAuthenticated(), GovernmentWriter()]

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.OperatorOutputSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.OperatorOutputSerializer(self.get_object()).data)

    @extend_schema(request=s.OperatorCreateInputSerializer, responses=s.OperatorOutputSerializer)
    def create(self, request: Request) -> Response:
        data = s.OperatorCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        operator = services.operator_create(actor=acting_user(request), **data.validated_data)
        return Response(s.OperatorOutputSerializer(operator).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.OperatorCreateInputSerializer, responses=s.OperatorOutputSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        operator = self.get_object()
        data = s.OperatorCreateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        operator = services.operator_update(
            actor=acting_user(request), operator=operator, data=dict(data.validated_data)
        )
        return Response(s.OperatorOutputSerializer(operator).data)

    @extend_schema(request=s.OperatorAdmitInputSerializer, responses=s.OperatorOutputSerializer)
    @action(detail=True, methods=["post"])
    def admit(self, request: Request, pk: str) -> Response:
        operator = self.get_object()
        data = s.OperatorAdmitInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        operator = services.operator_admit(
            actor=acting_user(request), operator=operator, **data.validated_data
        )
        return Response(s.OperatorOutputSerializer(operator).data)

    @extend_schema(request=s.OperatorStatusInputSerializer, responses=s.OperatorOutputSerializer)
    @action(detail=True, methods=["post"], url_path="set-status")
    def set_status(self, request: Request, pk: str) -> Response:
        operator = self.get_object()
        data = s.OperatorStatusInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        operator = services.operator_set_status(
            actor=acting_user(request), operator=operator, **data.validated_data
        )
        return Response(s.OperatorOutputSerializer(operator).data)

    @extend_schema(
        request=s.BankDetailsInputSerializer, responses={201: s.BankDetailsChangeOutputSerializer}
    )
    @action(detail=True, methods=["post"], url_path="bank-details")
    def bank_details(self, request: Request, pk: str) -> Response:
        """Ask to change where the company is paid; the bureau confirms (audited)."""
        operator = self.get_object()
        data = s.BankDetailsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = services.bank_details_request(
            actor=acting_user(request), operator=operator, **data.validated_data
        )
        return Response(
            s.BankDetailsChangeOutputSerializer(change).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=s.BankDetailsDecisionInputSerializer, responses=s.BankDetailsChangeOutputSerializer
    )
    @action(detail=True, methods=["post"], url_path="bank-details/decide")
    def bank_details_decide(self, request: Request, pk: str) -> Response:
        """The bureau confirms or rejects a pending change (not the person who asked)."""
        operator = self.get_object()
        data = s.BankDetailsDecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        change = operator.bank_changes.filter(pk=fields.pop("change")).first()
        if change is None:
            raise exceptions.ValidationError({"change": [_("No such change.")]})
        change = services.bank_details_decide(actor=acting_user(request), change=change, **fields)
        return Response(s.BankDetailsChangeOutputSerializer(change).data)


class VehicleViewSet(viewsets.GenericViewSet[Vehicle]):
    serializer_class = s.VehicleOutputSerializer
    filterset_class = VehicleFilter
    queryset = Vehicle.objects.none()

    def get_queryset(self) -> QuerySet[Vehicle]:
        return vehicle_list(user=acting_user(self.request))

    def get_permissions(self) -> list[BasePermission]:
        if self.action in ("approve", "set_status"):
            return [IsAuthenticated(), GovernmentWriter()]
        return [IsAuthenticated()]

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.VehicleOutputSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.VehicleOutputSerializer(self.get_object()).data)

    @extend_schema(request=s.VehicleCreateInputSerializer, responses=s.VehicleOutputSerializer)
    def create(self, request: Request) -> Response:
        user = acting_user(request)
        data = s.VehicleCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields: dict[str, Any] = dict(data.validated_data)
        operator_id = fields.pop("operator", None)
        operator = (
            None
            if operator_id is None
            # An id the user cannot see reads as "no such company", never as "forbidden".
            else operator_list(user=user).filter(pk=operator_id).first()
        )
        if operator_id is not None and operator is None:
            raise exceptions.ValidationError({"operator": [_("No such company.")]})
        vehicle = services.vehicle_propose(actor=user, operator=operator, **fields)
        return Response(s.VehicleOutputSerializer(vehicle).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.VehicleUpdateInputSerializer, responses=s.VehicleOutputSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        vehicle = self.get_object()
        data = s.VehicleUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        vehicle = services.vehicle_update(
            actor=acting_user(request), vehicle=vehicle, data=dict(data.validated_data)
        )
        return Response(s.VehicleOutputSerializer(vehicle).data)

    @extend_schema(request=s.VehicleApproveInputSerializer, responses=s.VehicleOutputSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        vehicle = self.get_object()
        data = s.VehicleApproveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        vehicle = services.vehicle_approve(
            actor=acting_user(request), vehicle=vehicle, **data.validated_data
        )
        return Response(s.VehicleOutputSerializer(vehicle).data)

    @extend_schema(request=s.VehicleStatusInputSerializer, responses=s.VehicleOutputSerializer)
    @action(detail=True, methods=["post"], url_path="set-status")
    def set_status(self, request: Request, pk: str) -> Response:
        vehicle = self.get_object()
        data = s.VehicleStatusInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        vehicle = services.vehicle_set_status(
            actor=acting_user(request), vehicle=vehicle, **data.validated_data
        )
        return Response(s.VehicleOutputSerializer(vehicle).data)


class TokenView(APIView):
    """Exchange a username and password for an API token; DELETE revokes the token in use."""

    permission_classes = [AllowAny]

    @extend_schema(
        request=s.TokenInputSerializer,
        responses={
            200: s.TokenOutputSerializer,
            429: OpenApiResponse(description="Too many failed logins; see Retry-After."),
        },
    )
    def post(self, request: Request) -> Response:
        data = s.TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wait = login_wait_s(
            username=data.validated_data["username"], address=client_address(request._request)
        )
        if wait is not None:
            raise exceptions.Throttled(wait, _("Too many failed logins. Try again later."))
        user = authenticate(request._request, **data.validated_data)
        if not isinstance(user, User):
            raise exceptions.AuthenticationFailed(_("Wrong username or password."))
        return Response({"token": services.token_create(user=user)})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        if not isinstance(request.auth, ApiToken):
            raise exceptions.NotAuthenticated(_("Send the token to revoke in the header."))
        services.token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)
