"""The subsidies API: scoping by role, the workflow, exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from subsidies import computation, services
from subsidies.exports import safe_text
from subsidies.models import Statement
from tests.conftest import World, client_for
from tests.subsidies import factories
from trips.models import Trip

pytestmark = pytest.mark.django_db


def computed(world: World) -> tuple[Statement, Statement]:
    """Company A: 12,345.6 km at A = 37,036.80; company B: 1 km at B = 2.00."""
    factories.trip(vehicle=world.vehicle_a, days={dt.date(2024, 3, 1): "12000000.00"})
    factories.trip(vehicle=world.vehicle_a, days={dt.date(2024, 4, 2): "345600.00"})
    factories.trip(vehicle=world.vehicle_b, days={dt.date(2024, 3, 1): "1000.00"})
    factories.grade(actor=world.bureau, operator=world.company_a, year=2024, grade="A")
    factories.grade(actor=world.bureau, operator=world.company_b, year=2024, grade="B")
    computation.statements_compute(year=2024)
    return (
        Statement.objects.get(operator=world.company_a),
        Statement.objects.get(operator=world.company_b),
    )


def issued(world: World, statement: Statement) -> Statement:
    services.statement_approve(actor=world.finance, statement=statement)
    return services.statement_issue(actor=world.finance, statement=statement)


def test_finance_queues_the_computation_and_gets_202(world: World) -> None:
    factories.trip(vehicle=world.vehicle_a, days={dt.date(2024, 3, 1): "1000.00"})
    response = client_for(world.finance).post(
        "/api/v1/statements/compute/", {"year": 2024}, format="json"
    )
    assert response.status_code == 202
    assert Statement.objects.filter(operator=world.company_a, year=2024).exists()


def test_the_bureau_cannot_compute(world: World) -> None:
    response = client_for(world.bureau).post(
        "/api/v1/statements/compute/", {"year": 2024}, format="json"
    )
    assert response.status_code == 403


def test_statement_money_is_a_string_with_its_capital_numerals(world: World) -> None:
    a, _ = computed(world)
    body = client_for(world.finance).get(f"/api/v1/statements/{a.pk}/").json()
    # 12,345.6 km × 3.00 = 37,036.80
    assert body["amount_yuan"] == "37036.80"
    assert body["amount_capital"] == "叁万柒仟零叁拾陆元捌角整"
    assert body["km"] == "12345.60000"


def test_statements_filter_by_year_operator_and_status(world: World) -> None:
    a, _ = computed(world)
    client = client_for(world.finance)
    listed = client.get("/api/v1/statements/", {"operator": world.company_a.pk, "year": 2024})
    assert [s["id"] for s in listed.json()["results"]] == [a.pk]
    assert client.get("/api/v1/statements/", {"status": "issued"}).json()["count"] == 0


def test_a_company_sees_only_its_own_issued_statements(world: World) -> None:
    a, b = computed(world)
    issued(world, b)
    client = client_for(world.staff_a)
    assert client.get("/api/v1/statements/").json()["count"] == 0
    assert client.get(f"/api/v1/statements/{a.pk}/").status_code == 404  # a draft
    assert client.get(f"/api/v1/statements/{b.pk}/pdf/").status_code == 404  # another's
    issued(world, a)
    assert client.get(f"/api/v1/statements/{a.pk}/pdf/").status_code == 200


def test_finance_approves_issues_and_marks_paid_over_the_api(world: World) -> None:
    a, _ = computed(world)
    client = client_for(world.finance)
    assert client.post(f"/api/v1/statements/{a.pk}/approve/").json()["status"] == "approved"
    body = client.post(
        f"/api/v1/statements/{a.pk}/issue/",
        {"reason": "公示无异议", "document_number": "阳财建〔2025〕1号"},
    ).json()
    assert body["status"] == "issued"
    assert body["ledger"][0]["kind"] == "accrual"
    assert body["ledger"][0]["amount_yuan"] == "37036.80"
    body = client.post(f"/api/v1/statements/{a.pk}/mark-paid/").json()
    assert [e["kind"] for e in body["ledger"]] == ["accrual", "payment"]


def test_an_unknown_field_in_an_action_is_a_400(world: World) -> None:
    a, _ = computed(world)
    response = client_for(world.finance).post(
        f"/api/v1/statements/{a.pk}/approve/", {"amount_yuan": "1"}, format="json"
    )
    assert response.status_code == 400
    assert "amount_yuan" in response.json()


def test_the_drill_down_lists_each_contributing_trip(world: World) -> None:
    a, _ = computed(world)
    body = client_for(world.finance).get(f"/api/v1/statements/{a.pk}/lines/").json()
    assert [(line["day"], line["eligible_m"]) for line in body["results"]] == [
        ("2024-03-01", "12000000.00"),
        ("2024-04-02", "345600.00"),
    ]


def test_an_issued_statements_lines_and_csv_are_those_frozen_at_approval(world: World) -> None:
    a, _ = computed(world)
    issued(world, a)
    trip = Trip.objects.get(days__day=dt.date(2024, 4, 2))
    factories.reverify(trip, {dt.date(2024, 4, 2): "1.00"})
    client = client_for(world.staff_a)

    body = client.get(f"/api/v1/statements/{a.pk}/lines/").json()
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(f"/api/v1/statements/{a.pk}/csv/").content.decode("utf-8-sig"))
        )
    )

    assert [line["eligible_m"] for line in body["results"]] == ["12000000.00", "345600.00"]
    assert [r["合规里程（米）"] for r in rows] == ["12000000.00", "345600.00"]
    assert body["results"][1]["trip"] == trip.pk


def test_the_bureau_grades_and_regrading_is_a_200(world: World) -> None:
    client = client_for(world.bureau)
    payload = {"operator": world.company_a.pk, "year": 2024, "grade": "B", "score": "82.5"}
    assert client.post("/api/v1/assessments/", payload, format="json").status_code == 201
    payload["grade"] = "A"
    response = client.post("/api/v1/assessments/", payload, format="json")
    assert response.status_code == 200
    assert response.json()["grade"] == "A"


def test_finance_cannot_grade(world: World) -> None:
    response = client_for(world.finance).post(
        "/api/v1/assessments/",
        {"operator": world.company_a.pk, "year": 2024, "grade": "A"},
        format="json",
    )
    assert response.status_code == 403


def test_the_figures_that_inform_a_grade(world: World) -> None:
    trip = factories.trip(vehicle=world.vehicle_a, days={dt.date(2024, 3, 1): "5000.00"})
    trip.disengagements = 2
    trip.save(update_fields=["disengagements"])
    body = (
        client_for(world.bureau)
        .get("/api/v1/assessments/figures/", {"operator": world.company_a.pk, "year": 2024})
        .json()
    )
    # 5 km over 2 disengagements = 2.5 km per disengagement
    assert body["eligible_km"] == "5.00000"
    assert body["disengagements"] == 2
    assert body["km_per_disengagement"] == "2.500"


def test_companies_cannot_read_the_grading_figures(world: World) -> None:
    response = client_for(world.staff_a).get(
        "/api/v1/assessments/figures/", {"operator": world.company_a.pk, "year": 2024}
    )
    assert response.status_code == 403


def test_only_admin_edits_the_policy_and_no_rate_may_exceed_the_maximum(world: World) -> None:
    policy_id = client_for(world.finance).get("/api/v1/policies/").json()["results"][0]["id"]
    assert (
        client_for(world.finance)
        .patch(f"/api/v1/policies/{policy_id}/", {"name": "x"}, format="json")
        .status_code
        == 403
    )
    response = client_for(world.admin).patch(
        f"/api/v1/policies/{policy_id}/", {"rate_a_yuan_per_km": "3.50"}, format="json"
    )
    assert response.status_code == 400
    response = client_for(world.admin).patch(
        f"/api/v1/policies/{policy_id}/",
        {"valid_to": "2027-06-30", "reason": "政策印发日期确定"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["valid_to"] == "2027-06-30"


def test_the_csv_lists_trip_lines_with_chinese_headers(world: World) -> None:
    a, _ = computed(world)
    response = client_for(world.finance).get(f"/api/v1/statements/{a.pk}/csv/")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["合规里程（米）"] for r in rows] == ["12000000.00", "345600.00"]
    assert rows[0]["车牌号"] == world.vehicle_a.plate
    assert rows[1]["合规里程（公里）"] == "345.600"  # km to 3 decimals


def test_the_xlsx_has_the_summary_and_the_lines(world: World) -> None:
    a, _ = computed(world)
    response = client_for(world.finance).get(f"/api/v1/statements/{a.pk}/xlsx/")
    book = load_workbook(io.BytesIO(response.content))
    summary = {row[0]: row[1] for row in book["结算单"].iter_rows(values_only=True)}
    assert summary["金额（元）"] == 37036.8
    assert summary["金额大写"] == "人民币叁万柒仟零叁拾陆元捌角整（¥37,036.80）"
    assert book["行程明细"].max_row == 4  # header, two trips and the total


def test_formula_like_text_is_neutralised_in_exports(world: World) -> None:
    factories.trip(vehicle=world.vehicle_a, days={dt.date(2024, 3, 1): "1000.00"})
    trip = factories.trip(vehicle=world.vehicle_a, days={dt.date(2024, 3, 2): "1000.00"})
    trip.external_id = '=HYPERLINK("http://x")'
    trip.save(update_fields=["external_id"])
    computation.statements_compute(year=2024)
    statement = Statement.objects.get(operator=world.company_a)
    response = client_for(world.finance).get(f"/api/v1/statements/{statement.pk}/csv/")
    text = response.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert [safe_text(v) for v in ("-1", "@a", "\tx", "+1", "ok")] == [
        "'-1",
        "'@a",
        "'\tx",
        "'+1",
        "ok",
    ]


def test_the_pdf_embeds_its_font(world: World) -> None:
    a, _ = computed(world)
    response = client_for(world.finance).get(f"/api/v1/statements/{a.pk}/pdf/")
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert b"/FontFile" in response.content  # embedded, not referenced


def test_the_public_notice_lists_issued_amounts_only(world: World) -> None:
    a, _ = computed(world)
    issued(world, a)
    response = client_for(world.finance).get("/api/v1/statements/public-notice/", {"year": 2024})
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["企业"], r["金额（元）"]) for r in rows] == [("甲公司", "37036.80")]
    assert rows[0]["金额大写"] == "人民币叁万柒仟零叁拾陆元捌角整（¥37,036.80）"


def test_the_public_notice_nets_an_adjustment(world: World) -> None:
    a, _ = computed(world)
    issued(world, a)
    factories.trip(vehicle=world.vehicle_a, days={dt.date(2024, 9, 1): "1000.00"})
    computation.statements_compute(year=2024)
    issued(world, Statement.objects.get(operator=world.company_a, kind="adjustment"))
    response = client_for(world.finance).get(
        "/api/v1/statements/public-notice/", {"year": "2024", "file": "xlsx"}
    )
    sheet = load_workbook(io.BytesIO(response.content))["公示名单"]
    rows = list(sheet.iter_rows(values_only=True))
    # 37,036.80 + 1 km × 3.00 = 37,039.80
    assert rows[1][5] == float(Decimal("37039.80"))


def test_companies_cannot_download_the_public_notice(world: World) -> None:
    response = client_for(world.staff_a).get("/api/v1/statements/public-notice/", {"year": 2024})
    assert response.status_code == 403
