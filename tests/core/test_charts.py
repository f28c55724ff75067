"""Server-drawn SVG charts (core/charts.py): accessible, escaped, proportional."""

from __future__ import annotations

import re

from core.charts import Point, bar_chart


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
