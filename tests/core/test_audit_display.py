"""The audit trail as people read it (core/web.py): units, labels and words, never raw
Python values; and transition refusals with the statuses' labels."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from core.errors import ApplicationError
from core.web import audit_trail
from operators import services as operator_services
from routes import services
from tests.conftest import World
from tests.routes.helpers import draft_road, line

pytestmark = pytest.mark.django_db


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
    # 0.01° of longitude at 37.86°N is 879.99 m (geodesic); 0.03° is 2,639 m → km from 1 km
    assert changes["Centreline length (m)"] == ("879.99 m", "2.639 km")
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
    with pytest.raises(ApplicationError) as caught:
        operator_services.operator_admit(
            actor=world.bureau, operator=world.company_a, pilot_admitted_on=dt.date(2024, 1, 1)
        )
    assert str(caught.value.message) == "不能从“已纳入示范应用”变为“已纳入示范应用”。"
