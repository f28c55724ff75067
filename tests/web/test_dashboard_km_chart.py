"""The government dashboard's chart: eligible km per company per month, drawn on the server
from one aggregate query, with the same figures in a table."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from core.charts import Series, lines_chart
from operators.models import User
from tests.conftest import World
from tests.subsidies.issued_trips import approved_road
from tests.trips.csvtrace import straight_east
from trips import services
from trips.models import Trip
from yangquan_av.views import km_by_company

pytestmark = pytest.mark.django_db

MARCH = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 in Yangquan
MAY = dt.datetime(2026, 5, 4, 1, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 6, 15)


def browser_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def accepted(staff: User, vin: str, start: dt.datetime, metres: float) -> Trip:
    trip, _ = services.trip_upload(
        actor=staff, vin=vin, data=straight_east(start=start, metres=metres), original_name="t.csv"
    )
    trip = services.trip_process(trip_id=trip.pk)
    assert trip.status == Trip.Status.ACCEPTED
    return trip


@pytest.fixture
def driven(world: World) -> World:
    """A road along the trips' parallel; 甲 drives 1 km in March and 2 km in May, 乙 0.5 km
    in May (the drives' lengths are exact to well under a millimetre: tests/trips/csvtrace)."""
    approved_road(world)
    accepted(world.staff_a, world.vehicle_a.vin, MARCH, 1000)
    accepted(world.staff_a, world.vehicle_a.vin, MAY, 2000)
    accepted(world.staff_b, world.vehicle_b.vin, MAY, 500)
    return world


def test_km_per_company_per_month_from_one_aggregate_query(
    driven: World, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_num_queries(2):  # the companies, then the sums
        km = km_by_company(user=driven.bureau, today=TODAY)

    # 24 months, from 2024-07 to 2026-06; 甲 first (3 km in all), then 乙 (0.5 km); to the
    # metre (the wander of a drive adds a few centimetres to its eligible length).
    assert [name for name, _c, _v, _t in km.lines] == ["甲公司", "乙公司"]
    a_values, b_values = km.lines[0][2], km.lines[1][2]
    assert len(a_values) == 24
    assert a_values[-4] == pytest.approx(1.0, abs=1e-3)  # 2026-03
    assert a_values[-2] == pytest.approx(2.0, abs=1e-3)  # 2026-05
    assert b_values[-2] == pytest.approx(0.5, abs=1e-3)
    assert km.total == pytest.approx(3.5, abs=1e-3)  # 1 + 2 + 0.5
    # The table: newest month first, May = 2 + 0.5 km.
    assert km.rows[0][0] == "2026-06"
    assert km.rows[1][0] == "2026-05"
    assert km.rows[1][2] == pytest.approx(2.5, abs=1e-3)


def test_the_bureau_sees_the_chart_and_its_figures_in_words(driven: World) -> None:
    page = browser_for(driven.bureau).get("/")

    html = page.content.decode()
    assert '<svg class="chart"' in html
    assert "各企业每月合规里程" in html
    # A dot's title names the company, the month and the figure with 3 decimals.
    assert "<title>甲公司 · 2026-05: 2.000 公里</title>" in html
    # The legend names each line in words, with its total.
    assert "甲公司 · 3.000 公里" in html
    assert "乙公司 · 0.500 公里" in html
    # The table's last row: each company's total and all of them, 1 + 2 + 0.5 = 3.5 km.
    assert (
        '<td class="num">3.000</td><td class="num">0.500</td>\n          <td class="num">3.500</td>'
        in html
    )
    # The sum column and row are a sum (合计), not a trip's total distance (总里程).
    assert '<th scope="col" class="num">合计</th>' in html
    assert '<th scope="row">合计</th>' in html
    assert "总里程" not in html


def test_a_company_sees_no_other_companys_line(driven: World) -> None:
    page = browser_for(driven.staff_a).get("/")

    assert page.status_code == 200
    assert "各企业每月合规里程" not in page.content.decode()


def test_the_chart_escapes_names_and_keeps_its_labels_inside_the_picture() -> None:
    svg = lines_chart(
        ["2026-01", "2026-02", "2026-03"],
        [Series("<b>甲</b>", [1.0, 2.0, 3.0]), Series("乙", [0.5, 0.0, 0.25])],
        chart_id="c",
        title="t",
        description="d",
        unit="km",
    )

    assert "<b>" not in svg
    assert "&lt;b&gt;甲&lt;/b&gt; · 2026-02: 2.000 km" in svg
    assert svg.count('<path class="series"') == 2
    assert 'text-anchor="start">2026-01<' in svg
    assert 'x="478.0" y="192" text-anchor="end">2026-03<' in svg  # width 480 - 2
