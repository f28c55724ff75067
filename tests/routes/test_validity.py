""" "Approved and valid at this instant", read in SQL and in Python, gives one answer.

Windows and instants are drawn on a small grid of hours so that instants often fall exactly
on a window's start or end ([valid_from, valid_to): the start counts, the end does not), and
windows are often empty ([t, t)) or open-ended.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routes.models import RoadSegment
from routes.selectors import zone_timeline, zones_cache_clear, zones_valid_at
from routes.validity import (
    NONEMPTY_WINDOW,
    is_valid_at,
    is_valid_during,
    valid_at_q,
    valid_during_q,
    window_contains,
    window_is_empty,
    window_meets,
)
from tests.conftest import World
from tests.routes.helpers import east_west_road

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
HOURS = 8


def hour(n: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=n)


# An instant on the hour grid or halfway between two of its points.
instants = st.integers(min_value=-2, max_value=2 * HOURS + 2).map(
    lambda half_hours: T0 + dt.timedelta(minutes=30 * half_hours)
)


@dataclass(frozen=True)
class Window:
    approved: bool
    start: int
    length: int | None  # hours; None = open-ended, 0 = empty

    @property
    def valid_from(self) -> dt.datetime:
        return hour(self.start)

    @property
    def valid_to(self) -> dt.datetime | None:
        return None if self.length is None else hour(self.start + self.length)


windows = st.builds(
    Window,
    approved=st.booleans(),
    start=st.integers(min_value=0, max_value=HOURS),
    length=st.none() | st.integers(min_value=0, max_value=3),
)
property_settings = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def insert(world: World, drawn: list[Window]) -> list[RoadSegment]:
    """Rows straight into the table: approved versions, and rows with a window that were
    never approved (retired drafts), which must never count."""
    rows = [
        RoadSegment(
            series=uuid.uuid4(),
            kind=RoadSegment.Kind.ROAD,
            name=f"路{i}",
            geometry=east_west_road(),
            corridor_half_width_m=15,
            length_m=880.0,
            status=RoadSegment.Status.APPROVED if w.approved else RoadSegment.Status.RETIRED,
            valid_from=w.valid_from,
            valid_to=w.valid_to,
            approval_ref="阳交〔2025〕1号" if w.approved else "",
            approved_by=world.bureau if w.approved else None,
            approved_at=timezone.now() if w.approved else None,
            window_revision=1,
        )
        for i, w in enumerate(drawn)
    ]
    return RoadSegment.objects.bulk_create(rows)


def sql_ids(q: Q) -> set[int]:
    return set(RoadSegment.objects.filter(q).values_list("pk", flat=True))


@property_settings
@given(drawn=st.lists(windows, max_size=6), at=instants)
def test_sql_and_python_agree_on_approved_and_valid_at_an_instant(
    world: World, drawn: list[Window], at: dt.datetime
) -> None:
    with transaction.atomic():
        zones_cache_clear()  # rolled-back rows may come back with the same ids and stamp
        rows = insert(world, drawn)
        expected = {
            row.pk
            for row in rows
            if is_valid_at(
                approved_at=row.approved_at, valid_from=row.valid_from, valid_to=row.valid_to, at=at
            )
        }
        assert sql_ids(valid_at_q(at)) == expected
        # The zone cache's timeline is the verifier's Python reading of the same rule.
        assert {zone.segment_id for zone in zones_valid_at(at=at)} == expected
        transaction.set_rollback(True)


@property_settings
@given(drawn=st.lists(windows, max_size=6), start=instants, end=instants)
def test_sql_and_python_agree_on_valid_during_an_interval(
    world: World, drawn: list[Window], start: dt.datetime, end: dt.datetime
) -> None:
    with transaction.atomic():
        zones_cache_clear()
        rows = insert(world, drawn)
        expected = {
            row.pk
            for row in rows
            if is_valid_during(
                approved_at=row.approved_at,
                valid_from=row.valid_from,
                valid_to=row.valid_to,
                start=start,
                end=end,
            )
        }
        assert sql_ids(valid_during_q(start, end)) == expected
        if start < end:
            pieces = zone_timeline(start=start, end=end)
            assert {zone.segment_id for piece in pieces for zone in piece.zones} == expected
        transaction.set_rollback(True)


@property_settings
@given(drawn=st.lists(windows, max_size=6))
def test_sql_and_python_agree_on_which_windows_are_empty(world: World, drawn: list[Window]) -> None:
    with transaction.atomic():
        rows = insert(world, drawn)
        expected = {
            row.pk
            for row in rows
            if row.valid_from is not None and not window_is_empty(row.valid_from, row.valid_to)
        }
        assert sql_ids(NONEMPTY_WINDOW) == expected
        transaction.set_rollback(True)


@given(
    start=st.integers(-5, 5),
    end=st.none() | st.integers(-5, 5),
    at=st.integers(-6, 6),
    other=st.integers(-6, 6),
)
def test_an_empty_window_holds_no_instant_and_meets_no_interval(
    start: int, end: int | None, at: int, other: int
) -> None:
    valid_to = None if end is None else hour(end)
    if window_is_empty(hour(start), valid_to):
        assert not window_contains(hour(start), valid_to, hour(at))
        assert not window_meets(hour(start), valid_to, hour(at), hour(other))
    if at < other:  # meeting [at, other) is containing one of its instants (here: its hours)
        contained = any(window_contains(hour(start), valid_to, hour(t)) for t in range(at, other))
        assert window_meets(hour(start), valid_to, hour(at), hour(other)) == contained


@pytest.mark.parametrize(
    ("at", "valid"),
    [(hour(0) - dt.timedelta(microseconds=1), False), (hour(0), True), (hour(2), False)],
)
def test_the_window_holds_its_start_and_not_its_end(at: dt.datetime, valid: bool) -> None:
    assert window_contains(hour(0), hour(2), at) is valid
