"""Reading trips, scoped by the acting user's role."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from core.roles import Role
from operators.models import User

from . import copies
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


@dataclass(frozen=True)
class ConflictShown:
    """A trip this one conflicts with, as the acting user may see it.

    A company sees its own conflicting trips; of another company's only that the
    recording was already submitted (`trip` and `other` None), never its number.
    """

    code: str
    trip: int | None
    own: bool  # the other trip is the same company's
    figures: dict[str, float]
    other: Trip | None


def trip_conflicts(*, user: User, trip: Trip) -> list[ConflictShown]:
    """The trips `trip` conflicts with: as recorded at verification, overlaps as they are now."""
    found = copies.stored_conflicts_now(trip)
    visible = trip_list(user=user).in_bulk([c.trip_id for c in found])
    operators = dict(
        Trip.objects.filter(pk__in=[c.trip_id for c in found]).values_list("pk", "operator_id")
    )
    shown = []
    for conflict in found:
        other = visible.get(conflict.trip_id)
        shown.append(
            ConflictShown(
                code=str(conflict.code),
                trip=other.pk if other else None,
                own=operators.get(conflict.trip_id) == trip.operator_id,
                figures=conflict.figures,
                other=other,
            )
        )
    return shown
