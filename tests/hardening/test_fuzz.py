"""API fuzzing: schemathesis against the project's own OpenAPI schema, as each role.

Every operation of `/api/v1/schema/` is called with generated input (valid and invalid),
in-process against the WSGI app, with a real token per role, on a seeded world (every kind
of object for two companies, tests/hardening/seed.py). Path ids are drawn from the world's
objects (own company's, the other company's, drafts) as often as from the generator, so
the calls reach real rows, not only 404s.

The world is built once for the module inside a transaction that is rolled back at the
end (the `seeded` fixture); each call runs in a savepoint of its own that is rolled back
too, so a generated write never changes what the next call sees, nor other tests.

The checks: no 5xx, each response conforms to the schema — its status code is
documented, its content type is documented, its body validates, and so do its documented
headers — and input that violates the schema (a wrong type, a value out of an enum or past
a bound, a missing required field) is refused, never answered 2xx. Examples per operation
and role: `FUZZ_EXAMPLES` (default 10); the seed:
`FUZZ_SEED` (fixed by default, so CI is repeatable; vary it to explore).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.hardening.seed import Seeded

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
FUZZ_SEED = int(os.environ.get("FUZZ_SEED", "20261127"))
ROLES = ["bureau", "finance", "admin", "staff_a"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": FUZZ_SEED,
        "cache": {"enabled": False},
        "generation": {"mode": "all", "max-examples": FUZZ_EXAMPLES, "database": "none"},
        # The coverage phase enumerates boundary values without a bound of its own; the
        # fuzzing phase (bounded by FUZZ_EXAMPLES) already draws valid and invalid input.
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)


@contextmanager
def kept_connection() -> Iterator[None]:
    """Keep the connection across requests, as Django's test client does.

    The WSGI handler closes connections when a request starts and finishes; inside the
    world's transaction that would abort it.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


# Each test also runs in pytest-django's own (nested) transaction: the mark is what makes it
# create the test database at all.
pytestmark = pytest.mark.django_db

with kept_connection():
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", WSGIHandler(), config=CONFIG)


def known_ids(seeded: Seeded) -> dict[str, list[int]]:
    """Ids of real rows per collection: own company's, the other company's, every state."""
    a, b = seeded.a, seeded.b
    return {
        "operators": [a.operator.pk, b.operator.pk],
        "vehicles": [a.vehicle.pk, a.proposed_vehicle.pk, b.vehicle.pk, b.proposed_vehicle.pk],
        "segments": [
            seeded.approved_segment.pk,
            seeded.draft_segment.pk,
            seeded.submitted_segment.pk,
            seeded.suspended_segment.pk,
        ],
        "trips": [a.trip.pk, a.flagged_trip.pk, b.trip.pk, b.flagged_trip.pk],
        "assessments": [a.assessment.pk, b.assessment.pk],
        "statements": [
            a.issued_statement.pk,
            a.draft_statement.pk,
            b.issued_statement.pk,
            b.draft_statement.pk,
        ],
        "policies": [a.issued_statement.policy_id],
        "audit": [seeded.audit_record.pk],
        # The seeded world has no terminal: an id that is nobody's (tests/telemetry covers them).
        "terminals": [0],
        # The seed makes none of these (issues 14, 15): an id that does not exist.
        "objections": [10**9],
        "payment-batches": [10**9],
        "clawbacks": [10**9],
        "incidents": [10**9],
    }


@pytest.mark.parametrize("role", ROLES)
@schema.given(data=st.data())
@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_within_its_schema(
    case: schemathesis.Case[Any],
    data: st.DataObject,
    role: str,
    seeded: Seeded,
    tokens: dict[str, str],
) -> None:
    if "id" in (case.path_parameters or {}):
        collection = case.operation.path.split("/")[3]
        case.path_parameters["id"] = data.draw(
            st.one_of(
                st.sampled_from(known_ids(seeded)[collection]),
                st.just(case.path_parameters["id"]),
            )
        )
    headers: dict[str, Any] = {"Authorization": f"Token {tokens[role]}"}
    with kept_connection(), transaction.atomic():
        case.call_and_validate(headers=headers, checks=CHECKS)
        transaction.set_rollback(True)


# --- what the fuzzer found, pinned -----------------------------------------------------------


def call(method: str, path: str, token: str, **parts: Any) -> schemathesis.Response:
    """One call of a documented operation, checked like the fuzzer checks it."""
    case = schema[path][method].Case(**parts)
    with kept_connection(), transaction.atomic():
        response = case.call_and_validate(
            headers={"Authorization": f"Token {token}"}, checks=CHECKS
        )
        transaction.set_rollback(True)
    return response


