"""Incidents over the API and on the pages: the company reports, the bureau closes; bad
input answered with the field and the reason, never a 500; another company's is not found."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from operators.models import User
from recorder.models import Incident
from tests.conftest import World, client_for
from tests.recorder.test_incidents import collide

pytestmark = pytest.mark.django_db

REPORT = {"report": "低速剐蹭护栏。", "cause": "护栏未被感知", "injured": 1, "damage": ""}


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_company_reports_and_the_bureau_closes_over_the_api(world: World) -> None:
    incident = collide(world, timezone.now())
    url = f"/api/v1/incidents/{incident.pk}/"
    response = client_for(world.staff_a).post(f"{url}report/", REPORT, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["injured"]) == ("reported", 1)
    assert client_for(world.staff_a).post(f"{url}close/", {"reason": "x"}).status_code == 403
    response = client_for(world.bureau).post(f"{url}close/", {"reason": "已核实"}, format="json")
    assert response.status_code == 200, response.json()
    body = client_for(world.staff_a).get(url).json()
    assert (body["status"], body["close_reason"], body["overdue"]) == ("closed", "已核实", False)


def test_the_api_names_the_refused_field(world: World) -> None:
    incident = collide(world, timezone.now())
    url = f"/api/v1/incidents/{incident.pk}/"
    bad = {**REPORT, "injured": -1}
    response = client_for(world.staff_a).post(f"{url}report/", bad, format="json")
    assert response.status_code == 400
    assert "injured" in str(response.json())
    response = client_for(world.staff_a).post(f"{url}report/", {**REPORT, "cause": " "})
    assert response.status_code == 400
    assert "cause" in str(response.json())
    response = client_for(world.bureau).post(f"{url}close/", {}, format="json")
    assert response.status_code == 400
    assert "reason" in str(response.json())
    client_for(world.bureau).post(f"{url}close/", {"reason": "误报"}, format="json")
    response = client_for(world.staff_a).post(f"{url}report/", REPORT, format="json")
    assert response.status_code == 400
    assert "status" in str(response.json())


def test_another_companys_incident_is_not_found(world: World) -> None:
    incident = collide(world, timezone.now())
    url = f"/api/v1/incidents/{incident.pk}/"
    assert client_for(world.staff_b).get(url).status_code == 404
    assert client_for(world.staff_b).post(f"{url}report/", REPORT).status_code == 404
    assert client_of(world.staff_b).get(f"/incidents/{incident.pk}/").status_code == 404
    assert client_of(world.staff_b).post(f"/incidents/{incident.pk}/report/").status_code == 404


def test_on_the_pages_the_company_reports_and_the_bureau_closes(world: World) -> None:
    incident = collide(world, timezone.now())
    staff = client_of(world.staff_a)
    detail = f"/incidents/{incident.pk}/"
    html = staff.get(detail).content.decode()
    assert "报告事故" in html
    assert "结案" not in html  # the company may not close
    # A report without its cause comes back with the field's error, not a 500.
    response = staff.post(f"{detail}report/", {**REPORT, "cause": ""})
    assert response.status_code == 200
    assert "该字段是必填项" in response.content.decode()
    response = staff.post(f"{detail}report/", REPORT)
    assert response.status_code == 302
    bureau = client_of(world.bureau)
    assert bureau.post(f"{detail}close/", {"reason": ""}).status_code == 200
    assert bureau.post(f"{detail}close/", {"reason": "已核实"}).status_code == 302
    html = bureau.get(detail).content.decode()
    assert "已核实" in html
    assert "护栏未被感知" in html
    # Its forms no longer apply: back to the incident, saying why.
    assert bureau.get(f"{detail}close/").status_code == 302
    assert Incident.objects.get().status == "closed"


def test_finance_may_not_close_on_the_page(world: World) -> None:
    incident = collide(world, timezone.now())
    assert client_of(world.finance).post(f"/incidents/{incident.pk}/close/").status_code == 403


def test_the_incident_audit_trail_names_the_event_in_words_and_local_time(
    world: World,
) -> None:
    # 01:00 UTC is 09:00 in Shanghai; the trail shows the event, not "1 … 01:00:00 collision".
    incident = collide(world, dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC))
    plate = world.vehicle_a.plate
    client = client_of(world.bureau)
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert f"碰撞 · {plate} · 2026-03-02 09:00:00" in page
    assert "记录到碰撞。" in page
    assert "collision" not in page.lower().replace('class="collision', "")
    client.cookies["django_language"] = "en"
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert f"Collision · {plate} · 2026-03-02 09:00:00" in page
