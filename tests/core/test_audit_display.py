"""The audit trail as people read it (core/web.py): units, labels and words, never raw
Python values; and transition refusals with the statuses' labels."""

from __future__ import annotations

import datetime as dt
import importlib
import re
from typing import Any

import pytest
from django.apps import apps
from django.utils import translation

from core.errors import ApplicationError
from core.services import audit_record
from core.web import audit_trail
from operators import services as operator_services
from routes import services
from subsidies import computation
from subsidies.models import Statement
from tests.conftest import World
from tests.routes.helpers import draft_road, line
from tests.subsidies import factories as sf
from tests.subsidies.test_grading import policy as grading_policy

pytestmark = pytest.mark.django_db
_seed = importlib.import_module("subsidies.migrations.0002_seed_policy").seed


def test_a_changed_geometry_shows_its_length_with_units_and_the_geometry_in_words(
    world: World,
) -> None:
    segment = draft_road(world.bureau)
    with translation.override("en"):
        services.segment_update(
            actor=world.bureau,
            segment=segment,
            data={"geometry": line((113.58, 37.86), (113.60, 37.86), (113.61, 37.86))},
        )
        newest = audit_trail(user=world.admin, obj=segment)[0]
    changes = {c.label: (c.old, c.new) for c in newest.changes}
    # 0.01° of longitude at 37.86°N is 879.99 m (geodesic); 0.03° is 2,639.97 m → km from
    # 1 km, rounded half up to 2.640 km (number_format alone cut it to 2.639)
    assert changes["Centreline length"] == ("879.99 m", "2.640 km")
    assert changes["Geometry (GeoJSON, WGS-84)"] == (
        "LineString geometry, 2 points",
        "LineString geometry, 3 points",
    )


def test_a_created_segment_shows_its_corridor_in_metres_and_its_kind_by_label(
    world: World,
) -> None:
    segment = draft_road(world.bureau)
    with translation.override("zh-hans"):
        created = {c.label: c.new for c in audit_trail(user=world.admin, obj=segment)[0].changes}
    assert "15.00 米" in created.values()
    assert not any("{" in str(value) for value in created.values())


def test_a_transition_refusal_names_the_statuses_in_chinese(world: World) -> None:
    # In Chinese whatever language an earlier test's request left active in this thread.
    with translation.override("zh-hans"), pytest.raises(ApplicationError) as caught:
        operator_services.operator_admit(
            actor=world.bureau, operator=world.company_a, pilot_admitted_on=dt.date(2024, 1, 1)
        )
    assert str(caught.value.message) == "不能从“已纳入示范应用”变为“已纳入示范应用”。"


def _shown(world: World, obj: Any, changes: dict[str, list[Any]], language: str) -> dict[str, Any]:
    """What the trail shows of `changes` recorded on `obj`: label → (before, after)."""
    audit_record(actor=world.bureau, obj=obj, action="update", changes=changes)
    with translation.override(language):
        newest = audit_trail(user=world.admin, obj=obj)[0]
    return {c.label: (c.old, c.new) for c in newest.changes}


def test_kilometres_driven_show_as_km_to_three_decimals_whatever_their_size(
    world: World,
) -> None:
    trip = sf.trip(vehicle=world.vehicle_a, days={dt.date(2025, 3, 10): "500"})
    # Stored as Decimal strings in metres: 500 m is 0.500 km, 2,450,750.5 m is 2,450.751 km
    shown = _shown(
        world,
        trip,
        {"eligible_m": ["500.00", "2450750.50"], "total_m": [None, "12.5"]},
        "en",
    )
    # the label names no unit of its own: the value says km, so "(m)" would contradict it
    assert shown["Eligible"] == ("0.500 km", "2,450.751 km")
    assert shown["Total"] == (None, "0.013 km")  # 12.5 m = 0.0125 km, half up


def test_a_statements_km_shows_three_decimals_not_its_five_stored(world: World) -> None:
    _seed(apps, None)
    sf.trip(vehicle=world.vehicle_a, days={dt.date(2025, 3, 10): "2450750"})
    sf.grade(actor=world.bureau, operator=world.company_a, year=2025, grade="A")
    computation.statements_compute(year=2025, actor=world.finance)
    statement = Statement.objects.get(operator=world.company_a, year=2025)
    with translation.override("zh-hans"):
        changes = audit_trail(user=world.admin, obj=statement)[-1].changes
    created = {c.label: c.new for c in changes}
    # 2,450,750 m = 2,450.75000 km stored (5 places) → 2,450.750 公里 shown, once: the metres
    # and the kilometres are one figure under one label
    assert [c.new for c in changes if c.label == "合规里程"] == ["2,450.750 公里"]
    # every amount in yuan to 2 decimals, grouped: no raw Decimal string anywhere, and no
    # label naming its unit beside a value that names it again
    amounts = [v for v in created.values() if str(v).endswith(" 元")]
    assert len(amounts) >= 5
    assert not [k for k in created if k.endswith("（元）")]
    assert all(re.fullmatch(r"-?[\d,]+\.\d{2} 元", str(v)) for v in amounts), amounts


def test_a_rate_per_1000_km_is_a_figure_and_a_score_keeps_its_places(world: World) -> None:
    policy = grading_policy(world)
    with translation.override("en"):
        created = {c.label: c.new for c in audit_trail(user=world.admin, obj=policy)[-1].changes}
    # disengagements per 1,000 km: a count to 2 places, not a distance ("1,000.000 km")
    assert created["C: maximum disengagements per 1,000 km"] == "1,000.00"
    assert created["A: minimum km in approved zones"] == "5.000 km"
    assessment = sf.grade(actor=world.bureau, operator=world.company_a, year=2025, grade="B")
    assert _shown(world, assessment, {"score": ["85.5", "1234.5"]}, "en")["Score"] == (
        "85.50",
        "1,234.50",
    )


def test_a_raw_files_size_shows_in_kilobytes(world: World) -> None:
    trip = sf.trip(vehicle=world.vehicle_a, days={dt.date(2025, 3, 10): "500"})
    shown = _shown(world, trip, {"raw_size": [None, 2048]}, "en")
    assert next(iter(shown.values())) == (None, "2.0\xa0KB")  # 2,048 bytes = 2 KiB


def test_a_float_without_a_unit_is_rounded_half_up_and_grouped(world: World) -> None:
    trip = sf.trip(vehicle=world.vehicle_a, days={dt.date(2025, 3, 10): "500"})
    # 1234.56789 (≥ 1,000: 3 places) → 1,234.568; 0.1234565 (6 places) → 0.123457, not cut
    shown = _shown(world, trip, {"figures": [1234.56789, 0.1234565]}, "zh-hans")
    assert shown["Figures"] == ("1,234.568", "0.123457")
