"""One language at a time: each role walks every page its navigation offers, and the first
detail page of each list, in Chinese (the default), and no English word may show outside a
short list of names and units that are written the same in Chinese text.

What is read is what a person reads: the text of the HTML, not <script>/<style>, not
attributes, and not code or identifiers (`code`, `pre`, `kbd`, `samp`, `.mono`, `.hash`).
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Callable
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client

from operators.models import Operator, User, Vehicle
from payments.models import WorkCalendarDay, WorkCalendarYear
from routes.models import RoadSegment
from subsidies import computation
from subsidies.models import GradingPolicy, SubsidyPolicy
from tests.conftest import World
from tests.subsidies import factories as sf
from tests.subsidies.issued_trips import approved_road
from tests.trips.csvtrace import straight_east
from trips import services as trips_services

pytestmark = pytest.mark.django_db

# Names and units written in Latin letters in Chinese text too; compared case-sensitively.
ALLOWED = frozenset(
    {
        "VIN", "GPX", "CSV", "API", "PDF", "XLSX", "JSON", "GeoJSON", "NMEA", "Parquet",
        "km", "SHA", "WGS", "GCJ", "CGCS", "UTC", "UTF", "ISO", "GB", "JT", "MQTT", "ID",
        "KB", "MB", "EPSG", "Excel", "Django",
        "English",  # the language switch names each language in its own language
    }
)  # fmt: skip
# Text in these elements is code or an identifier, not words.
CODE_TAGS = frozenset({"script", "style", "code", "pre", "kbd", "samp", "svg", "template"})
CODE_CLASSES = frozenset({"mono", "hash"})
VOID = frozenset({"br", "img", "input", "meta", "link", "hr", "source", "wbr", "col", "area"})
# A run of Latin letters standing alone: not part of an identifier with digits or
# underscores (plates, VINs, user names, file names' stems are data, not words).
# Single letters are grades (A-D) and units (m); a word has two letters or more.
WORD = re.compile(r"(?<![\w.@/-])[A-Za-z][A-Za-z'’]+(?![\w@/-]|\.\w)", re.ASCII)
_seed = importlib.import_module("subsidies.migrations.0002_seed_policy").seed


class _Text(HTMLParser):
    """The text a person reads, and the links of the page (href, inside a table body?)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, hidden from the word check)
        self.chunks: list[str] = []
        self.nav: list[str] = []
        self.table_links: list[str] = []
        self.in_nav = 0
        self.in_tbody = 0
        self.language = ""  # the page's, from <html lang>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = set((found.get("class") or "").split())
        hidden = bool(self.stack and self.stack[-1][1]) or tag in CODE_TAGS
        hidden = hidden or bool(classes & CODE_CLASSES)
        lang = (found.get("lang") or "").lower()
        if tag == "html":
            self.language = lang
        elif lang and lang != self.language:
            # Marked as another language on purpose (the language switch's names, an
            # amount in Chinese capitals): not the page's language to check.
            hidden = True
        if tag == "a" and found.get("href"):
            href = str(found["href"])
            if self.in_nav:
                self.nav.append(href)
            elif self.in_tbody:
                self.table_links.append(href)
        if tag in VOID:
            return
        if tag == "nav" and "main-nav" in classes:
            self.in_nav += 1
        if tag == "tbody":
            self.in_tbody += 1
        self.stack.append((tag, hidden))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        while self.stack:
            open_tag, _hidden = self.stack.pop()
            if open_tag == "nav" and self.in_nav:
                self.in_nav -= 1
            if open_tag == "tbody" and self.in_tbody:
                self.in_tbody -= 1
            if open_tag == tag:
                break
        self.chunks.append(" ")

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1][1]):
            self.chunks.append(data)


