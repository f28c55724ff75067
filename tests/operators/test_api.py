import hashlib

import pytest
from rest_framework.test import APIClient

from operators.models import ApiToken, Operator, Vehicle
from tests import factories
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db


# --- tokens -------------------------------------------------------------------------------


def test_password_buys_a_token_that_authenticates_later_calls(world: World) -> None:
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": world.staff_a.username, "password": factories.PASSWORD},
        format="json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/operators/").status_code == 200


def test_token_is_stored_only_as_its_hash(world: World) -> None:
    token = (
        APIClient()
        .post(
            "/api/v1/auth/token/",
            {"username": world.staff_a.username, "password": factories.PASSWORD},
            format="json",
        )
        .json()["token"]
    )
    stored = ApiToken.objects.get(user=world.staff_a)
    assert stored.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {stored.key_hash, stored.prefix}


def test_wrong_password_gets_401_and_no_token(world: World) -> None:
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": world.staff_a.username, "password": "wrong"},
        format="json",
    )
    assert response.status_code == 401
    assert not ApiToken.objects.exists()


def test_revoked_token_no_longer_authenticates(world: World) -> None:
    client = client_for(world.staff_a)
    assert client.delete("/api/v1/auth/token/").status_code == 204
    assert client.get("/api/v1/operators/").status_code == 401


def test_anonymous_calls_are_refused(world: World) -> None:
    assert APIClient().get("/api/v1/vehicles/").status_code in (401, 403)
    assert APIClient().get(f"/api/v1/operators/{world.company_a.pk}/").status_code in (401, 403)


# --- scoping: a company never learns of another company's objects --------------------------


def test_company_sees_only_itself_in_operator_list(world: World) -> None:
    body = client_for(world.staff_a).get("/api/v1/operators/").json()
    assert [row["id"] for row in body["results"]] == [world.company_a.pk]


def test_company_gets_404_for_another_companys_operator_and_vehicle(world: World) -> None:
    client = client_for(world.staff_a)
    assert client.get(f"/api/v1/operators/{world.company_b.pk}/").status_code == 404
    assert client.get(f"/api/v1/vehicles/{world.vehicle_b.pk}/").status_code == 404
    # ...exactly as for ids that do not exist at all
    assert client.get("/api/v1/vehicles/999999/").status_code == 404
    assert client.get("/api/v1/vehicles/not-a-number/").status_code == 404


def test_company_gets_404_for_actions_on_another_companys_vehicle(world: World) -> None:
    client = client_for(world.staff_a)
    url = f"/api/v1/vehicles/{world.vehicle_b.pk}/"
    assert client.patch(url, {"plate": "晋C99999"}, format="json").status_code == 404
    assert client.post(url + "approve/", {}, format="json").status_code in (403, 404)
    world.vehicle_b.refresh_from_db()
    assert world.vehicle_b.plate != "晋C99999"


def test_company_filters_never_reach_another_company(world: World) -> None:
    client = client_for(world.staff_a)
    for query in (
        f"operator={world.company_b.pk}",
        f"vin={world.vehicle_b.vin}",
        f"plate={world.vehicle_b.plate}",
    ):
        body = client.get(f"/api/v1/vehicles/?{query}").json()
        assert body["count"] == 0, query
    assert (
        client.get(f"/api/v1/operators/?credit_code={world.company_b.credit_code}").json()["count"]
        == 0
    )


def test_company_naming_another_company_when_proposing_gets_same_error_as_unknown_id(
    world: World,
) -> None:
    client = client_for(world.staff_a)
    payload = {"vin": factories.vin(), "plate": factories.plate(), "category": "taxi"}
    other = client.post("/api/v1/vehicles/", {**payload, "operator": world.company_b.pk})
    unknown = client.post("/api/v1/vehicles/", {**payload, "operator": 999999})
    assert other.status_code == unknown.status_code == 400
    # In Chinese: the API, like the pages, speaks zh-hans unless asked for English.
    assert other.json() == unknown.json() == {"operator": ["没有这家企业。"]}


def test_bureau_sees_every_company(world: World) -> None:
    body = client_for(world.bureau).get("/api/v1/vehicles/?page_size=10").json()
    assert {row["id"] for row in body["results"]} == {world.vehicle_a.pk, world.vehicle_b.pk}


# --- writes and roles --------------------------------------------------------------------


