"""Proper plurals in English ("1 area", "2 areas"), one form in Chinese."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.utils import translation


def card(*, roads: int, areas: int, language: str) -> str:
    summary = SimpleNamespace(open_roads=roads, open_areas=areas)
    context = {
        "segment_summary": summary,
        "two_way_km": 1.5,
        "two_way_target_km": 200.0,
        "two_way_percent": 0.75,
        "open_road_km": 0.75,
        "segments_submitted": 1,
        "is_company": False,
        "today": dt.date(2026, 12, 7),
    }
    with translation.override(language):
        return " ".join(render_to_string("routes/_dashboard_cards.html", context).split())


@pytest.mark.parametrize(
    ("roads", "areas", "says"),
    [(1, 1, "1 road open. 1 area open."), (2, 3, "2 roads open. 3 areas open.")],
)
def test_the_two_way_card_counts_roads_and_areas_with_english_plurals(
    roads: int, areas: int, says: str
) -> None:
    assert says in card(roads=roads, areas=areas, language="en")


def test_the_two_way_card_counts_in_chinese_with_one_form() -> None:
    assert "开放道路 1 条。 开放区域 2 个。" in card(roads=1, areas=2, language="zh-hans")


def test_kilometres_show_three_decimals() -> None:
    assert "1.500" in card(roads=1, areas=0, language="en")