def read(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    return parser


def english(text: str) -> list[str]:
    return sorted({w for w in WORD.findall(text) if w not in ALLOWED})


@pytest.fixture
def walked(world: World) -> World:
    """Something in every list: a road, trips (one accepted, one flagged), a grade and a
    computed statement."""
    _seed(apps, None)
    approved_road(world)
    t0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
    for lon0, metres in ((113.55, 1000), (113.556, 500)):
        trip, _ = trips_services.trip_upload(
            actor=world.staff_a,
            vin=world.vehicle_a.vin,
            data=straight_east(start=t0, lon0=lon0, metres=metres),
            original_name="trip.csv",
        )
        trips_services.trip_process(trip_id=trip.pk)
    sf.trip(vehicle=world.vehicle_a, days={dt.date(2025, 3, 10): "400000"})
    sf.grade(actor=world.bureau, operator=world.company_a, year=2025, grade="A")
    computation.statements_compute(year=2025, actor=world.finance)
    return world


def walk(user: User, *, check: Callable[[str], list[str]] = english) -> dict[str, list[str]]:
    """Every navigation page and the first detail page of each list: what `check` finds in
    each page's text (English words by default)."""
    client = Client()
    client.force_login(user)
    if check is not english:  # the English walk
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # what the header's switch sets
    found: dict[str, list[str]] = {}
    seen: set[str] = set()

    def visit(path: str) -> _Text | None:
        if path in seen:
            return None
        seen.add(path)
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        if "text/html" not in response["Content-Type"]:
            return None
        page = read(response.content.decode())
        words = check("".join(page.chunks))
        if words:
            found[path] = words
        return page

    home = visit("/")
    assert home is not None
    for href in home.nav:
        page = visit(href)
        if page is None:
            continue
        base = urlsplit(href).path
        if base.startswith("/admin/"):
            # Django's admin: its user form lists Django's permission names ("Can add
            # trip"), database rows Django writes in English; the list page is walked.
            continue
        details = [
            urlsplit(link).path
            for link in page.table_links
            if urlsplit(link).path.startswith(base) and urlsplit(link).path != base
        ]
        if details:
            visit(details[0])
    assert len(seen) > 3
    return found


@pytest.mark.parametrize("role", ["staff_a", "bureau", "finance", "admin"])
def test_every_page_of_each_role_is_in_chinese(walked: World, role: str) -> None:
    found = walk(getattr(walked, role))
    assert not found, "\n".join(f"{path}: {' '.join(words)}" for path, words in found.items())


def test_the_walk_would_see_english_in_text_but_not_in_code() -> None:
    page = read(
        '<p>已驳回 Rejected <span class="mono">max_gap_s</span> <code>raw</code> 1 areas</p>'
        "<script>var x = 'hidden';</script><p>VIN LFV2A2BS7N0000013 晋CD00014 trip.csv 12 km</p>"
    )
    assert english("".join(page.chunks)) == ["Rejected", "areas"]


# Chinese characters, CJK punctuation and full-width forms.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")
# Chinese in English text too: the map service's name, the official terms English labels
# give in brackets after their own words ("approval reference (批文号)", "A — excellent
# (优秀)"), and examples of what to type where the input is Chinese (the working-day
# calendar's notice and holiday names). The data's names are Chinese in any language
# (`data_names`).
CHINESE_TERMS = (
    "天地图", "批文号", "不合格", "合格", "优秀", "良好",
    "国办发明电〔2026〕7号", "春节调休", "春节",
)  # fmt: skip
# A raw identifier standing alone in the text: a status code, a field or reason name.
IDENTIFIER = re.compile(r"(?<![\w.@/-])[a-z]+(?:_[a-z0-9]+)+(?![\w@/-]|\.\w)")


def data_names() -> list[str]:
    """What people entered in Chinese, shown as entered in every language: names of
    companies, roads, policies and holidays, approval references and notices, plates,
    people. Longest first, so a name is removed before a shorter one inside it."""
    names: set[str] = set(Operator.objects.values_list("name", flat=True))
    names |= set(Vehicle.objects.values_list("plate", flat=True))
    for segment_name, ref in RoadSegment.objects.values_list("name", "approval_ref"):
        names |= {segment_name, ref}
    names |= set(SubsidyPolicy.objects.values_list("name", flat=True))
    names |= set(GradingPolicy.objects.values_list("name", flat=True))
    names |= set(WorkCalendarYear.objects.values_list("source", flat=True))
    names |= set(WorkCalendarDay.objects.values_list("name", flat=True))
    for first, last in User.objects.values_list("first_name", "last_name"):
        names |= {first, last, f"{last}{first}", f"{first} {last}"}
    return sorted((n for n in names if n), key=len, reverse=True)


def chinese(text: str, names: tuple[str, ...] = ()) -> list[str]:
    """Chinese outside names and terms, and raw identifiers, in an English page's text."""
    for name in (*names, *CHINESE_TERMS):
        text = text.replace(name, " ")
    return sorted(set(CJK.findall(text)) | set(IDENTIFIER.findall(text)))


@pytest.mark.parametrize("role", ["staff_a", "bureau", "finance", "admin"])
def test_every_page_of_each_role_is_in_english_once_chosen(walked: World, role: str) -> None:
    names = tuple(data_names())
    found = walk(getattr(walked, role), check=lambda text: chinese(text, names))
    assert not found, "\n".join(f"{path}: {' '.join(words)}" for path, words in found.items())


def test_the_english_walk_would_see_chinese_and_raw_codes_but_not_names() -> None:
    page = read(
        '<html lang="en"><p>Rejected 已驳回 mode_missing 甲公司 晋CD00014 <code>max_gap_s</code>'
        ' trip.csv 1,200.00 元 <span lang="zh-hans">壹仟贰佰元整</span> 元</p></html>'
    )
    assert chinese("".join(page.chunks), ("甲公司", "晋CD00014")) == [
        "mode_missing",
        "元",
        "已驳回",
    ]
