"""The scorecard of a company-year, worked by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from recorder import services as recorder_services
from subsidies.scorecard import scorecard, scorecards
from tests.conftest import World
from tests.subsidies import factories as sf

pytestmark = pytest.mark.django_db

HEADER = "time,vin,event,initiator,lat,lon,note\n"


def record(world: World, vin: str, *rows: str) -> None:
    body = HEADER + "".join(_row(row, vin) for row in rows)
    recorder_services.ads_events_import(actor=world.bureau, data=body.encode())


def _row(row: str, vin: str) -> str:
    at, kind = row.split(" ")
    return f"{at},{vin},{kind},,,,\n"


def drive(world: World) -> None:
    """Company A drives 6 + 4 = 10 autonomous km in 2026 on two days, 5 + 3 = 8 in zones."""
    sf.trip(vehicle=world.vehicle_a, days={dt.date(2026, 3, 2): ("6000", "5000")})
    sf.trip(vehicle=world.vehicle_a, days={dt.date(2026, 3, 3): ("4000", "3000")})
    sf.trip(vehicle=world.vehicle_b, days={dt.date(2026, 3, 2): "7000"})


def events(world: World) -> None:
    record(
        world,
        world.vehicle_a.vin,
        # A request 4 s before an exit: system-initiated.
        "2026-03-02T09:00:00+08:00 takeover_request",
        "2026-03-02T09:00:04+08:00 deactivation",
        # An exit without a request: driver-initiated.
        "2026-03-02T10:00:00+08:00 deactivation",
        # A request 15 s before the exit, outside the 10 s window: driver-initiated.
        "2026-03-02T11:00:00+08:00 takeover_request",
        "2026-03-02T11:00:15+08:00 deactivation",
        # A request in 2025 answered 5 s later in 2026 (local time): a 2026 system exit.
        "2025-12-31T23:59:58+08:00 takeover_request",
        "2026-01-01T00:00:03+08:00 deactivation",
        # An exit in 2025 (local; 2025-12-31 16:00 UTC is still 2025 there).
        "2025-12-31T23:00:00+08:00 deactivation",
        "2026-03-03T12:00:00+08:00 mrm_start",
        "2026-03-03T12:00:30+08:00 mrm_end",
        "2026-03-03T12:05:00+08:00 severe_failure",
        "2026-03-03T12:10:00+08:00 collision",
    )
    # Company B's exit is B's, not A's.
    record(world, world.vehicle_b.vin, "2026-03-02T09:00:00+08:00 deactivation")


def test_the_scorecard_of_a_year_worked_by_hand(world: World) -> None:
    drive(world)
    events(world)
    card = scorecard(operator_id=world.company_a.pk, year=2026)
    assert card.autonomous_km == Decimal("10.000")  # 6,000 + 4,000 m
    assert card.zone_km == Decimal("8.000")  # 5,000 + 3,000 m
    assert (card.system_disengagements, card.driver_disengagements) == (2, 2)
    # 4 exits over 10 autonomous km: 4 / 10 × 1,000 = 400 per 1,000 km; 2 / 10 × 1,000 = 200.
    assert card.per_1000_km == Decimal("400.00")
    assert card.system_per_1000_km == Decimal("200.00")
    assert card.driver_per_1000_km == Decimal("200.00")
    assert (card.mrms, card.severe_failures, card.collisions) == (1, 1, 1)
    assert (card.active_days, card.vehicles) == (2, 1)


def test_all_companies_at_once_agree_with_each_alone(world: World) -> None:
    drive(world)
    events(world)
    every = scorecards(year=2026)
    assert every[world.company_a.pk] == scorecard(operator_id=world.company_a.pk, year=2026)
    b = every[world.company_b.pk]
    assert (b.driver_disengagements, b.autonomous_km, b.collisions) == (1, Decimal("7.000"), 0)


def test_a_company_that_drove_nothing_has_no_rate(world: World) -> None:
    card = scorecard(operator_id=world.company_a.pk, year=2026)
    assert card.per_1000_km is None
    assert card.as_json()["per_1000_km"] is None
