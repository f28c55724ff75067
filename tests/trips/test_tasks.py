"""The worker's task hands the C heap's free pages back after every trip, failed or not."""

from __future__ import annotations

import pytest

from trips import tasks
from trips.models import Trip


@pytest.mark.django_db
def test_the_free_heap_is_released_after_a_trip_even_when_it_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    released: list[bool] = []
    monkeypatch.setattr(tasks, "release_free_memory", lambda: released.append(True))
    with pytest.raises(Trip.DoesNotExist):
        tasks.process_trip.run(999_999)
    assert released == [True]


def test_releasing_the_free_heap_is_harmless_anywhere() -> None:
    tasks.release_free_memory()
