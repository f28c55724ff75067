"""Incidents: a collision opens one with a report deadline; the dashboard counts open and
overdue ones; a trip holding an incident keeps its raw file past the retention."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from core.errors import ApplicationError
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
    services.incident_report(actor=world.staff_a, incident=reported, report="已报告交警。")
    assert incident_counts(user=world.bureau) == incident_counts(user=world.staff_a)
    counts = incident_counts(user=world.bureau)
    assert (counts.open, counts.overdue) == (2, 1)
    assert incident_counts(user=world.staff_b).open == 0


def test_another_company_cannot_report_an_incident(world: World) -> None:
    incident = collide(world, timezone.now())
    with pytest.raises(ApplicationError):
        services.incident_report(actor=world.staff_b, incident=incident, report="x")


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
