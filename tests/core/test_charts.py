"""Server-drawn SVG charts (core/charts.py): accessible, escaped, proportional."""

from __future__ import annotations

import re

from django.utils import translation

from core.charts import Point, Series, bar_chart, lines_chart


def test_a_bar_chart_has_a_title_a_description_and_one_bar_per_point() -> None:
    svg = bar_chart(
        [Point("2025-03", 2.0, url="/trips/?m=3"), Point("2025-04", 1.0)],
        chart_id="km",
        title="km per month",
        description="2025-03: 2.000 km; 2025-04: 1.000 km",
        unit="km",
    )

    assert 'role="img" aria-labelledby="km-t km-d"' in svg
    assert '<title id="km-t">km per month</title>' in svg
    assert svg.count('<rect class="bar"') == 2
    # The longest bar fills the plot (480 − 96 − 96 = 288 units); half the km, half the bar.
    assert re.findall(r'class="bar" x="96" y="[\d.]+" width="([\d.]+)"', svg) == ["288.0", "144.0"]
    assert svg.count("<a href=") == 1  # only the point with a url is a link
    assert "2.000 km" in svg


def test_bar_chart_labels_are_escaped() -> None:
    svg = bar_chart(
        [Point("<script>", 1.0, url='/x?a=1&b="2"')],
        chart_id="c",
        title="t",
        description="d",
        unit="km",
    )
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert 'href="/x?a=1&amp;b=&quot;2&quot;"' in svg


def test_an_empty_bar_chart_is_still_a_titled_image() -> None:
    svg = bar_chart([], chart_id="e", title="nothing", description="no rows", unit="km")
    assert '<title id="e-t">nothing</title>' in svg
    assert "<rect" not in svg


def test_bar_values_are_grouped_to_the_given_decimals() -> None:
    svg = bar_chart([Point("x", 1200.5)], chart_id="g", title="t", description="d", unit="km")
    assert "1,200.500 km" in svg


def test_line_chart_figures_are_grouped_in_chinese_too() -> None:
    # The tests start in the site's default language, Chinese, whose Django format groups
    # no thousands: the axis and the dots read as the tables beside the chart do.
    assert translation.get_language() == "zh-hans"
    svg = lines_chart(
        ["2026-01", "2026-02"],
        [Series("甲公司", [1234.5678, 20.0])],
        chart_id="l",
        title="t",
        description="d",
        unit="公里",
    )
    assert 'text-anchor="end">1,235</text>' in svg  # the top of the value axis
    assert "<title>甲公司 · 2026-01: 1,234.568 公里</title>" in svg
    assert "1234" not in svg
