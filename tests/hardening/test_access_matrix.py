"""The access matrix: every API route and method, every actor, the status each must get.

Each row names a route (its URL name) and method, the object it acts on and the status
expected for each actor: the bureau, finance, an admin, the staff of the company that owns
the object (`own`, company A) and the staff of another company (`other`, company B).
Objects are company A's (segments are the bureau's: companies see approved ones only).

- Another company's object is a 404 for `other`, never a 403 or a 200, wherever their role
  may use the route at all (a route their role may not use is a 403 for any object).
- A list row also names the object that must show for those who may see it and must not
  show for the others (a filter row asks for it by its company's id).
- `test_every_api_route_is_in_the_matrix` walks the URL resolver: a route or method
  missing from the table (or a row for one that is gone) fails with its name.
- The web UI's pages have a table of their own (`WEB`, a GET per page and actor, with the
  links list pages must and must not show), walked the same way.

Each cell is a test of its own in a rolled-back transaction, on the seeded world
(tests/hardening/seed.py).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from subsidies import services as subsidies_services
from subsidies.grading import grading_policy_create
from tests import factories
from tests.hardening.seed import ISSUED_YEAR, Seeded
from tests.trips.csvtrace import straight_east

pytestmark = pytest.mark.django_db

ACTORS = ("bureau", "finance", "admin", "own", "other")
USER_OF = {
    "bureau": "bureau",
    "finance": "finance",
    "admin": "admin",
    "own": "staff_a",
    "other": "staff_b",
}


def row(bureau: int, finance: int, admin: int, own: int, other: int) -> dict[str, int]:
    return dict(zip(ACTORS, (bureau, finance, admin, own, other), strict=True))


EVERYONE = row(200, 200, 200, 200, 200)
GOVERNMENT_AND_OWN = row(200, 200, 200, 200, 404)  # another company's object: 404
GOVERNMENT_ONLY = row(200, 200, 200, 403, 403)
BUREAU_WRITES = row(200, 403, 200, 403, 403)
FINANCE_WRITES = row(403, 200, 200, 403, 403)
NO_SUCH = {"pk": 10**9}


@dataclass(frozen=True)
class Cell:
    """One row of the matrix: a route and method on one object."""

    route: str
    method: str
    expect: dict[str, int]
    kwargs: Callable[[Seeded], dict[str, Any]] = lambda w: {}
    body: Callable[[Seeded], dict[str, Any]] = lambda w: {}
    query: Callable[[Seeded], dict[str, Any]] = lambda w: {}
    multipart: bool = False
    # Lists: the id of company A's object, and the actors who must see it in the answer.
    listed: Callable[[Seeded], int] | None = None
    seen_by: frozenset[str] = field(default_factory=frozenset)
    prepare: Callable[[Seeded], None] | None = None
    variant: str = ""

    @property
    def label(self) -> str:
        return f"{self.method} {self.route}" + (f" [{self.variant}]" if self.variant else "")


def pk(get: Callable[[Seeded], Any]) -> Callable[[Seeded], dict[str, Any]]:
    return lambda w: {"pk": get(w).pk}


GOVERNMENT = frozenset({"bureau", "finance", "admin"})
GOVERNMENT_AND_A = GOVERNMENT | {"own"}


def _terminal(w: Seeded) -> Any:
    """Company A's JT/T 808 terminal (made on first use, inside the cell's transaction)."""
    from telemetry import services as telemetry_services  # noqa: PLC0415
    from telemetry.models import Terminal  # noqa: PLC0415

    found = Terminal.objects.filter(vehicle=w.a.vehicle, active=True).first()
    if found is not None:
        return found
    terminal, _code = telemetry_services.terminal_register(
        actor=w.world.bureau,
        vehicle_id=w.a.vehicle.pk,
        protocol=Terminal.Protocol.JT808,
        terminal_id="013800000000",
    )
    return terminal


def _csv_upload(w: Seeded) -> dict[str, Any]:
    data = straight_east(start=dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC), metres=200)
    return {"vin": w.a.vehicle.vin, "file": io.BytesIO(data)}


def _segment_file(w: Seeded) -> dict[str, Any]:
    feature = {
        "type": "Feature",
        "properties": {"name": "导入路"},
        "geometry": {"type": "LineString", "coordinates": [[113.57, 37.85], [113.58, 37.85]]},
    }
    content = json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
    upload = io.BytesIO(content)
    upload.name = "roads.geojson"
    return {"file": upload, "crs": "EPSG:4326"}


def _event_file(w: Seeded) -> dict[str, Any]:
    data = f"time,vin,event,initiator\n2026-05-04T09:00:00+08:00,{w.a.vehicle.vin},activation,\n"
    return {"file": io.BytesIO(data.encode())}


def _incident(w: Seeded) -> Any:
    """Company A's open incident (its collision imported on first use, inside the cell's
    transaction)."""
    from recorder import services as recorder_services  # noqa: PLC0415
    from recorder.models import Incident  # noqa: PLC0415

    found = Incident.objects.filter(vehicle=w.a.vehicle).first()
    if found is not None:
        return found
    data = f"time,vin,event,initiator\n2026-05-04T09:00:00+08:00,{w.a.vehicle.vin},collision,\n"
    recorder_services.ads_events_import(actor=w.world.bureau, data=data.encode())
    return Incident.objects.get(vehicle=w.a.vehicle)


def _grading_policy(w: Seeded) -> None:
    grading_policy_create(actor=w.world.admin, **_grading_policy_fields(9))


def _grading_policy_fields(version: int) -> dict[str, Any]:
    return {
        "version": version,
        "name": "评定规则",
        "valid_from": dt.date(ISSUED_YEAR, 1, 1),
        "valid_to": dt.date(ISSUED_YEAR, 12, 31),
        "a_min_zone_km": 1000,
        "a_max_per_1000_km": 1,
        "a_max_collisions": 0,
        "b_min_zone_km": 100,
        "b_max_per_1000_km": 5,
        "b_max_collisions": 1,
        "c_min_zone_km": 0,
        "c_max_per_1000_km": 50,
        "c_max_collisions": 5,
    }


def _approve_a_draft_statement(w: Seeded) -> None:
    subsidies_services.statement_approve(actor=w.world.finance, statement=w.a.draft_statement)


def _credentials(w: Seeded, actor: str) -> dict[str, Any]:
    return {"username": getattr(w.world, USER_OF[actor]).username, "password": factories.PASSWORD}


MATRIX: list[Cell] = [
    # --- authentication and the API's own pages -------------------------------------------
    Cell("api-root", "GET", EVERYONE),
    Cell("schema", "GET", EVERYONE),
    Cell("docs", "GET", EVERYONE),
    # The body is the actor's own username and password (see test_access).
    Cell("auth-token", "POST", EVERYONE, variant="own credentials"),
    Cell("auth-token", "DELETE", row(204, 204, 204, 204, 204)),
    # --- operators ------------------------------------------------------------------------
    Cell(
        "operator-list",
        "GET",
        EVERYONE,
        listed=lambda w: w.a.operator.pk,
        seen_by=GOVERNMENT_AND_A,
    ),
    Cell(
        "operator-list",
        "GET",
        EVERYONE,
        query=lambda w: {"credit_code": w.a.operator.credit_code},
        listed=lambda w: w.a.operator.pk,
        seen_by=GOVERNMENT_AND_A,
        variant="filter",
    ),
    Cell(
        "operator-list",
        "POST",
        row(201, 403, 201, 403, 403),
        body=lambda w: {
            "name": "新公司",
            "credit_code": factories.credit_code(),
            "settled_on": "2024-01-01",
        },
    ),
    Cell("operator-detail", "GET", GOVERNMENT_AND_OWN, kwargs=pk(lambda w: w.a.operator)),
    Cell(
        "operator-detail",
        "PATCH",
        BUREAU_WRITES,
        kwargs=pk(lambda w: w.a.operator),
        body=lambda w: {"contact_name": "张三"},
    ),
    Cell(
        "operator-admit",
        "POST",
        BUREAU_WRITES,
        kwargs=pk(lambda w: w.registered_operator),
        body=lambda w: {"pilot_admitted_on": "2026-03-01", "reason": "示范应用准入"},
    ),
    Cell(
        "operator-set-status",
        "POST",
        BUREAU_WRITES,
        kwargs=pk(lambda w: w.a.operator),
        body=lambda w: {"status": "suspended", "reason": "整改"},
    ),
    # --- vehicles -------------------------------------------------------------------------
    Cell(
        "vehicle-list",
        "GET",
        EVERYONE,
        listed=lambda w: w.a.vehicle.pk,
        seen_by=GOVERNMENT_AND_A,
    ),
    Cell(
        "vehicle-list",
        "GET",
        EVERYONE,
        query=lambda w: {"operator": w.a.operator.pk},
        listed=lambda w: w.a.vehicle.pk,
        seen_by=GOVERNMENT_AND_A,
        variant="filter",
    ),
    Cell(
        "vehicle-list",
        "POST",
        # Another company's id reads as "no such company" (400), never as "forbidden".
        row(201, 403, 201, 201, 400),
        body=lambda w: {
            "operator": w.a.operator.pk,
            "vin": factories.vin(),
            "plate": factories.plate(),
            "category": "taxi",
        },
    ),
    Cell("vehicle-detail", "GET", GOVERNMENT_AND_OWN, kwargs=pk(lambda w: w.a.vehicle)),
    Cell(
        "vehicle-detail",
        "PATCH",
        row(200, 403, 200, 200, 404),
        kwargs=pk(lambda w: w.a.proposed_vehicle),
        body=lambda w: {"plate": factories.plate()},
        variant="proposed",
    ),
    Cell(
        "vehicle-approve",
        "POST",
        BUREAU_WRITES,
        kwargs=pk(lambda w: w.a.proposed_vehicle),
        body=lambda w: {
            "permit_number": "阳交许2026-9",
            "permit_valid_from": "2026-01-01",
            "permit_valid_to": "2026-12-31",
        },
    ),
    Cell(
        "vehicle-set-status",
        "POST",
        BUREAU_WRITES,
        kwargs=pk(lambda w: w.a.vehicle),
        body=lambda w: {"status": "suspended", "reason": "年检"},
    ),
    # --- the audit trail ------------------------------------------------------------------
    Cell("audit-list", "GET", GOVERNMENT_ONLY),
    Cell("audit-detail", "GET", GOVERNMENT_ONLY, kwargs=pk(lambda w: w.audit_record)),
    # --- segments (the bureau's; companies see approved versions only) ----------------------
    Cell(
        "segment-list",
        "GET",
        EVERYONE,
        listed=lambda w: w.draft_segment.pk,
        seen_by=GOVERNMENT,
        variant="draft",
    ),
    Cell(
        "segment-list",
        "GET",
        EVERYONE,
        query=lambda w: {"status": "draft"},
        listed=lambda w: w.draft_segment.pk,
        seen_by=GOVERNMENT,
        variant="filter draft",
    ),
    Cell(
        "segment-list",
        "POST",
        row(201, 403, 201, 403, 403),
        body=lambda w: {
            "name": "新路",
            "kind": "road",
            "geometry": {"type": "LineString", "coordinates": [[113.57, 37.9], [113.58, 37.9]]},
        },
    ),
    Cell(
        "segment-geojson",
        "GET",
        EVERYONE,
        listed=lambda w: w.draft_segment.pk,
        seen_by=GOVERNMENT,
        variant="draft",
    ),
    Cell("segment-summary", "GET", EVERYONE),
    Cell(
        "segment-import-file",
        "POST",
        BUREAU_WRITES,
        body=_segment_file,
        multipart=True,
        variant="dry run",
    ),
    Cell(
        "segment-detail",
        "GET",
        EVERYONE,
        kwargs=pk(lambda w: w.approved_segment),
        variant="approved",
    ),
    Cell(
        "segment-detail",
        "GET",
        row(200, 200, 200, 404, 404),
        kwargs=pk(lambda w: w.draft_segment),
        variant="draft",
    ),
    Cell(
        "segment-detail",
        "PATCH",
        BUREAU_WRITES,
        kwargs=pk(lambda w: w.draft_segment),
        body=lambda w: {"name": "改名路"},
    ),
    Cell(
        "segment-detail",
        "DELETE",
        row(204, 403, 204, 403, 403),
        kwargs=pk(lambda w: w.draft_segment),
    ),
    Cell("segment-submit", "POST", BUREAU_WRITES, kwargs=pk(lambda w: w.draft_segment)),
    Cell(
        "segment-return-to-draft",
        "POST",
        BUREAU_WRITES,
        kwargs=pk(lambda w: w.submitted_segment),
        body=lambda w: {"reason": "坐标有误"},
    ),
    Cell(
        "segment-approve",
        "POST",
        BUREAU_WRITES,
        kwargs=pk(lambda w: w.submitted_segment),
        body=lambda w: {
            "valid_from": "2026-01-01T00:00:00+08:00",
            "approval_ref": "阳交〔2026〕9号",
        },
    ),
    Cell(
        "segment-suspend",
        "POST",
        BUREAU_WRITES,
        kwargs=pk(lambda w: w.approved_segment),
        body=lambda w: {"reason": "施工"},
    ),
    Cell(
        "segment-retire",
        "POST",
        BUREAU_WRITES,
        kwargs=pk(lambda w: w.approved_segment),
        body=lambda w: {"reason": "改道"},
    ),
    Cell(
        "segment-reinstate",
        "POST",
        row(201, 403, 201, 403, 403),
        kwargs=pk(lambda w: w.suspended_segment),
        body=lambda w: {
            # After the suspension, which took effect when the world was seeded.
            "valid_from": (timezone.now() + dt.timedelta(days=1)).isoformat(),
            "approval_ref": "阳交〔2026〕10号",
            "reason": "施工结束",
        },
    ),
    # --- trips, their traces and raw files -------------------------------------------------
    Cell(
        "trip-list",
        "GET",
        EVERYONE,
        listed=lambda w: w.a.trip.pk,
        seen_by=GOVERNMENT_AND_A,
    ),
    Cell(
        "trip-list",
        "GET",
        EVERYONE,
        query=lambda w: {"operator": w.a.operator.pk},
        listed=lambda w: w.a.trip.pk,
        seen_by=GOVERNMENT_AND_A,
        variant="filter",
    ),
    Cell(
        "trip-list",
        "POST",
        # Another company's VIN reads as "no such vehicle" (400).
        row(403, 403, 202, 202, 400),
        body=_csv_upload,
        multipart=True,
        variant="upload",
    ),
    Cell("trip-detail", "GET", GOVERNMENT_AND_OWN, kwargs=pk(lambda w: w.a.trip)),
    Cell("trip-trace", "GET", GOVERNMENT_AND_OWN, kwargs=pk(lambda w: w.a.trip)),
    Cell("trip-raw", "GET", GOVERNMENT_AND_OWN, kwargs=pk(lambda w: w.a.trip), variant="download"),
    Cell(
        "trip-review",
        "POST",
        BUREAU_WRITES,
        kwargs=pk(lambda w: w.a.flagged_trip),
        body=lambda w: {"decision": "reject", "reason": "与已接受行程重叠"},
    ),
    Cell(
        "trip-reverify",
        "POST",
        row(202, 403, 202, 403, 403),
        kwargs=pk(lambda w: w.a.trip),
        body=lambda w: {"reason": "批文更正"},
    ),
    # The company's own actions: past the role, the accepted trip of an issued statement
    # takes no declared mode and cannot be withdrawn (400).
    Cell(
        "trip-declare-mode",
        "POST",
        row(403, 403, 400, 400, 404),
        kwargs=pk(lambda w: w.a.trip),
        body=lambda w: {"mode": "auto"},
    ),
    Cell(
        "trip-withdraw",
        "POST",
        row(403, 403, 400, 400, 404),
        kwargs=pk(lambda w: w.a.trip),
        body=lambda w: {"reason": "上传错了"},
    ),
    # --- live telemetry terminals ----------------------------------------------------------
    Cell(
        "terminal-list",
        "GET",
        EVERYONE,
        listed=lambda w: _terminal(w).pk,
        seen_by=GOVERNMENT_AND_A,
        prepare=_terminal,
    ),
    Cell(
        "terminal-list",
        "POST",
        # Another company's vehicle reads as "no such vehicle" (400).
        row(201, 403, 201, 201, 400),
        body=lambda w: {
            "vehicle": w.a.vehicle.pk,
            "protocol": "jt808",
            "terminal_id": "013800000001",
        },
        variant="register",
    ),
    Cell("terminal-detail", "GET", GOVERNMENT_AND_OWN, kwargs=pk(_terminal)),
    Cell(
        "terminal-deactivate",
        "POST",
        row(200, 403, 200, 200, 404),
        kwargs=pk(_terminal),
        body=lambda w: {"reason": "丢失"},
    ),
    Cell("terminal-issue-code", "POST", row(201, 403, 201, 201, 404), kwargs=pk(_terminal)),
    Cell("terminal-live", "GET", EVERYONE),
    # --- policy, grades -------------------------------------------------------------------
    Cell("policy-list", "GET", EVERYONE),
    Cell(
        "policy-list",
        "POST",
        # A window that overlaps the seeded version's is refused (400) once access passed.
        row(403, 403, 400, 403, 403),
        body=lambda w: {"name": "重叠", "valid_from": "2026-01-01", "valid_to": "2026-12-31"},
    ),
    Cell("policy-detail", "GET", EVERYONE, kwargs=lambda w: {"pk": w.a.issued_statement.policy_id}),
    Cell(
        "policy-detail",
        "PATCH",
        # Nothing may change under an issued statement: 400 once access passed.
        row(403, 403, 400, 403, 403),
        kwargs=lambda w: {"pk": w.a.issued_statement.policy_id},
        body=lambda w: {"reference": "新文号", "reason": "更正"},
    ),
    Cell(
        "assessment-list",
        "GET",
        EVERYONE,
        listed=lambda w: w.a.assessment.pk,
        seen_by=GOVERNMENT_AND_A,
    ),
    Cell(
        "assessment-list",
        "GET",
        EVERYONE,
        query=lambda w: {"operator": w.a.operator.pk},
        listed=lambda w: w.a.assessment.pk,
        seen_by=GOVERNMENT_AND_A,
        variant="filter",
    ),
    Cell(
        "assessment-list",
        "POST",
        BUREAU_WRITES,
        body=lambda w: {"operator": w.a.operator.pk, "year": ISSUED_YEAR, "grade": "B"},
        variant="regrade",
    ),
    Cell("assessment-detail", "GET", GOVERNMENT_AND_OWN, kwargs=pk(lambda w: w.a.assessment)),
    Cell(
        "assessment-figures",
        "GET",
        GOVERNMENT_ONLY,
        query=lambda w: {"operator": w.a.operator.pk, "year": ISSUED_YEAR},
    ),
    # --- the recorder's scorecard, grading policies and the disengagement report ----------
    Cell(
        "assessment-accept-proposal",
        "POST",
        # Company A's year already graded: the proposal regrades it (200).
        BUREAU_WRITES,
        body=lambda w: {"operator": w.a.operator.pk, "year": ISSUED_YEAR},
        prepare=_grading_policy,
    ),
    Cell(
        "assessment-disengagement-report",
        "GET",
        GOVERNMENT_AND_OWN,
        query=lambda w: {"operator": w.a.operator.pk, "year": ISSUED_YEAR, "file": "csv"},
        variant="download",
    ),
    Cell("grading-policy-list", "GET", EVERYONE),
    Cell(
        "grading-policy-list",
        "POST",
        row(403, 403, 201, 403, 403),
        body=lambda w: {
            k: str(v) if isinstance(v, dt.date) else v
            for k, v in _grading_policy_fields(10).items()
        },
    ),
    # --- data-recorder events and incidents ----------------------------------------------
    Cell(
        "ads-event-import",
        "POST",
        # Another company's VIN reads as "no such vehicle" (400), line and all.
        row(201, 403, 201, 201, 400),
        body=_event_file,
        multipart=True,
        variant="upload",
    ),
    Cell("incident-list", "GET", EVERYONE),
    Cell("incident-detail", "GET", GOVERNMENT_AND_OWN, pk(_incident)),
    Cell(
        "incident-report",
        "POST",
        row(200, 403, 200, 200, 404),  # finance may not; company B does not find it
        pk(_incident),
        body=lambda w: {"report": "剐蹭", "cause": "护栏", "injured": 0},
    ),
    Cell("incident-close", "POST", BUREAU_WRITES, pk(_incident), body=lambda w: {"reason": "误报"}),
    # --- statements and their exports -----------------------------------------------------
    Cell(
        "statement-list",
        "GET",
        EVERYONE,
        listed=lambda w: w.a.issued_statement.pk,
        seen_by=GOVERNMENT_AND_A,
        variant="issued",
    ),
    Cell(
        "statement-list",
        "GET",
        EVERYONE,
        listed=lambda w: w.a.draft_statement.pk,
        seen_by=GOVERNMENT,
        variant="draft",
    ),
    Cell(
        "statement-list",
        "GET",
        EVERYONE,
        query=lambda w: {"operator": w.a.operator.pk},
        listed=lambda w: w.a.issued_statement.pk,
        seen_by=GOVERNMENT_AND_A,
        variant="filter",
    ),
    Cell(
        "statement-detail",
        "GET",
        GOVERNMENT_AND_OWN,
        kwargs=pk(lambda w: w.a.issued_statement),
        variant="issued",
    ),
    Cell(
        "statement-detail",
        "GET",
        row(200, 200, 200, 404, 404),
        kwargs=pk(lambda w: w.a.draft_statement),
        variant="draft",
    ),
    Cell("statement-lines", "GET", GOVERNMENT_AND_OWN, kwargs=pk(lambda w: w.a.issued_statement)),
    Cell(
        "statement-pdf",
        "GET",
        GOVERNMENT_AND_OWN,
        kwargs=pk(lambda w: w.a.issued_statement),
        variant="download",
    ),
    Cell(
        "statement-xlsx",
        "GET",
        GOVERNMENT_AND_OWN,
        kwargs=pk(lambda w: w.a.issued_statement),
        variant="download",
    ),
    Cell(
        "statement-csv",
        "GET",
        GOVERNMENT_AND_OWN,
        kwargs=pk(lambda w: w.a.issued_statement),
        variant="download",
    ),
    Cell(
        "statement-public-notice",
        "GET",
        GOVERNMENT_ONLY,
        query=lambda w: {"year": ISSUED_YEAR, "file": "xlsx"},
        variant="download",
    ),
    Cell("statement-compute", "POST", row(403, 202, 202, 403, 403), body=lambda w: {"year": 2026}),
    # The draft is of a year not over (issue 15): finance may act, and is told why not.
    Cell(
        "statement-approve",
        "POST",
        row(403, 400, 400, 403, 403),
        kwargs=pk(lambda w: w.a.draft_statement),
    ),
    Cell(
        "statement-issue",
        "POST",
        row(403, 400, 400, 403, 403),
        kwargs=pk(lambda w: w.a.draft_statement),
        body=lambda w: {"document_number": "阳财建〔2026〕99号"},
    ),
    Cell(
        "statement-mark-paid",
        "POST",
        FINANCE_WRITES,
        kwargs=pk(lambda w: w.a.issued_statement),
    ),
    # After the statement (issue 15). Objects the seed does not hold are asked for by an id
    # that does not exist: the role check answers first (403), then the lookup (404).
    Cell("public-notice", "GET", EVERYONE, query=lambda w: {"year": ISSUED_YEAR}),
    Cell(
        "statement-objections",
        "POST",
        row(404, 404, 404, 404, 404),  # a draft is not on notice
        kwargs=pk(lambda w: w.a.draft_statement),
        body=lambda w: {"name": "某", "contact": "1", "text": "x"},
    ),
    Cell("objection-list", "GET", GOVERNMENT_ONLY),
    Cell("objection-detail", "GET", row(404, 404, 404, 403, 403), kwargs=lambda w: NO_SUCH),
    Cell(
        "objection-resolve",
        "POST",
        row(403, 404, 404, 403, 403),
        kwargs=lambda w: NO_SUCH,
        body=lambda w: {"outcome": "dismissed", "reason": "x"},
    ),
    Cell("payment-batch-list", "GET", FINANCE_WRITES),
    Cell(
        "payment-batch-list",
        "POST",
        row(403, 400, 400, 403, 403),
        body=lambda w: {"statements": [NO_SUCH["pk"]]},
    ),
    *(
        Cell(route, method, row(403, 404, 404, 403, 403), kwargs=lambda w: NO_SUCH)
        for route, method in (
            ("payment-batch-detail", "GET"),
            ("payment-batch-issue", "POST"),
            ("payment-batch-mark-paid", "POST"),
            ("payment-batch-xlsx", "GET"),
            ("payment-batch-csv", "GET"),
            ("clawback-detail", "GET"),
            ("clawback-recover", "POST"),
            ("clawback-recover-penalty", "POST"),
            ("clawback-offset", "POST"),
        )
    ),
    Cell("clawback-list", "GET", FINANCE_WRITES),
    Cell(
        "clawback-list",
        "POST",
        row(403, 400, 400, 403, 403),
        body=lambda w: {"statement": NO_SUCH["pk"], "amount_yuan": "1.00", "reason": "x"},
    ),
    Cell("work-calendar-list", "GET", FINANCE_WRITES),
    Cell(
        "work-calendar-list",
        "POST",
        row(403, 400, 400, 403, 403),  # no ranges: refused before anything is entered
        body=lambda w: {"year": 2099, "source": "x", "ranges": []},
    ),
    Cell(
        "work-calendar-detail", "GET", row(403, 404, 404, 403, 403), kwargs=lambda w: {"year": 2099}
    ),
    Cell(
        "operator-bank-details",
        "POST",
        row(400, 400, 400, 400, 404),  # an impossible account: refused without a change
        kwargs=pk(lambda w: w.a.operator),
        body=lambda w: {"bank_name": "x", "bank_account": "x"},
    ),
    Cell(
        "operator-bank-details-decide",
        "POST",
        row(400, 403, 400, 403, 403),
        kwargs=pk(lambda w: w.a.operator),
        body=lambda w: {"change": NO_SUCH["pk"], "confirm": True},
    ),
]


@dataclass(frozen=True)
class Page:
    """One row of the web UI's matrix: a page (GET) on one object.

    Every action page resolves its object through the same selectors and checks the role
    before it reads a form, so a GET exercises the checks a POST would meet.
    """

    route: str
    expect: dict[str, int]
    kwargs: Callable[[Seeded], dict[str, Any]] = lambda w: {}
    # Lists: company A's object (a detail route and its id), who must find its link.
    listed: tuple[str, Callable[[Seeded], int]] | None = None
    seen_by: frozenset[str] = field(default_factory=frozenset)

    @property
    def label(self) -> str:
        return f"GET {self.route}"


COMPANY_REFUSED = row(200, 200, 200, 403, 403)
BUREAU_PAGE = row(200, 403, 200, 403, 403)
# Company A's object behind a bureau action: its staff may see it (403), B's may not (404).
BUREAU_ACTION_ON_A = row(200, 403, 200, 403, 404)
# A bureau action on what companies never see (drafts, submitted versions): 404 for both.
BUREAU_ACTION_HIDDEN = row(200, 403, 200, 404, 404)

WEB: list[Page] = [
    Page("home", EVERYONE),
    # The public notice needs no login, and shows the same to everyone.
    Page("payments:public_notice", EVERYONE, lambda w: {"year": ISSUED_YEAR}),
    Page("payments:public_notice_pdf", EVERYONE, lambda w: {"year": ISSUED_YEAR}),
    # Finance's pages after the statement: the role first (403), then the lookup (404).
    Page("payments:objection_list", row(403, 200, 200, 403, 403)),
    Page("payments:objection_detail", row(403, 404, 404, 403, 403), lambda w: NO_SUCH),
    Page("payments:batch_list", row(403, 200, 200, 403, 403)),
    Page("payments:batch_create", row(403, 200, 200, 403, 403)),
    Page("payments:batch_detail", row(403, 404, 404, 403, 403), lambda w: NO_SUCH),
    Page(
        "payments:batch_step", row(403, 404, 404, 403, 403), lambda w: {**NO_SUCH, "step": "issue"}
    ),
    Page("payments:clawback_list", row(403, 200, 200, 403, 403)),
    Page("payments:clawback_create", row(403, 200, 200, 403, 403)),
    Page("payments:clawback_detail", row(403, 404, 404, 403, 403), lambda w: NO_SUCH),
    Page(
        "payments:clawback_step",
        row(403, 404, 404, 403, 403),
        lambda w: {**NO_SUCH, "step": "recover"},
    ),
    Page("payments:work_calendar", row(403, 200, 200, 403, 403)),
    Page("operators:bank_request", GOVERNMENT_AND_OWN, pk(lambda w: w.a.operator)),
    # Nothing waiting: back to the company page.
    Page("operators:bank_decide", row(302, 403, 302, 403, 403), pk(lambda w: w.a.operator)),
    Page("login", row(302, 302, 302, 302, 302)),  # signed in already: on to the dashboard
    Page("operators:company_list", COMPANY_REFUSED),
    Page("operators:company_create", BUREAU_PAGE),
    Page("operators:company_detail", GOVERNMENT_AND_OWN, pk(lambda w: w.a.operator)),
    Page("operators:company_edit", BUREAU_ACTION_ON_A, pk(lambda w: w.a.operator)),
    Page("operators:company_admit", BUREAU_ACTION_HIDDEN, pk(lambda w: w.registered_operator)),
    Page("operators:company_status", BUREAU_ACTION_ON_A, pk(lambda w: w.a.operator)),
    Page(
        "operators:vehicle_list",
        EVERYONE,
        listed=("operators:vehicle_detail", lambda w: w.a.vehicle.pk),
        seen_by=GOVERNMENT_AND_A,
    ),
    Page("operators:vehicle_create", row(200, 403, 200, 200, 200)),
    Page("operators:vehicle_detail", GOVERNMENT_AND_OWN, pk(lambda w: w.a.vehicle)),
    Page(
        "operators:vehicle_edit", row(200, 403, 200, 200, 404), pk(lambda w: w.a.proposed_vehicle)
    ),
    Page("operators:vehicle_approve", BUREAU_ACTION_ON_A, pk(lambda w: w.a.proposed_vehicle)),
    Page("operators:vehicle_status", BUREAU_ACTION_ON_A, pk(lambda w: w.a.vehicle)),
    Page(
        "routes:segment_list",
        EVERYONE,
        listed=("routes:segment_detail", lambda w: w.draft_segment.pk),
        seen_by=GOVERNMENT,
    ),
    Page("routes:segment_create", BUREAU_PAGE),
    Page("routes:segment_import", BUREAU_PAGE),
    # Nothing to commit in this session: back to the import page.
    Page("routes:segment_import_commit", row(302, 403, 302, 403, 403)),
    Page("routes:segment_detail", row(200, 200, 200, 404, 404), pk(lambda w: w.draft_segment)),
    Page("routes:segment_edit", BUREAU_ACTION_HIDDEN, pk(lambda w: w.draft_segment)),
    Page("routes:segment_delete", BUREAU_ACTION_HIDDEN, pk(lambda w: w.draft_segment)),
    Page("routes:segment_submit", BUREAU_ACTION_HIDDEN, pk(lambda w: w.draft_segment)),
    Page("routes:segment_return", BUREAU_ACTION_HIDDEN, pk(lambda w: w.submitted_segment)),
    Page("routes:segment_approve", BUREAU_ACTION_HIDDEN, pk(lambda w: w.submitted_segment)),
    # Approved segments are public to companies: the role is what refuses them.
    Page("routes:segment_suspend", BUREAU_PAGE, pk(lambda w: w.approved_segment)),
    Page("routes:segment_retire", BUREAU_PAGE, pk(lambda w: w.approved_segment)),
    Page("routes:segment_reinstate", BUREAU_ACTION_HIDDEN, pk(lambda w: w.suspended_segment)),
    Page(
        "trips:trip_list",
        EVERYONE,
        listed=("trips:trip_detail", lambda w: w.a.trip.pk),
        seen_by=GOVERNMENT_AND_A,
    ),
    Page("trips:trip_upload", row(403, 403, 200, 200, 200)),
    Page("trips:review_queue", BUREAU_PAGE),
    Page("telemetry:live_map", EVERYONE),
    Page("trips:trip_detail", GOVERNMENT_AND_OWN, pk(lambda w: w.a.trip)),
    Page("trips:trip_review", BUREAU_ACTION_ON_A, pk(lambda w: w.a.flagged_trip)),
    Page("trips:trip_reverify", BUREAU_ACTION_ON_A, pk(lambda w: w.a.trip)),
    Page("trips:trip_declare_mode", row(403, 403, 200, 200, 404), pk(lambda w: w.a.trip)),
    Page("trips:trip_withdraw", row(403, 403, 200, 200, 404), pk(lambda w: w.a.trip)),
    Page("subsidies:grade_list", COMPANY_REFUSED),
    Page(
        "subsidies:grade_edit",
        BUREAU_ACTION_ON_A,
        lambda w: {"operator_pk": w.a.operator.pk, "year": ISSUED_YEAR},
    ),
    Page(
        "subsidies:statement_list",
        EVERYONE,
        listed=("subsidies:statement_detail", lambda w: w.a.issued_statement.pk),
        seen_by=GOVERNMENT_AND_A,
    ),
    Page("subsidies:compute", row(403, 200, 200, 403, 403)),
    Page("subsidies:public_notice", COMPANY_REFUSED),
    Page("subsidies:statement_detail", GOVERNMENT_AND_OWN, pk(lambda w: w.a.issued_statement)),
    Page(
        "subsidies:statement_action",
        # A draft statement: no company sees it; the bureau does, but may not act on it.
        row(403, 200, 200, 404, 404),
        lambda w: {"pk": w.a.draft_statement.pk, "action": "approve"},
    ),
    Page("recorder:incident_list", EVERYONE),
    Page("recorder:ads_event_import", row(200, 403, 200, 200, 200)),
    Page("recorder:incident_detail", GOVERNMENT_AND_OWN, pk(_incident)),
    Page("recorder:incident_report", row(200, 403, 200, 200, 404), pk(_incident)),
    Page("recorder:incident_close", BUREAU_ACTION_ON_A, pk(_incident)),
    Page(
        "grading:grade_accept",
        row(405, 405, 405, 405, 405),  # POST only
        lambda w: {"operator_pk": w.a.operator.pk, "year": ISSUED_YEAR},
    ),
    Page("logout", row(405, 405, 405, 405, 405)),  # POST only: a link cannot sign you out
    Page("set_language", row(302, 302, 302, 302, 302)),
]


def _api_routes() -> Iterator[tuple[str, str]]:
    """(URL name, method) of every API route."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, URLPattern]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern

    for route, pattern in walk(get_resolver().url_patterns, ""):
        # The router's ".json" twins of each route share its name and view.
        if not route.startswith("api/v1/") or "<format>" in route:
            continue
        view = pattern.callback
        actions = getattr(view, "actions", None)
        if actions:
            methods = list(actions)
        else:
            view_class = view.view_class  # type: ignore[attr-defined]
            methods = [m for m in view_class.http_method_names if hasattr(view_class, m)]
        # HEAD answers as GET does, OPTIONS describes the route: neither acts on an object.
        # (DRF adds "head" to a viewset's actions on its first request.)
        for method in methods:
            if method not in ("head", "options"):
                yield str(pattern.name), method.upper()


