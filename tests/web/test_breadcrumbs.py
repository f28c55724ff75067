"""Breadcrumbs that remember the way in: a trip opened from a statement or the review queue
leads back there (?from=, checked against what the reader may see, never a URL)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client

from operators.models import User
from subsidies.models import Statement
from tests.conftest import World
from tests.web.test_language_walk import walked  # noqa: F401 - the fixture
from trips.models import Trip

pytestmark = pytest.mark.django_db

CRUMBS = re.compile(r'<nav class="breadcrumbs"[^>]*>(.*?)</nav>', re.S)
ITEM = re.compile(r"<li>(?:<a href=\"([^\"]*)\">|<span[^>]*>)(.*?)</(?:a|span)></li>", re.S)


def crumbs(user: User, path: str) -> list[tuple[str, str]]:
    """The breadcrumbs of the page: (label, link; "" for the current page)."""
    client = Client()
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    found = CRUMBS.search(response.content.decode())
    assert found is not None
    return [(unescape(label), unescape(href or "")) for href, label in ITEM.findall(found[1])]


def statement_of(world: World) -> Statement:
    return Statement.objects.get(operator=world.company_a, year=2025)


def test_a_trip_opened_from_a_statement_leads_back_to_it(walked: World) -> None:  # noqa: F811
    statement, trip = statement_of(walked), Trip.objects.filter(operator=walked.company_a).first()
    assert trip is not None
    shown = crumbs(walked.finance, f"/trips/{trip.pk}/?from=statement:{statement.pk}")
    assert shown == [
        ("首页", "/"),
        ("补贴结算单", "/statements/"),
        (f"甲公司 · 2025 年度 · {statement.get_kind_display()}", f"/statements/{statement.pk}/"),
        (f"行程 #{trip.pk}", ""),
    ]


def test_the_trip_list_from_a_statement_leads_back_and_passes_it_on(walked: World) -> None:  # noqa: F811
    statement = statement_of(walked)
    client = Client()
    client.force_login(walked.finance)
    path = f"/trips/?operator={walked.company_a.pk}&from=statement:{statement.pk}"
    shown = crumbs(walked.finance, path)
    assert [label for label, _href in shown] == [
        "首页",
        "补贴结算单",
        f"甲公司 · 2025 年度 · {statement.get_kind_display()}",
        "行程",
    ]
    page = client.get(path).content.decode()
    rows = re.findall(r'href="(/trips/\d+/[^"]*)"', page)
    assert rows
    assert all(row.endswith(f"?from=statement%3A{statement.pk}") for row in rows), rows


def test_the_statement_pages_links_to_trips_carry_the_way_back(walked: World) -> None:  # noqa: F811
    # The month and vehicle rows lead to the trip list, the drill-down's rows to a trip;
    # following any of them keeps the statement in the breadcrumbs.
    statement = statement_of(walked)
    client = Client()
    client.force_login(walked.finance)
    page = unescape(client.get(f"/statements/{statement.pk}/").content.decode())
    # the page's own links to trips (not the navigation's /trips/)
    links = re.findall(r'href="(/trips/(?:\d+/)?\?[^"]*)"', page)
    assert any("operator=" in link for link in links), links
    assert any(re.match(r"/trips/\d+/", link) for link in links), links
    for link in links:
        assert f"from=statement:{statement.pk}" in link.replace("%3A", ":"), link
        shown = crumbs(walked.finance, link)
        assert shown[2] == (
            f"甲公司 · 2025 年度 · {statement.get_kind_display()}",
            f"/statements/{statement.pk}/",
        ), link


@pytest.mark.parametrize(
    "origin",
    [
        "statement:999999",  # no such statement
        "statement:abc",
        "statement:",  # an empty id ("statement" alone is the statement list's charts)
        "https://evil.example/",
        "//evil.example",
        "unknown:1",
        "statement:1:2",
    ],
)
def test_a_wrong_origin_gives_the_trips_own_crumbs(walked: World, origin: str) -> None:  # noqa: F811
    trip = Trip.objects.filter(operator=walked.company_a).first()
    assert trip is not None
    shown = crumbs(walked.finance, f"/trips/{trip.pk}/?from={origin}")
    assert shown == [("首页", "/"), ("行程", "/trips/"), (f"行程 #{trip.pk}", "")]


def test_a_statement_the_reader_may_not_see_is_not_named(walked: World) -> None:  # noqa: F811
    # The company sees its issued statements only; this one is a draft.
    statement = statement_of(walked)
    assert statement.status == Statement.Status.DRAFT
    trip = Trip.objects.filter(operator=walked.company_a).first()
    assert trip is not None
    shown = crumbs(walked.staff_a, f"/trips/{trip.pk}/?from=statement:{statement.pk}")
    assert shown == [("首页", "/"), ("本企业行程", "/trips/"), (f"行程 #{trip.pk}", "")]


def test_a_trip_opened_from_the_review_queue_leads_back_to_it(walked: World) -> None:  # noqa: F811
    client = Client()
    client.force_login(walked.bureau)
    queue = client.get("/trips/review/").content.decode()
    flagged = Trip.objects.get(status=Trip.Status.NEEDS_REVIEW)
    assert f'href="/trips/{flagged.pk}/?from=review"' in queue
    shown = crumbs(walked.bureau, f"/trips/{flagged.pk}/?from=review")
    assert shown == [("首页", "/"), ("审核队列", "/trips/review/"), (f"行程 #{flagged.pk}", "")]
    # the review page's crumb to the trip keeps the way back too
    review = crumbs(walked.bureau, f"/trips/review/{flagged.pk}/")
    assert review[2] == (f"行程 #{flagged.pk}", f"/trips/{flagged.pk}/?from=review")
    # the company's staff may not review: their trip's own crumbs
    mine = crumbs(walked.staff_a, f"/trips/{flagged.pk}/?from=review")
    assert mine[1] == ("本企业行程", "/trips/")


def test_company_staff_reach_their_company_from_home_not_from_a_list_they_cannot_open(
    world: World,
) -> None:
    company = world.company_a
    assert crumbs(world.staff_a, f"/companies/{company.pk}/") == [
        ("首页", "/"),
        (company.name, ""),
    ]
    assert crumbs(world.staff_a, f"/companies/{company.pk}/bank/") == [
        ("首页", "/"),
        (company.name, f"/companies/{company.pk}/"),
        ("变更银行账户", ""),
    ]
    # The bureau's way in is still the list of companies.
    assert crumbs(world.bureau, f"/companies/{company.pk}/")[1] == ("企业", "/companies/")
