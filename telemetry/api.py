"""Terminals and live positions over REST. Thin: validate, call a service, serialise."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import permission
from core.web import acting_user

from . import serializers as s
from . import services
from .models import Terminal
from .selectors import live_positions, terminal_list

TerminalManager = permission(services.MANAGE_TERMINALS)


class TerminalViewSet(viewsets.GenericViewSet[Terminal]):
    serializer_class = s.TerminalOutputSerializer
    queryset = Terminal.objects.none()  # for the schema; get_queryset scopes by user

    def get_queryset(self) -> QuerySet[Terminal]:
        return terminal_list(user=acting_user(self.request))

    def get_permissions(self) -> list[BasePermission]:
        if self.action in ("list", "retrieve", "live"):
            return [IsAuthenticated()]
        return [IsAuthenticated(), TerminalManager()]

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.TerminalOutputSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.TerminalOutputSerializer(self.get_object()).data)

    @extend_schema(
        request=s.TerminalCreateInputSerializer, responses={201: s.TerminalCreatedOutputSerializer}
    )
    def create(self, request: Request) -> Response:
        data = s.TerminalCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        terminal, code = services.terminal_register(
            actor=acting_user(request),
            vehicle_id=data.validated_data["vehicle"],
            protocol=data.validated_data["protocol"],
            terminal_id=data.validated_data["terminal_id"],
        )
        answer = s.TerminalCreatedOutputSerializer(terminal, context={"auth_code": code})
        return Response(answer.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.TerminalDeactivateInputSerializer, responses=s.TerminalOutputSerializer
    )
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str) -> Response:
        terminal = self.get_object()
        data = s.TerminalDeactivateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        terminal = services.terminal_deactivate(
            actor=acting_user(request), terminal=terminal, reason=data.validated_data["reason"]
        )
        return Response(s.TerminalOutputSerializer(terminal).data)

    @extend_schema(request=None, responses={201: s.TerminalCreatedOutputSerializer})
    @action(detail=True, methods=["post"], url_path="issue-code")
    def issue_code(self, request: Request, pk: str) -> Response:
        terminal, code = services.terminal_issue_code(
            actor=acting_user(request), terminal=self.get_object()
        )
        answer = s.TerminalCreatedOutputSerializer(terminal, context={"auth_code": code})
        return Response(answer.data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.LivePositionOutputSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)
    def live(self, request: Request) -> Response:
        """Last position of every vehicle the user may see (the live map polls this)."""
        positions = live_positions(user=acting_user(request), now=timezone.now())
        return Response(s.LivePositionOutputSerializer(positions, many=True).data)
