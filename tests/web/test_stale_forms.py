"""Stale forms are refused and pages for actions that no longer apply are not offered:
vehicles, companies and segments (core/versions.py, docs/ui.md "Stale forms")."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from operators import services
from operators.models import Operator, User, Vehicle
from routes import services as route_services
from routes.models import RoadSegment
from tests import factories
from tests.conftest import World
from tests.routes.helpers import draft_road

pytestmark = pytest.mark.django_db


def browser_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def seen_version(html: bytes) -> str:
    found = re.search(r'name="seen_version" value="(\d+)"', html.decode())
    assert found is not None, "the form carries no version"
    return found.group(1)


def approve(client: Client, vehicle: Vehicle, permit: str, seen: str) -> Any:
    return client.post(
        f"/vehicles/{vehicle.pk}/approve/",
        {
            "permit_number": permit,
            "permit_valid_from": "2026-01-01",
            "permit_valid_to": "2026-12-31",
            "seen_version": seen,
        },
    )


@pytest.fixture
def proposed(world: World) -> Vehicle:
    return factories.vehicle(actor=world.bureau, operator=world.company_a, permit=None)


def test_a_second_stale_tab_cannot_renew_the_permit_just_approved(
    world: World, proposed: Vehicle
) -> None:
    first, second = browser_for(world.bureau), browser_for(world.bureau)
    seen_first = seen_version(first.get(f"/vehicles/{proposed.pk}/approve/").content)
    seen_second = seen_version(second.get(f"/vehicles/{proposed.pk}/approve/").content)
    assert approve(first, proposed, "0201", seen_first).status_code == 302
    response = approve(second, proposed, "0202", seen_second)
    assert response.status_code == 200
    (error,) = response.context["form"].non_field_errors()
    assert "在您打开此页面之后被他人修改" in error
    proposed.refresh_from_db()
    assert (proposed.status, proposed.permit_number) == ("approved", "0201")


def test_a_fresh_renewal_form_still_renews(world: World, proposed: Vehicle) -> None:
    client = browser_for(world.bureau)
    approve(
        client,
        proposed,
        "0201",
        seen_version(client.get(f"/vehicles/{proposed.pk}/approve/").content),
    )
    seen = seen_version(client.get(f"/vehicles/{proposed.pk}/approve/").content)
    assert approve(client, proposed, "0202", seen).status_code == 302
    proposed.refresh_from_db()
    assert proposed.permit_number == "0202"


def test_the_admit_page_does_not_open_for_an_admitted_company(world: World) -> None:
    client = browser_for(world.bureau)
    response = client.get(f"/companies/{world.company_a.pk}/admit/")
    assert response["Location"] == f"/companies/{world.company_a.pk}/"
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert message == "“甲公司”为已纳入示范应用：无需再次纳入。"


def test_a_stale_admit_form_is_refused_without_a_second_admission(world: World) -> None:
    company = factories.operator(actor=world.bureau, name="丙公司", admitted_on=None)
    client = browser_for(world.bureau)
    seen = seen_version(client.get(f"/companies/{company.pk}/admit/").content)
    services.operator_admit(
        actor=world.bureau, operator=company, pilot_admitted_on=dt.date(2023, 2, 1)
    )
    response = client.post(
        f"/companies/{company.pk}/admit/", {"pilot_admitted_on": "2026-05-01", "seen_version": seen}
    )
    assert response.status_code == 200
    assert Operator.objects.get(pk=company.pk).pilot_admitted_on == dt.date(2023, 2, 1)


def test_a_segment_changed_in_another_tab_refuses_the_stale_submission(world: World) -> None:
    segment = draft_road(world.bureau)
    client = browser_for(world.bureau)
    seen = seen_version(client.get(f"/segments/{segment.pk}/submit/").content)
    # meanwhile, a colleague renames it
    route_services.segment_update(actor=world.bureau, segment=segment, data={"name": "德胜东街"})
    response = client.post(f"/segments/{segment.pk}/submit/", {"reason": "", "seen_version": seen})
    assert response.status_code == 200
    assert RoadSegment.objects.get(pk=segment.pk).status == "draft"


def test_the_approve_page_of_a_draft_segment_is_not_offered(world: World) -> None:
    segment = draft_road(world.bureau)
    response = browser_for(world.bureau).get(f"/segments/{segment.pk}/approve/")
    assert response["Location"] == f"/segments/{segment.pk}/"
