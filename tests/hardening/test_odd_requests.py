"""Odd requests get a proper answer, never a 5xx: format suffixes, TRACE and CONNECT,
numbers in the query that are no whole numbers, and wrong types in a body (docs/api.md)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.hardening.seed import ISSUED_YEAR, Seeded

pytestmark = pytest.mark.django_db


def api(tokens: dict[str, str], actor: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens[actor]}")
    return client


# --- format suffixes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/trips/{trip}.json"),
        ("get", "/api/v1/trips.json"),
        ("get", "/api/v1/trips/{trip}/trace.json"),
        ("get", "/api/v1/vehicles/{vehicle}.json"),
        ("get", "/api/v1/statements/{statement}.json"),
        ("get", "/api/v1/segments/summary.json"),
        ("get", "/api/v1/audit.json"),
        ("get", "/api/v1/.json"),
        ("post", "/api/v1/statements/{statement}/approve.json"),
        ("post", "/api/v1/trips/{trip}/review.json"),
    ],
)
def test_a_format_suffix_is_a_json_404(
    seeded: Seeded, tokens: dict[str, str], method: str, path: str
) -> None:
    # Each was a 500: the router's `.json` twins pass `format=` to views that take none.
    url = path.format(
        trip=seeded.a.trip.pk,
        vehicle=seeded.a.vehicle.pk,
        statement=seeded.a.draft_statement.pk,
    )
    response = getattr(api(tokens, "admin"), method)(url, {}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_the_format_query_parameter_still_chooses_the_renderer(
    seeded: Seeded, tokens: dict[str, str]
) -> None:
    response = api(tokens, "staff_a").get(
        f"/api/v1/segments/{seeded.approved_segment.pk}/", {"format": "geojson"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"


# --- TRACE and CONNECT -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/v1/trips/", "GET, HEAD, OPTIONS, POST"),
        # `trace` is also the name of a trip action: TRACE here answered 200 with the
        # trip's trace, past the review permission, and on the list a 500.
        ("/api/v1/trips/{trip}/review/", "OPTIONS, POST"),
        ("/api/v1/trips/{trip}/trace/", "GET, HEAD, OPTIONS"),
        ("/api/v1/schema/", "GET, HEAD, OPTIONS"),
        ("/api/v1/no-such-route/", "GET, HEAD, OPTIONS, POST"),
    ],
)
@pytest.mark.parametrize("method", ["TRACE", "CONNECT"])
def test_trace_and_connect_are_a_405_on_the_api(
    seeded: Seeded, tokens: dict[str, str], path: str, allow: str, method: str
) -> None:
    response = api(tokens, "bureau").generic(method, path.format(trip=seeded.a.flagged_trip.pk))
    assert response.status_code == 405
    assert response["Allow"] == allow
    assert method in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/", "GET, HEAD, OPTIONS, POST"),  # a function view: the usual methods
        ("/accounts/login/", "GET, HEAD, OPTIONS, POST, PUT"),
        ("/accounts/logout/", "OPTIONS, POST"),
    ],
)
def test_trace_is_a_405_on_the_web_pages(seeded: Seeded, path: str, allow: str) -> None:
    client = Client()
    client.force_login(seeded.world.bureau)
    response = client.generic("TRACE", path)
    assert response.status_code == 405
    assert response["Allow"] == allow


def test_the_trace_action_still_answers_get(seeded: Seeded, tokens: dict[str, str]) -> None:
    response = api(tokens, "staff_a").get(f"/api/v1/trips/{seeded.a.trip.pk}/trace/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"


# --- numbers in the query ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["page", "page_size"])
@pytest.mark.parametrize("value", ["null", "0.5", "-1", "0", "1e3", "last"])
def test_a_page_or_page_size_that_is_no_whole_number_is_a_400_naming_it(
    seeded: Seeded, tokens: dict[str, str], name: str, value: str
) -> None:
    response = api(tokens, "admin").get("/api/v1/trips/", {name: value})
    assert response.status_code == 400
    assert name in response.json()


def test_a_page_size_over_500_is_a_400(seeded: Seeded, tokens: dict[str, str]) -> None:
    response = api(tokens, "admin").get("/api/v1/audit/", {"page_size": "501"})
    assert response.status_code == 400
    assert "500" in response.json()["page_size"][0]


@pytest.mark.parametrize(
    ("query", "status", "results"),
    [
        ({"page_size": "1"}, 200, 1),
        ({"page_size": "1", "page": "2"}, 200, 1),
        ({"page_size": "", "page": ""}, 200, 6),  # empty: the defaults (page 1 of 50)
        ({"page": "99"}, 404, None),  # a whole page number past the last
    ],
)
def test_whole_page_numbers_are_read(
    seeded: Seeded,
    tokens: dict[str, str],
    query: dict[str, str],
    status: int,
    results: int | None,
) -> None:
    # The world has 6 trips: 3 per company (two accepted, one flagged).
    response = api(tokens, "admin").get("/api/v1/trips/", query)
    assert response.status_code == status
    if results is not None:
        assert len(response.json()["results"]) == results


def test_the_schema_states_the_page_bounds() -> None:
    client = APIClient()
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    parameters = {
        p["name"]: p["schema"] for p in schema["paths"]["/api/v1/trips/"]["get"]["parameters"]
    }
    assert parameters["page"] == {"type": "integer", "minimum": 1}
    assert parameters["page_size"] == {"type": "integer", "minimum": 1, "maximum": 500}


@pytest.mark.parametrize("path", ["/api/v1/assessments/", "/api/v1/statements/"])
@pytest.mark.parametrize("value", ["0.5", "null", "2025.0x", "1e3"])
def test_a_year_that_is_no_whole_number_is_a_400_naming_it(
    seeded: Seeded, tokens: dict[str, str], path: str, value: str
) -> None:
    # Was a 200 with an empty list: django-filter's NumberFilter reads any decimal.
    response = api(tokens, "admin").get(path, {"year": value})
    assert response.status_code == 400
    assert "year" in response.json()


@pytest.mark.parametrize("path", ["/api/v1/assessments/", "/api/v1/statements/"])
def test_a_whole_year_still_filters(seeded: Seeded, tokens: dict[str, str], path: str) -> None:
    response = api(tokens, "admin").get(path, {"year": str(ISSUED_YEAR)})
    assert response.status_code == 200
    years = {row["year"] for row in response.json()["results"]}
    assert years == {ISSUED_YEAR}


# --- wrong types in a body ---------------------------------------------------------------


@pytest.mark.parametrize("reason", [0, 1.5, True, ["批文更正"], {"text": "批文更正"}])
def test_a_reason_that_is_no_string_is_a_400_naming_it(
    seeded: Seeded, tokens: dict[str, str], reason: Any
) -> None:
    # {"reason": 0} was taken as the reason "0".
    response = api(tokens, "bureau").post(
        f"/api/v1/trips/{seeded.a.flagged_trip.pk}/review/",
        {"decision": "accept", "reason": reason},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["reason"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/trips/{trip}/reverify/", {"reason": 0}),
        ("/api/v1/statements/{statement}/approve/", {"reason": 0}),
        # The other fields' errors come with it (no category here).
        ("/api/v1/vehicles/", {"vin": 12345678901234567, "plate": "晋C12345"}),
    ],
)
def test_a_number_for_a_text_field_is_a_400_anywhere(
    seeded: Seeded, tokens: dict[str, str], path: str, body: dict[str, Any]
) -> None:
    url = path.format(trip=seeded.a.trip.pk, statement=seeded.a.draft_statement.pk)
    response = api(tokens, "admin").post(url, body, format="json")
    assert response.status_code == 400
    assert next(iter(body)) in response.json()


def test_a_string_reason_is_still_taken(seeded: Seeded, tokens: dict[str, str]) -> None:
    response = api(tokens, "bureau").post(
        f"/api/v1/trips/{seeded.a.flagged_trip.pk}/review/",
        # Rejected: the seed's flagged trip overlaps an accepted one, which cannot be accepted.
        {"decision": "reject", "reason": "重叠已核实"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["review_reason"] == "重叠已核实"
