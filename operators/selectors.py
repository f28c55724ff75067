"""Reading companies and vehicles, scoped by the acting user's role."""

from __future__ import annotations

from django.db.models import QuerySet

from core.roles import Role

from .models import Operator, User, Vehicle


def operator_list(*, user: User) -> QuerySet[Operator]:
    if user.role == Role.OPERATOR and user.operator_id is not None:
        return Operator.objects.filter(pk=user.operator_id)
    if user.is_government:
        return Operator.objects.all()
    return Operator.objects.none()


def vehicle_list(*, user: User) -> QuerySet[Vehicle]:
    vehicles = Vehicle.objects.select_related("operator")
    if user.role == Role.OPERATOR and user.operator_id is not None:
        return vehicles.filter(operator_id=user.operator_id)
    if user.is_government:
        return vehicles
    return Vehicle.objects.none()
