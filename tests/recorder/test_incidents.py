"""Incidents: a collision opens one with a report deadline; the dashboard counts open and
overdue ones; a trip holding an incident keeps its raw file past the retention."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from core.errors import ApplicationError
from core.models import AuditRecord
from operators.models import User
from recorder import services
from recorder.models import Incident
from recorder.selectors import incident_counts
from subsidies.retention import raw_tracks_purge
from tests.conftest import World
from tests.trips.csvtrace import straight_east
from trips import services as trip_services
from trips.models import Trip

pytestmark = pytest.mark.django_db

HEADER = "time,vin,event,initiator,lat,lon,note\n"


def collide(world: World, at: dt.datetime) -> Incident:
    data = f"{HEADER}{at.isoformat()},{world.vehicle_a.vin},collision,,37.86,113.55,\n"
    services.ads_events_import(actor=world.staff_a, data=data.encode())
    return Incident.objects.get(occurred_at=at)


def report(world: World, incident: Incident, actor: User | None = None) -> Incident:
    return services.incident_report(
        actor=actor or world.staff_a,
        incident=incident,
        report="低速倒车时与路边护栏轻微剐蹭，已报告交警。",
        cause="护栏未被感知",
        injured=0,
        damage="后保险杠划痕",
    )


def test_the_report_deadline_follows_the_setting(world: World, settings: Any) -> None:
    settings.INCIDENT_REPORT_DUE_H = 48
    at = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
    # 48 h after 01:00 UTC on 2 March: 01:00 UTC on 4 March.
    assert collide(world, at).report_due_at == dt.datetime(2026, 3, 4, 1, 0, tzinfo=dt.UTC)


def test_the_dashboard_counts_open_and_overdue_incidents(world: World) -> None:
    now = timezone.now()
    collide(world, now - dt.timedelta(hours=30))  # due 6 h ago: overdue
    collide(world, now - dt.timedelta(hours=2))  # due in 22 h: open
    reported = collide(world, now - dt.timedelta(hours=40))
    report(world, reported)
    assert incident_counts(user=world.bureau) == incident_counts(user=world.staff_a)
    counts = incident_counts(user=world.bureau)
    assert (counts.open, counts.overdue) == (2, 1)
    assert incident_counts(user=world.staff_b).open == 0


def test_another_company_cannot_report_an_incident(world: World) -> None:
    incident = collide(world, timezone.now())
    with pytest.raises(ApplicationError):
        report(world, incident, actor=world.staff_b)


def test_a_trip_with_an_incident_keeps_its_raw_file_past_the_retention(world: World) -> None:
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    trips = []
    for hour in (0, 2):  # two trips of 30 s, two hours apart
        trip, _ = trip_services.trip_upload(
            actor=world.staff_a,
            vin=world.vehicle_a.vin,
            data=straight_east(start=start + dt.timedelta(hours=hour), metres=300),
        )
        trips.append(trip_services.trip_process(trip_id=trip.pk))
    Trip.objects.update(received_at=timezone.now() - dt.timedelta(days=400))
    # A collision 60 s after the first trip ended: its last 90 s are in that trip.
    collide(world, start + dt.timedelta(seconds=90))
    listed = raw_tracks_purge(older_than=dt.timedelta(days=30))
    assert [t.pk for t in listed] == [trips[1].pk]


def test_after_a_year_the_incidents_trip_may_go_too(world: World, settings: Any) -> None:
    settings.INCIDENT_RAW_RETENTION_DAYS = 366
    start = timezone.now() - dt.timedelta(days=400)
    trip, _ = trip_services.trip_upload(
        actor=world.staff_a, vin=world.vehicle_a.vin, data=straight_east(start=start, metres=300)
    )
    trip = trip_services.trip_process(trip_id=trip.pk)
    Trip.objects.update(received_at=start)
    collide(world, start + dt.timedelta(seconds=10))
    assert [t.pk for t in raw_tracks_purge(older_than=dt.timedelta(days=30))] == [trip.pk]


def test_an_incident_is_overdue_while_open_past_its_deadline(world: World) -> None:
    now = timezone.now()
    late = collide(world, now - dt.timedelta(hours=25))  # due an hour ago
    on_time = collide(world, now - dt.timedelta(hours=23))  # due in an hour
    assert (late.overdue, on_time.overdue) == (True, False)
    # A late report is taken, and the incident is no longer overdue (the report shows late).
    late = report(world, late)
    assert late.reported_at is not None
    assert late.reported_at > late.report_due_at
    assert not late.overdue
    assert incident_counts(user=world.bureau).overdue == 0


def test_the_company_reports_and_the_bureau_closes_with_a_reason_audited(world: World) -> None:
    incident = report(world, collide(world, timezone.now()))
    assert (incident.status, incident.cause, incident.injured) == ("reported", "护栏未被感知", 0)
    closed = services.incident_close(
        actor=world.bureau, incident=incident, reason="报告完整，损失轻微。"
    )
    assert (closed.status, closed.close_reason) == ("closed", "报告完整，损失轻微。")
    assert closed.closed_at is not None
    trail = AuditRecord.objects.filter(
        object_id=str(incident.pk), action__in=["reported", "closed"]
    )
    assert [(r.action, r.actor_id) for r in trail.order_by("pk")] == [
        ("reported", world.staff_a.pk),
        ("closed", world.bureau.pk),
    ]
    assert trail.get(action="closed").reason == "报告完整，损失轻微。"


def test_the_bureau_closes_an_unreported_incident_a_false_alarm(world: World) -> None:
    incident = collide(world, timezone.now())
    closed = services.incident_close(
        actor=world.bureau, incident=incident, reason="误报：传感器故障"
    )
    assert (closed.status, closed.reported_at, closed.report) == ("closed", None, "")


@pytest.mark.after_statement  # FOUR_EYES on, as in production
def test_one_officer_may_report_and_close_closing_is_not_a_four_eyes_step(
    world: World, settings: Any
) -> None:
    assert settings.FOUR_EYES
    incident = report(world, collide(world, timezone.now()), actor=world.bureau)
    closed = services.incident_close(actor=world.bureau, incident=incident, reason="已核实")
    assert closed.status == "closed"


@pytest.mark.parametrize(
    ("field", "changes"),
    [("report", {"report": "  "}), ("cause", {"cause": ""}), ("injured", {"injured": -1})],
)
def test_a_report_without_its_account_cause_or_injured_is_refused_naming_the_field(
    world: World, field: str, changes: dict[str, Any]
) -> None:
    incident = collide(world, timezone.now())
    data: dict[str, Any] = {"report": "剐蹭", "cause": "护栏", "injured": 0, **changes}
    with pytest.raises(ApplicationError) as refused:
        services.incident_report(actor=world.staff_a, incident=incident, **data)
    assert refused.value.field == field
    incident.refresh_from_db()
    assert incident.status == "open"


def test_closing_needs_a_reason_and_the_bureau(world: World) -> None:
    incident = collide(world, timezone.now())
    with pytest.raises(ApplicationError) as refused:
        services.incident_close(actor=world.bureau, incident=incident, reason=" ")
    assert refused.value.field == "reason"
    with pytest.raises(PermissionDenied):
        services.incident_close(actor=world.staff_a, incident=incident, reason="x")


def test_a_closed_incident_is_final(world: World) -> None:
    incident = services.incident_close(
        actor=world.bureau, incident=collide(world, timezone.now()), reason="误报"
    )
    with pytest.raises(ApplicationError) as refused:
        report(world, incident)
    assert refused.value.field == "status"
    with pytest.raises(ApplicationError):
        services.incident_close(actor=world.bureau, incident=incident, reason="again")


def test_the_database_refuses_a_closed_incident_without_its_reason(world: World) -> None:
    incident = collide(world, timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE recorder_incident SET status = 'closed', closed_at = %s WHERE id = %s",
            [timezone.now(), incident.pk],
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_database_refuses_reopening_changing_or_deleting_a_closed_incident(
    world: World,
) -> None:
    reported = report(world, collide(world, timezone.now()))
    closed = services.incident_close(
        actor=world.bureau, incident=collide(world, timezone.now()), reason="误报"
    )
    refused = [
        (
            "UPDATE recorder_incident SET status = 'open', closed_at = NULL, close_reason = '' "
            "WHERE id = %s",
            closed.pk,
        ),
        ("UPDATE recorder_incident SET close_reason = '改写' WHERE id = %s", closed.pk),
        ("DELETE FROM recorder_incident WHERE id = %s", closed.pk),
        (
            "UPDATE recorder_incident SET status = 'open', reported_at = NULL, report = '', "
            "cause = '', injured = NULL, damage = '' WHERE id = %s",
            reported.pk,
        ),
    ]
    for sql, pk in refused:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [pk])
    closed.refresh_from_db()
    reported.refresh_from_db()
    assert (closed.status, closed.close_reason, reported.status) == ("closed", "误报", "reported")