def test_bureau_registers_a_company_with_a_normalised_credit_code(world: World) -> None:
    response = client_for(world.bureau).post(
        "/api/v1/operators/",
        {"name": "丙公司", "credit_code": "9111-0000-8021-0043-3b", "settled_on": "2024-01-02"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["credit_code"] == "91110000802100433B"
    assert response.json()["status"] == "registered"


def test_wrong_credit_code_check_character_is_a_400_naming_the_field(world: World) -> None:
    response = client_for(world.bureau).post(
        "/api/v1/operators/",
        {"name": "丙公司", "credit_code": "91110000802100433C"},
        format="json",
    )
    assert response.status_code == 400
    assert "校验码" in response.json()["credit_code"][0]  # "check character"
    assert not Operator.objects.filter(name="丙公司").exists()


def test_duplicate_credit_code_is_a_400_naming_the_field(world: World) -> None:
    response = client_for(world.bureau).post(
        "/api/v1/operators/",
        {"name": "重复", "credit_code": world.company_a.credit_code},
        format="json",
    )
    assert response.status_code == 400
    assert "credit_code" in response.json()


def test_company_staff_cannot_register_companies(world: World) -> None:
    response = client_for(world.staff_a).post(
        "/api/v1/operators/",
        {"name": "丁公司", "credit_code": factories.credit_code()},
        format="json",
    )
    assert response.status_code == 403


def test_company_proposes_its_own_vehicle_and_bureau_approves_the_permit(world: World) -> None:
    vin = factories.vin()
    created = client_for(world.staff_a).post(
        "/api/v1/vehicles/",
        {"vin": vin.lower(), "plate": "晋C·D 88888", "category": "bus"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["operator"], body["vin"], body["plate"], body["status"]) == (
        world.company_a.pk,
        vin,
        "晋CD88888",
        "proposed",
    )
    approve = {
        "permit_number": "阳交智测〔2026〕9号",
        "permit_valid_from": "2026-01-01",
        "permit_valid_to": "2026-12-31",
    }
    url = f"/api/v1/vehicles/{body['id']}/approve/"
    assert client_for(world.staff_a).post(url, approve, format="json").status_code == 403
    approved = client_for(world.bureau).post(url, approve, format="json")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"


def test_approving_with_a_window_that_ends_before_it_starts_is_refused(world: World) -> None:
    vehicle = factories.vehicle(actor=world.bureau, operator=world.company_a, permit=None)
    response = client_for(world.bureau).post(
        f"/api/v1/vehicles/{vehicle.pk}/approve/",
        {"permit_number": "X", "permit_valid_from": "2026-05-01", "permit_valid_to": "2026-04-30"},
        format="json",
    )
    assert response.status_code == 400
    vehicle.refresh_from_db()
    assert vehicle.status == Vehicle.Status.PROPOSED


def test_company_cannot_edit_a_vehicle_once_approved(world: World) -> None:
    response = client_for(world.staff_a).patch(
        f"/api/v1/vehicles/{world.vehicle_a.pk}/", {"category": "bus"}, format="json"
    )
    assert response.status_code == 400
    assert "status" in response.json()


def test_refused_transition_names_the_status(world: World) -> None:
    client = client_for(world.bureau)
    url = f"/api/v1/vehicles/{world.vehicle_a.pk}/set-status/"
    assert client.post(url, {"status": "retired", "reason": "报废"}).status_code == 200
    response = client.post(url, {"status": "suspended", "reason": "再次"})
    assert response.status_code == 400
    assert "status" in response.json()


# --- bad input: 400 naming the field, never a 500 ----------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"vin": 12345, "plate": "晋C12345", "category": "taxi"}, "vin"),
        ({"vin": "x" * 41, "plate": "晋C12345", "category": "taxi"}, "vin"),
        ({"vin": "1M8GDM9AXKP042788", "plate": "晋C12345", "category": "tank"}, "category"),
        (
            {"vin": "1M8GDM9AXKP042788", "plate": "晋C12345", "category": "taxi", "colour": 1},
            "colour",
        ),
        ({"vin": "1M8GDM9AXKP042788", "plate": "晋C1234", "category": "taxi"}, "plate"),
        ({"vin": "1M8GDM9AXKP042787", "plate": "晋C12345", "category": "taxi"}, "vin"),
        ({"plate": "晋C12345", "category": "taxi"}, "vin"),
        (
            {"vin": ["a"], "plate": "晋C12345", "category": "taxi", "permit_valid_from": "soon"},
            "permit_valid_from",
        ),
    ],
)
def test_bad_vehicle_input_is_a_400_naming_the_field(
    world: World, payload: dict[str, object], field: str
) -> None:
    before = Vehicle.objects.count()
    response = client_for(world.staff_a).post("/api/v1/vehicles/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Vehicle.objects.count() == before


def test_malformed_json_is_a_400(world: World) -> None:
    response = client_for(world.bureau).post(
        "/api/v1/operators/", '{"name": "x", ', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_a_json_list_instead_of_an_object_is_a_400(world: World) -> None:
    response = client_for(world.bureau).post("/api/v1/operators/", [1, 2], format="json")
    assert response.status_code == 400


def test_oversize_name_is_a_400_naming_the_field(world: World) -> None:
    response = client_for(world.bureau).post(
        "/api/v1/operators/",
        {"name": "长" * 201, "credit_code": factories.credit_code()},
        format="json",
    )
    assert response.status_code == 400
    assert "name" in response.json()


def test_lists_are_paginated(world: World) -> None:
    for _ in range(3):
        factories.vehicle(actor=world.bureau, operator=world.company_a)
    body = client_for(world.staff_a).get("/api/v1/vehicles/?page_size=2").json()
    assert body["count"] == 4
    assert len(body["results"]) == 2
    assert body["next"]


def test_openapi_schema_and_docs_are_served(world: World) -> None:
    client = client_for(world.bureau)
    schema = client.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    assert "/api/v1/vehicles/{id}/approve/" in schema.json()["paths"]
    assert client.get("/api/v1/docs/").status_code == 200
