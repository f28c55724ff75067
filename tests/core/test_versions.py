"""The version a form carries (core/versions.py): the object's newest audit record."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import ApplicationError
from core.versions import check_version, version_of
from operators import services
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_every_audited_write_makes_a_new_version(world: World) -> None:
    before = version_of(world.vehicle_a)
    services.vehicle_update(actor=world.bureau, vehicle=world.vehicle_a, data={"plate": "晋C99999"})
    assert version_of(world.vehicle_a) > before


def test_an_object_without_an_audit_record_is_version_zero(world: World) -> None:
    world.vehicle_a.pk = 10**9  # no such row: nothing audited about it
    assert version_of(world.vehicle_a) == 0


def test_the_current_version_passes_and_no_version_is_not_checked(world: World) -> None:
    check_version(world.vehicle_a, version_of(world.vehicle_a))
    check_version(world.vehicle_a, None)


def test_an_older_version_is_refused_naming_the_hidden_field(world: World) -> None:
    with pytest.raises(ApplicationError) as caught:
        check_version(world.vehicle_a, version_of(world.vehicle_a) - 1)
    assert caught.value.field == "seen_version"


def test_a_stale_renewal_through_the_service_changes_nothing(world: World) -> None:
    seen = version_of(world.vehicle_a)
    services.vehicle_update(actor=world.bureau, vehicle=world.vehicle_a, data={"plate": "晋C88888"})
    with pytest.raises(ApplicationError):
        services.vehicle_approve(
            actor=world.bureau,
            vehicle=world.vehicle_a,
            permit_number="0202",
            permit_valid_from=dt.date(2026, 1, 1),
            permit_valid_to=dt.date(2026, 12, 31),
            seen_version=seen,
        )
    world.vehicle_a.refresh_from_db()
    assert world.vehicle_a.permit_number == f"TEST-{world.vehicle_a.pk}"
