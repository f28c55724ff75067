"""The computation derives an adjustment only from audited verification versions (issue
#12): trip figures changed around the application, even consistently with the triggers
off, refuse the year naming the trip and the figure, and no statement is written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from core.errors import ApplicationError
from core.models import AuditRecord
from operators.models import Vehicle
from subsidies import computation
from subsidies.models import Statement
from tests.conftest import World
from tests.core.tamper import triggers_off
from tests.subsidies.issued_trips import forge_version, issued_statement, verified_trip
from trips import services as trip_services
from trips.models import Trip

pytestmark = pytest.mark.django_db


def statement_rows() -> list[tuple[Any, ...]]:
    return list(Statement.objects.order_by("pk").values_list("pk", "status", "amount_yuan"))


def test_an_audited_reverification_after_issue_becomes_an_adjustment(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    statement, (trip, _) = issued_statement(world)
    # The permit withdrawn, recorded late: version 2 of the trip has no eligible metre.
    Vehicle.objects.filter(pk=world.vehicle_a.pk).update(status=Vehicle.Status.REJECTED)
    with django_capture_on_commit_callbacks(execute=True):
        trip_services.trip_reverify(actor=world.bureau, trip=trip, reason="许可证撤销")

    summary = computation.statements_compute(year=2025)

    adjustment = Statement.objects.get(pk__in=summary.created)
    assert adjustment.kind == Statement.Kind.ADJUSTMENT
    assert adjustment.amount_yuan < 0
    assert adjustment.previously_issued_yuan == statement.amount_yuan


def test_a_day_changed_with_the_triggers_off_refuses_the_computation(world: World) -> None:
    _, (trip, _) = issued_statement(world)
    with triggers_off(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE trips_tripday SET eligible_m = eligible_m * 10, "
            "autonomous_m = autonomous_m * 10 WHERE trip_id = %s",
            [trip.pk],
        )
    before = statement_rows()

    with (
        pytest.raises(ApplicationError, match=rf"trip #{trip.pk} days: version says") as error,
        translation.override("en"),
    ):
        computation.statements_compute(year=2025)

    assert error.value.field == "year"
    assert statement_rows() == before


def test_a_consistent_forged_version_refuses_the_computation(world: World) -> None:
    _, (trip, other) = issued_statement(world)
    forge_version(trip)
    before = statement_rows()

    with pytest.raises(ApplicationError) as error, translation.override("en"):
        computation.statements_compute(year=2025)

    message = str(error.value)
    assert f"trip #{trip.pk} current version: version says one made through the audited" in (
        message
    )
    assert f"#{other.pk}" not in message  # the untouched trip is not blamed
    assert statement_rows() == before


def test_an_audit_record_slipped_in_with_the_triggers_off_does_not_make_a_version_audited(
    world: World,
) -> None:
    _, (trip, _) = issued_statement(world)
    forge_version(trip)
    trip.refresh_from_db()
    genuine = AuditRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(Trip), object_id=str(trip.pk)
    ).latest("chain_seq")
    with triggers_off(), connection.cursor() as cursor:
        # The record a forger needs, at the next place in the chain, carrying a copied hash:
        # the link does not recompute from its content.
        cursor.execute(
            "INSERT INTO yangquan_av_auditrecord (at, action, content_type_id, object_id, "
            "object_repr, changes, reason, chain_seq, chain_prev, chain_sha256) "
            "VALUES (%s, 'reverify', %s, %s, '', %s, '', %s, %s, %s)",
            [
                genuine.at,
                genuine.content_type_id,
                str(trip.pk),
                json.dumps({"current_verification": [None, trip.current_verification_id]}),
                (AuditRecord.objects.latest("chain_seq").chain_seq or 0) + 1,
                genuine.chain_sha256,
                genuine.chain_sha256,
            ],
        )

    with (
        pytest.raises(ApplicationError, match=rf"trip #{trip.pk} current version"),
        translation.override("en"),
    ):
        computation.statements_compute(year=2025)


def test_trips_added_after_issue_through_the_services_are_not_refused(world: World) -> None:
    issued_statement(world)
    late = verified_trip(world, hour=5)
    assert late.status == Trip.Status.ACCEPTED

    summary = computation.statements_compute(year=2025)

    assert len(summary.created) == 1  # the adjustment for the late trip's kilometres


def test_the_api_and_the_page_refuse_the_computation_naming_the_trip(world: World) -> None:
    _, (trip, _) = issued_statement(world)
    forge_version(trip)
    before = statement_rows()
    api = APIClient()
    api.force_authenticate(world.finance)
    page = Client()
    page.force_login(world.finance)

    answer = api.post("/api/v1/statements/compute/", {"year": 2025}, format="json")
    form = page.post("/statements/compute/", {"year": 2025})

    assert answer.status_code == 400
    assert f"#{trip.pk}" in str(answer.json())
    assert form.status_code == 200
    assert f"行程 #{trip.pk} 的 current version" in form.content.decode()
    assert statement_rows() == before
