"""Grades proposed by the grading policy from the scorecard; accepted, or overridden with a
reason, and audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import translation

from core.models import AuditRecord
from subsidies import services
from subsidies.grading import grading_policy_create
from subsidies.models import Assessment, GradingPolicy
from subsidies.scorecard import reason_in_words
from tests.conftest import World, client_for
from tests.subsidies.test_scorecard import drive, events

pytestmark = pytest.mark.django_db


def policy(world: World) -> GradingPolicy:
    """A: ≥ 5 km in zones, ≤ 500 per 1,000 km, no collision; B: the same with 1 collision;
    C: ≥ 1 km, ≤ 1,000 per 1,000 km, ≤ 5 collisions."""
    return grading_policy_create(
        actor=world.admin,
        version=1,
        name="示范应用效果评定规则（试行）",
        valid_from=dt.date(2026, 1, 1),
        valid_to=dt.date(2030, 12, 31),
        a_min_zone_km=Decimal(5),
        a_max_per_1000_km=Decimal(500),
        a_max_collisions=0,
        b_min_zone_km=Decimal(5),
        b_max_per_1000_km=Decimal(500),
        b_max_collisions=1,
        c_min_zone_km=Decimal(1),
        c_max_per_1000_km=Decimal(1000),
        c_max_collisions=5,
    )


def test_the_scorecard_proposes_b_when_a_collision_rules_out_a(world: World) -> None:
    policy(world)
    drive(world)
    events(world)
    # 8 km in zones ≥ 5, 400 per 1,000 km ≤ 500, but 1 collision > 0: not A; B: all met.
    figures = client_for(world.bureau).get(
        "/api/v1/assessments/figures/", {"operator": world.company_a.pk, "year": 2026}
    )
    body = figures.json()
    assert body["proposal"]["grade"] == "B"
    assert body["proposal"]["reasons"] == ["A: collisions 1 > 0"]
    assert body["scorecard"]["zone_km"] == "8.000"
    assert body["scorecard"]["per_1000_km"] == "400.00"


@pytest.mark.parametrize(
    ("language", "shown"),
    [("zh-hans", "A 级：碰撞 1 次，多于 0 次"), ("en", "A: 1 collision, more than 0")],
)
def test_the_grade_page_says_why_not_a_better_grade_in_its_language(
    world: World, language: str, shown: str
) -> None:
    policy(world)
    drive(world)
    events(world)
    client = Client()
    client.force_login(world.bureau)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language  # what the header's switch sets
    body = client.get(f"/grades/{world.company_a.pk}/2026/").content.decode()
    assert f"<li>{shown}</li>" in body
    assert "collisions 1 &gt; 0" not in body  # the stored form, never shown


def test_a_reason_reads_its_figures_as_every_page_does() -> None:
    with translation.override("en"):
        assert reason_in_words("B: zone km 235.948 < 1000.000") == (
            "B: 235.948 km in approved zones, below 1,000.000 km"
        )
        assert reason_in_words("C: disengagements per 1,000 km 1234.5 > 1000") == (
            "C: 1,234.50 disengagements per 1,000 km, above 1,000.00"
        )
        assert reason_in_words("C: collisions 2 > 1") == "C: 2 collisions, more than 1"
        assert reason_in_words("something else") == "something else"


def test_accepting_the_proposal_needs_no_reason_and_keeps_the_scorecard(world: World) -> None:
    policy(world)
    drive(world)
    events(world)
    response = client_for(world.bureau).post(
        "/api/v1/assessments/accept-proposal/",
        {"operator": world.company_a.pk, "year": 2026},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assessment = Assessment.objects.get()
    assert (assessment.grade, assessment.proposed_grade) == ("B", "B")
    assert assessment.override_reason == ""
    assert assessment.scorecard["collisions"] == 1
    assert assessment.scorecard["policy_version"] == 1


def test_overriding_the_proposal_without_a_reason_is_refused(world: World) -> None:
    policy(world)
    drive(world)
    events(world)
    response = client_for(world.bureau).post(
        "/api/v1/assessments/",
        {"operator": world.company_a.pk, "year": 2026, "grade": "A"},
        format="json",
    )
    assert response.status_code == 400
    assert "reason" in response.json()
    assert not Assessment.objects.exists()


def test_an_override_with_a_reason_is_recorded_and_audited(world: World) -> None:
    policy(world)
    drive(world)
    events(world)
    assessment = services.assessment_set(
        actor=world.bureau,
        operator=world.company_a,
        year=2026,
        grade="A",
        reason="碰撞系对方车辆全责，经交警认定",
    )
    assert (assessment.grade, assessment.proposed_grade) == ("A", "B")
    record = AuditRecord.objects.get(
        content_type__model="assessment", object_id=str(assessment.pk), action="create"
    )
    assert record.changes["override_reason"][1] == "碰撞系对方车辆全责，经交警认定"
    assert record.changes["proposed_grade"][1] == "B"


def test_without_a_policy_in_force_the_bureau_grades_freely(world: World) -> None:
    drive(world)
    assessment = services.assessment_set(
        actor=world.bureau, operator=world.company_a, year=2026, grade="A"
    )
    assert assessment.proposed_grade == ""
    assert assessment.scorecard["zone_km"] == "8.000"


def test_a_policy_asking_less_of_a_better_grade_is_refused(world: World) -> None:
    with pytest.raises(ValidationError):
        grading_policy_create(
            actor=world.admin,
            version=2,
            name="x",
            valid_from=dt.date(2026, 1, 1),
            valid_to=dt.date(2026, 12, 31),
            a_min_zone_km=Decimal(1),
            a_max_per_1000_km=Decimal(500),
            a_max_collisions=0,
            b_min_zone_km=Decimal(5),
            b_max_per_1000_km=Decimal(500),
            b_max_collisions=1,
            c_min_zone_km=Decimal(1),
            c_max_per_1000_km=Decimal(1000),
            c_max_collisions=5,
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="raw SQL against PostgreSQL")
def test_the_database_refuses_an_override_without_a_reason(world: World) -> None:
    services.assessment_set(actor=world.bureau, operator=world.company_a, year=2026, grade="B")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE subsidies_assessment SET proposed_grade = 'C', override_reason = ''")


POLICY = {
    "version": 3,
    "name": "评定规则",
    "valid_from": "2027-01-01",
    "valid_to": "2027-12-31",
    "a_min_zone_km": "5000",
    "a_max_per_1000_km": "1",
    "a_max_collisions": 0,
    "b_min_zone_km": "2000",
    "b_max_per_1000_km": "3",
    "b_max_collisions": 1,
    "c_min_zone_km": "500",
    "c_max_per_1000_km": "10",
    "c_max_collisions": 3,
}


def test_an_administrator_adds_a_grading_policy_and_everyone_reads_it(world: World) -> None:
    url = "/api/v1/grading-policies/"
    assert client_for(world.bureau).post(url, POLICY, format="json").status_code == 403
    assert client_for(world.admin).post(url, POLICY, format="json").status_code == 201
    again = client_for(world.admin).post(url, POLICY, format="json")
    assert again.status_code == 400  # the version exists
    listed = client_for(world.staff_a).get(url).json()
    assert [p["version"] for p in listed] == [3]
    assert listed[0]["b_max_per_1000_km"] == "3.00"