def _web_routes() -> Iterator[str]:
    """The namespaced URL name of every web UI page (the Django admin has its own checks)."""

    def walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif not prefix.startswith(("api/", "admin/")):
                yield namespace + str(pattern.name)

    yield from walk(get_resolver().url_patterns, "", "")


def test_every_api_route_is_in_the_matrix() -> None:
    routes = set(_api_routes())
    in_matrix = {(cell.route, cell.method) for cell in MATRIX}
    assert sorted(routes - in_matrix) == [], "routes missing from the access matrix"
    assert sorted(in_matrix - routes) == [], "matrix rows for routes that are gone"


def test_every_web_page_is_in_the_matrix() -> None:
    pages = set(_web_routes())
    in_matrix = {page.route for page in WEB}
    assert sorted(pages - in_matrix) == [], "pages missing from the access matrix"
    assert sorted(in_matrix - pages) == [], "matrix rows for pages that are gone"


def _listed_ids(body: Any) -> set[int]:
    if "features" in body:
        return {feature["id"] for feature in body["features"]}
    return {item["id"] for item in body["results"]}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("cell", MATRIX, ids=[cell.label for cell in MATRIX])
def test_access(cell: Cell, actor: str, seeded: Seeded, tokens: dict[str, str]) -> None:
    if cell.prepare is not None:
        cell.prepare(seeded)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens[USER_OF[actor]]}")
    url = reverse(cell.route, kwargs=cell.kwargs(seeded))
    body = _credentials(seeded, actor) if cell.route == "auth-token" else cell.body(seeded)
    send = getattr(client, cell.method.lower())
    if cell.method == "GET":
        response = send(url, cell.query(seeded))
    else:
        response = send(url, body, format="multipart" if cell.multipart else "json")
    assert response.status_code == cell.expect[actor], getattr(response, "content", b"")[:300]
    if cell.listed is not None:
        listed = cell.listed(seeded) in _listed_ids(response.json())
        assert listed == (actor in cell.seen_by)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("page", WEB, ids=[page.label for page in WEB])
def test_page_access(page: Page, actor: str, seeded: Seeded) -> None:
    client = Client()
    client.force_login(getattr(seeded.world, USER_OF[actor]))
    response = client.get(reverse(page.route, kwargs=page.kwargs(seeded)))
    assert response.status_code == page.expect[actor]
    if page.listed is not None:
        detail, ident = page.listed
        link = f'href="{reverse(detail, kwargs={"pk": ident(seeded)})}"'
        assert (link in response.content.decode()) == (actor in page.seen_by)
