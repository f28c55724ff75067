"""The terminal registry over the API: who may register, the auth code shown once, scoping."""

from __future__ import annotations

import pytest

from telemetry.models import Terminal
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/terminals/"


def test_a_company_registers_a_jt808_terminal_and_sees_its_auth_code_once(world: World) -> None:
    client = client_for(world.staff_a)
    made = client.post(
        URL,
        {"vehicle": world.vehicle_a.pk, "protocol": "jt808", "terminal_id": "013800138000"},
        format="json",
    )
    assert made.status_code == 201, made.json()
    code = made.json()["auth_code"]
    assert len(code) == 16
    detail = client.get(f"{URL}{made.json()['id']}/").json()
    assert "auth_code" not in detail
    assert code not in str(client.get(URL).json())
    assert Terminal.objects.get().auth_code_sha256 != code


def test_a_jt808_terminal_id_must_be_12_or_20_digits(world: World) -> None:
    answer = client_for(world.bureau).post(
        URL,
        {"vehicle": world.vehicle_a.pk, "protocol": "jt808", "terminal_id": "12345"},
        format="json",
    )
    assert answer.status_code == 400
    assert "terminal_id" in answer.json()


def test_an_mqtt_terminal_id_is_the_vehicles_vin(world: World) -> None:
    client = client_for(world.bureau)
    wrong = client.post(
        URL,
        {"vehicle": world.vehicle_a.pk, "protocol": "mqtt", "terminal_id": world.vehicle_b.vin},
        format="json",
    )
    assert wrong.status_code == 400
    assert "terminal_id" in wrong.json()
    right = client.post(
        URL,
        {"vehicle": world.vehicle_a.pk, "protocol": "mqtt", "terminal_id": world.vehicle_a.vin},
        format="json",
    )
    assert right.status_code == 201


def test_a_company_cannot_bind_another_companys_vehicle_nor_see_its_terminals(
    world: World,
) -> None:
    answer = client_for(world.staff_b).post(
        URL,
        {"vehicle": world.vehicle_a.pk, "protocol": "jt808", "terminal_id": "013800138000"},
        format="json",
    )
    assert answer.status_code == 400
    assert "vehicle" in answer.json()
    made = client_for(world.staff_a).post(
        URL,
        {"vehicle": world.vehicle_a.pk, "protocol": "jt808", "terminal_id": "013800138000"},
        format="json",
    )
    assert client_for(world.staff_b).get(f"{URL}{made.json()['id']}/").status_code == 404


def test_finance_may_not_register_terminals(world: World) -> None:
    answer = client_for(world.finance).post(
        URL,
        {"vehicle": world.vehicle_a.pk, "protocol": "jt808", "terminal_id": "013800138000"},
        format="json",
    )
    assert answer.status_code == 403


def test_a_terminal_id_active_twice_is_refused_until_deactivated(world: World) -> None:
    client = client_for(world.bureau)
    body = {"vehicle": world.vehicle_a.pk, "protocol": "jt808", "terminal_id": "013800138000"}
    first = client.post(URL, body, format="json")
    assert client.post(URL, body, format="json").status_code == 400
    gone = client.post(f"{URL}{first.json()['id']}/deactivate/", {"reason": "lost"}, format="json")
    assert gone.status_code == 200
    assert gone.json()["active"] is False
    assert client.post(URL, body, format="json").status_code == 201


def test_an_unknown_field_is_refused(world: World) -> None:
    answer = client_for(world.bureau).post(
        URL,
        {
            "vehicle": world.vehicle_a.pk,
            "protocol": "jt808",
            "terminal_id": "013800138000",
            "auth_code": "mine",
        },
        format="json",
    )
    assert answer.status_code == 400
    assert "auth_code" in answer.json()


def test_the_live_positions_answer_lists_only_the_users_vehicles(world: World) -> None:
    answer = client_for(world.staff_b).get(f"{URL}live/")
    assert answer.status_code == 200
    assert answer.json() == []


def test_the_live_map_page_shows_a_company_its_own_vehicles_only(world: World) -> None:
    from django.test import Client  # noqa: PLC0415

    from tests.factories import PASSWORD  # noqa: PLC0415

    browser = Client()
    assert browser.login(username=world.staff_b.username, password=PASSWORD)
    page = browser.get("/live/")
    assert page.status_code == 200
    assert world.vehicle_a.plate not in page.content.decode()