def test_every_operation_documents_the_error_answers() -> None:
    for path, operations in schema.raw_schema["paths"].items():
        for method, operation in operations.items():
            errors = {"400", "401", "403", "404"} | (
                {"415"} if "requestBody" in operation else set()
            )
            assert errors <= set(operation["responses"]), (method, path)


def test_a_body_of_another_media_type_is_a_documented_415(
    seeded: Seeded, tokens: dict[str, str]
) -> None:
    # Found with FUZZ_SEED=5: DRF answers 415 to a body it has no parser for, undocumented.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens['bureau']}")
    response = client.post("/api/v1/operators/", "名称", content_type="text/plain")
    assert response.status_code == 415
    assert "415" in schema.raw_schema["paths"]["/api/v1/operators/"]["post"]["responses"]


def test_a_trip_without_a_declared_mode_conforms_to_the_schema(
    seeded: Seeded, tokens: dict[str, str]
) -> None:
    # Its points carry the mode, so none was declared: "" is not an invalid choice.
    assert seeded.a.trip.declared_mode == ""
    body = call(
        "GET", "/api/v1/trips/{id}/", tokens["staff_a"], path_parameters={"id": seeded.a.trip.pk}
    ).json()
    assert body["declared_mode"] == ""


def test_a_company_without_a_contact_email_conforms_to_the_schema(
    seeded: Seeded, tokens: dict[str, str]
) -> None:
    assert seeded.a.operator.contact_email == ""
    operator = seeded.a.operator.pk
    body = call(
        "GET", "/api/v1/operators/{id}/", tokens["bureau"], path_parameters={"id": operator}
    )
    assert body.json()["contact_email"] == ""


def test_reverify_answers_the_documented_202(seeded: Seeded, tokens: dict[str, str]) -> None:
    response = call(
        "POST",
        "/api/v1/trips/{id}/reverify/",
        tokens["bureau"],
        path_parameters={"id": seeded.a.trip.pk},
        body={"reason": "批文更正"},
        media_type="application/json",
    )
    assert response.status_code == 202


ID_FILTERS = [
    ("/api/v1/vehicles/", "operator"),
    ("/api/v1/trips/", "vehicle"),
    ("/api/v1/trips/", "operator"),
    ("/api/v1/assessments/", "operator"),
    ("/api/v1/statements/", "operator"),
    ("/api/v1/audit/", "actor"),
]


@pytest.mark.parametrize(("path", "name"), ID_FILTERS)
@pytest.mark.parametrize("value", ["-6.098243930473079e+280", str(2**64), "1.5"])
def test_an_id_filter_that_is_no_id_is_a_400_naming_it(
    seeded: Seeded, tokens: dict[str, str], path: str, name: str, value: str
) -> None:
    # Was a 500: the number reached the database (SQLite: OverflowError).
    response = call("GET", path, tokens["admin"], query={name: value})
    assert response.status_code == 400
    assert name in response.json()


@pytest.mark.parametrize("path", ["/api/v1/assessments/", "/api/v1/statements/"])
def test_a_year_filter_out_of_range_is_an_empty_list_or_a_400(
    seeded: Seeded, tokens: dict[str, str], path: str
) -> None:
    response = call("GET", path, tokens["admin"], query={"year": str(2**64)})
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json()["count"] == 0


@pytest.mark.parametrize(
    ("path", "geojson_type"),
    [("/api/v1/segments/{id}/", "Feature"), ("/api/v1/segments/", "FeatureCollection")],
)
def test_a_segment_as_geojson_conforms_to_the_schema(
    seeded: Seeded, tokens: dict[str, str], path: str, geojson_type: str
) -> None:
    # The schema described the JSON shape under application/geo+json too.
    parts: dict[str, Any] = {"query": {"format": "geojson"}}
    if "{id}" in path:
        parts["path_parameters"] = {"id": seeded.approved_segment.pk}
    response = call("GET", path, tokens["staff_a"], **parts)
    assert response.headers["content-type"] == ["application/geo+json"]
    assert response.json()["type"] == geojson_type


@pytest.mark.parametrize("path", ["/api/v1/trips/{id}/raw/", "/api/v1/statements/{id}/pdf/"])
def test_an_id_that_is_no_number_is_a_json_404(
    seeded: Seeded, tokens: dict[str, str], path: str
) -> None:
    # No URL pattern matches it, and Django's own 404 page (HTML) answered.
    response = call("GET", path, tokens["admin"], path_parameters={"id": "1.5"})
    assert response.status_code == 404
    assert response.headers["content-type"] == ["application/json"]


