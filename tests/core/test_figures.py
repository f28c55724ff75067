"""Kilometres on the pages: 3 decimals, rounded half up, grouped by thousands in every
language (core/templatetags/core_ui.km3, trips' `km` filter), as statements show them."""

from __future__ import annotations

from decimal import Decimal

from django.template import Context, Template
from django.utils import translation

from core.templatetags.core_ui import km3
from routes.templatetags.segments import km as segment_km
from routes.templatetags.segments import km2 as segment_km2
from trips.templatetags.trips_ui import km


def test_km3_groups_thousands_in_chinese_and_english() -> None:
    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert km3(Decimal("12345.6785")) == "12,345.679"  # half up: …678|5 → 679
            assert km3(235.948) == "235.948"
            assert km3(None) == "—"


def test_trip_metres_read_as_grouped_kilometres() -> None:
    assert km(Decimal("1234567.8")) == "1,234.568"
    assert km(Decimal("7389.31")) == "7.389"
    assert km(Decimal("500.5")) == "0.501"  # half up, as statements round
    assert km(None) == "—"


def test_km3_in_a_template_groups_where_floatformat_does_not() -> None:
    # Django's floatformat, with or without "g", groups nothing in Chinese.
    with translation.override("zh-hans"):
        assert Template('{{ v|floatformat:"3g" }}').render(Context({"v": 12345.6})) == "12345.600"
        assert Template("{% load core_ui %}{{ v|km3 }}").render(Context({"v": 12345.6})) == (
            "12,345.600"
        )


def test_segment_lengths_and_areas_are_grouped_too() -> None:
    with translation.override("zh-hans"):
        assert segment_km(1_234_567.4) == "1,234.567"
        assert segment_km2(2_500_000_000.0) == "2,500.000"
        assert segment_km(None) == ""
