"""Reading trips, scoped by the acting user's role."""

from __future__ import annotations

from django.db.models import QuerySet

from core.roles import Role
from operators.models import User

from .models import Trip


def trip_list(*, user: User) -> QuerySet[Trip]:
    trips = Trip.objects.select_related("vehicle", "operator")
    if user.role == Role.OPERATOR and user.operator_id is not None:
        return trips.filter(operator_id=user.operator_id)
    if user.is_government:
        return trips
    return Trip.objects.none()


def review_queue(*, user: User) -> QuerySet[Trip]:
    """Trips flagged for the bureau, oldest first."""
    if user.role not in (Role.BUREAU, Role.ADMIN):
        return Trip.objects.none()
    return trip_list(user=user).filter(status=Trip.Status.NEEDS_REVIEW).order_by("received_at")