def test_a_page_that_is_not_there_is_still_the_web_page(seeded: Seeded) -> None:
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


INSTANT_PARAMETERS = [
    ("/api/v1/trips/", "started_after"),
    ("/api/v1/trips/", "started_before"),
    ("/api/v1/audit/", "at_after"),
    ("/api/v1/audit/", "at_before"),
    ("/api/v1/segments/", "valid_at"),
    ("/api/v1/segments/summary/", "as_of"),
]


@pytest.mark.parametrize(("path", "name"), INSTANT_PARAMETERS)
def test_an_instant_with_a_large_offset_is_read(
    seeded: Seeded, tokens: dict[str, str], path: str, name: str
) -> None:
    # Was a 500 on PostgreSQL, which takes no offset beyond 15:59 ("time zone displacement
    # out of range"): the instant went to the database with its offset, not in UTC.
    response = call("GET", path, tokens["admin"], query={name: "2026-03-02T09:00:00+20:45"})
    assert response.status_code == 200


@pytest.mark.parametrize(("path", "name"), INSTANT_PARAMETERS)
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+20:00", "9999-12-31T23:59:59-20:00"])
def test_an_instant_outside_the_years_python_knows_is_a_400_naming_it(
    seeded: Seeded, tokens: dict[str, str], path: str, name: str, value: str
) -> None:
    # In UTC these are in year 0 or 10000, which Python cannot represent (OverflowError).
    response = call("GET", path, tokens["admin"], query={name: value})
    assert response.status_code == 400
    assert name in response.json()


@pytest.mark.parametrize("valid_from", ["2026-03-02T09:00:00+20:45", "0001-01-01T00:00:00+20:00"])
def test_a_segment_approval_time_with_any_offset_is_never_a_500(
    seeded: Seeded, tokens: dict[str, str], valid_from: str
) -> None:
    response = call(
        "POST",
        "/api/v1/segments/{id}/approve/",
        tokens["bureau"],
        path_parameters={"id": seeded.submitted_segment.pk},
        body={"valid_from": valid_from, "approval_ref": "阳交〔2026〕3号"},
        media_type="application/json",
    )
    assert response.status_code == (200 if valid_from.startswith("2026") else 400)


@pytest.mark.parametrize(
    ("valid_from", "status"),
    [
        ("2026-03-02T09:00:00+20:45", 302),
        ("0001-01-01T00:00:00+20:00", 200),
        ("0001-01-01", 200),
        ("1900-06-01", 200),
    ],
)
def test_the_web_approval_form_reads_any_offset_and_refuses_before_1970(
    seeded: Seeded, valid_from: str, status: int
) -> None:
    # The API's bug in the web UI's form: a 500 (OverflowError; PostgreSQL: DataError).
    # Refused, the form comes back (200) with the field's error; read, it redirects (302).
    client = Client()
    client.force_login(seeded.world.bureau)
    url = reverse("routes:segment_approve", kwargs={"pk": seeded.submitted_segment.pk})
    response = client.post(url, {"valid_from": valid_from, "approval_ref": "阳交〔2026〕3号"})
    assert response.status_code == status
    if status == 200:
        assert response.context["form"].errors["valid_from"]


@pytest.mark.parametrize("name", ["valid_at", "as_of"])
@pytest.mark.parametrize("day", ["0001-01-01", "1900-06-01", "9999-12-31"])
def test_a_segment_instant_before_1970_or_on_the_last_day_is_a_400(
    seeded: Seeded, tokens: dict[str, str], name: str, day: str
) -> None:
    # A bare date here means the end of that local day: for the last day that is in year
    # 10000 in UTC (an OverflowError, 500, before). Before 1901 the summary showed `as_of`
    # at Shanghai's local mean time, "+08:05:43": no RFC 3339 time, as the schema promises.
    path = "/api/v1/segments/" if name == "valid_at" else "/api/v1/segments/summary/"
    response = call("GET", path, tokens["admin"], query={name: day})
    assert response.status_code == 400
    assert name in response.json()


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_the_segment_list_page_refuses_the_first_and_last_day(seeded: Seeded, day: str) -> None:
    client = Client()
    client.force_login(seeded.world.bureau)
    response = client.get(reverse("routes:segment_list"), {"valid_on": day})
    assert response.status_code == 200
    assert str(seeded.draft_segment.name) in response.content.decode()  # unfiltered
