"""The segment form never answers 500: one-point lines, points, invalid polygons and bad
JSON are refused next to the geometry field, in Chinese, with the problem's point for the map."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from routes.models import RoadSegment
from tests.conftest import World
from tests.routes.helpers import LAT0, LON0

pytestmark = pytest.mark.django_db

BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [
            [LON0, LAT0],
            [LON0 + 0.01, LAT0 + 0.01],
            [LON0 + 0.01, LAT0],
            [LON0, LAT0 + 0.01],
            [LON0, LAT0],
        ]
    ],
}


def draw(user: Any, geometry: Any, kind: str = "road") -> Any:
    client = Client()
    client.force_login(user)
    data = {"name": "新建路", "kind": kind, "two_way": "on", "corridor_half_width_m": "15"}
    data["geometry"] = geometry if isinstance(geometry, str) else json.dumps(geometry)
    return client.post("/segments/new/", data)


def geometry_error(response: Any) -> str:
    assert response.status_code == 200
    (error,) = response.context["form"].errors["geometry"]
    return str(error)


def test_a_one_point_line_is_refused_in_chinese_not_a_500(world: World) -> None:
    response = draw(world.bureau, {"type": "LineString", "coordinates": [[LON0, LAT0]]})
    assert (
        geometry_error(response) == "一条线至少需要两个点，这条线不足两个点。请画出完整的中心线。"
    )
    assert not RoadSegment.objects.exists()


def test_a_pasted_point_is_refused_as_the_wrong_type(world: World) -> None:
    response = draw(world.bureau, {"type": "Point", "coordinates": [LON0, LAT0]})
    assert "而不是 Point" in geometry_error(response)


def test_a_self_intersection_is_said_in_chinese_only_and_its_point_goes_to_the_map(
    world: World,
) -> None:
    response = draw(world.bureau, BOWTIE, kind="area")
    error = geometry_error(response)
    # the bowtie's diagonals cross at the centre of the 0.01° square
    assert error == (
        "多边形无效（边界自相交，位于 113.585000, 37.865000）。请修正，或选择自动修复。"
    )
    assert "Self-intersection" not in response.content.decode()
    assert response.context["draw_texts"]["problemPoint"] == pytest.approx([113.585, 37.865])


def test_too_few_points_in_a_ring_is_translated(world: World) -> None:
    same = [LON0, LAT0]
    response = draw(
        world.bureau, {"type": "Polygon", "coordinates": [[same, same, same, same]]}, kind="area"
    )
    error = geometry_error(response)
    assert "有效点太少" in error
    assert "Too few points" not in response.content.decode()


def test_bad_json_names_line_and_column_in_chinese(world: World) -> None:
    error = geometry_error(draw(world.bureau, '{"type": "LineString" "coordinates": []}'))
    # the second key starts at column 23 of line 1, after '{"type": "LineString" '
    assert error == "不是有效的 JSON：请检查第 1 行第 23 列（可能缺少逗号、括号或引号）。"


def test_a_refusal_without_a_point_marks_nothing(world: World) -> None:
    response = draw(world.bureau, {"type": "LineString", "coordinates": [[LON0, LAT0]]})
    assert response.context["draw_texts"]["problemPoint"] is None
