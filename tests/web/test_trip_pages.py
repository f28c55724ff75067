"""The trip pages without a browser: scoping, role gates, forms, reasons in Chinese."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from core.roles import Role
from operators.models import User
from routes import services as routes_services
from tests import factories
from tests.conftest import World
from tests.trips.csvtrace import straight_east
from trips import services
from trips.models import Trip
from trips.reason_codes import TripReason
from trips.reasons import REASON_TEXT, describe

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "trips" / "locale" / "zh_Hans" / "LC_MESSAGES"
T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 in Yangquan
# A road due east along 37.86°N from 113.54°E to 113.60°E, 15 m corridor.
ROAD = {"type": "LineString", "coordinates": [[113.54, 37.86], [113.60, 37.86]]}


def browser_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def approve_road(world: World) -> None:
    road = routes_services.segment_create(
        actor=world.bureau,
        name="测试大道",
        kind="road",
        geometry=ROAD,
        corridor_half_width_m=Decimal(15),
    )
    road = routes_services.segment_submit(actor=world.bureau, segment=road)
    routes_services.segment_approve(
        actor=world.bureau,
        segment=road,
        valid_from=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
        approval_ref="阳交〔2023〕1号",
    )


def processed_trip(staff: User, vin: str, data: bytes) -> Trip:
    """Upload and verify in-process (the `db` fixture drops on-commit callbacks)."""
    trip, _ = services.trip_upload(actor=staff, vin=vin, data=data, original_name="trip.csv")
    return services.trip_process(trip_id=trip.pk)


def flagged_trip(world: World) -> Trip:
    """A second log over the same minutes as an accepted one: needs review (overlap)."""
    processed_trip(world.staff_a, world.vehicle_a.vin, straight_east(start=T0, metres=1000))
    trip = processed_trip(
        world.staff_a, world.vehicle_a.vin, straight_east(start=T0, lon0=113.56, metres=500)
    )
    assert trip.status == Trip.Status.NEEDS_REVIEW
    return trip


# ---- scoping ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["{pk}/", "review/{pk}/", "{pk}/reverify/"])
def test_company_staff_get_404_for_every_page_of_another_companys_trip(
    world: World, path: str
) -> None:
    other = processed_trip(world.staff_b, world.vehicle_b.vin, straight_east(start=T0))
    response = browser_for(world.staff_a).get("/trips/" + path.format(pk=other.pk))
    assert response.status_code == 404
    assert world.vehicle_b.plate not in response.content.decode()


def test_company_staff_cannot_download_another_companys_raw_file(world: World) -> None:
    other = processed_trip(world.staff_b, world.vehicle_b.vin, straight_east(start=T0))
    assert browser_for(world.staff_a).get(f"/api/v1/trips/{other.pk}/raw/").status_code == 404


def test_company_staff_see_only_their_own_trips_in_the_list(world: World) -> None:
    mine = processed_trip(world.staff_a, world.vehicle_a.vin, straight_east(start=T0))
    processed_trip(world.staff_b, world.vehicle_b.vin, straight_east(start=T0))
    page = browser_for(world.staff_a).get("/trips/").content.decode()
    assert f"/trips/{mine.pk}/" in page
    assert world.vehicle_a.plate in page
    assert world.vehicle_b.plate not in page
    assert 'name="operator"' not in page  # no company filter for company staff


def test_government_staff_filter_every_companys_trips_by_company(world: World) -> None:
    trip_a = processed_trip(world.staff_a, world.vehicle_a.vin, straight_east(start=T0))
    trip_b = processed_trip(world.staff_b, world.vehicle_b.vin, straight_east(start=T0))
    client = browser_for(world.finance)
    both = client.get("/trips/").content.decode()
    assert f"/trips/{trip_a.pk}/" in both
    assert f"/trips/{trip_b.pk}/" in both
    only_b = client.get("/trips/", {"operator": world.company_b.pk}).content.decode()
    assert f"/trips/{trip_a.pk}/" not in only_b
    assert f"/trips/{trip_b.pk}/" in only_b


def test_the_list_filters_by_status_and_local_start_day(world: World) -> None:
    # 23:30 UTC on 1 March is 07:30 on 2 March in Yangquan.
    late = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)
    trip = processed_trip(world.staff_a, world.vehicle_a.vin, straight_east(start=late))
    client = browser_for(world.staff_a)
    on_day = client.get("/trips/", {"started_from": "2026-03-02", "started_to": "2026-03-02"})
    assert f"/trips/{trip.pk}/" in on_day.content.decode()
    before = client.get("/trips/", {"started_to": "2026-03-01"})
    assert f"/trips/{trip.pk}/" not in before.content.decode()
    rejected = client.get("/trips/", {"status": "rejected"})
    assert "没有符合条件的行程" in rejected.content.decode()


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.FINANCE])
def test_only_the_bureau_opens_the_review_queue(world: World, role: str) -> None:
    user = world.staff_a if role == Role.OPERATOR else world.finance
    assert browser_for(user).get("/trips/review/").status_code == 403


def test_company_staff_may_not_review_their_own_flagged_trip(world: World) -> None:
    trip = flagged_trip(world)
    client = browser_for(world.staff_a)
    assert client.get(f"/trips/review/{trip.pk}/").status_code == 403
    response = client.post(f"/trips/review/{trip.pk}/", {"decision": "accept", "reason": "x"})
    assert response.status_code == 403
    assert Trip.objects.get(pk=trip.pk).status == Trip.Status.NEEDS_REVIEW


# ---- the detail page -------------------------------------------------------------------


def test_trip_detail_shows_figures_segment_day_and_map_in_chinese(world: World) -> None:
    approve_road(world)
    trip = processed_trip(world.staff_a, world.vehicle_a.vin, straight_east(start=T0))
    page = browser_for(world.staff_a).get(f"/trips/{trip.pk}/").content.decode()
    assert "已采纳" in page  # accepted
    # 1,000 m due east inside the corridor: total = autonomous = eligible = 1.000 km.
    assert page.count("1.000 公里") >= 3
    assert "测试大道" in page
    assert "阳交〔2023〕1号" in page
    assert "2026-03-02" in page
    assert "2026-03-02 09:00:00" in page  # Beijing time
    assert f'data-trace-url="/api/v1/trips/{trip.pk}/trace/"' in page
    assert f"/api/v1/trips/{trip.pk}/raw/" in page
    assert trip.raw_sha256 in page
    assert "已批准路段和区域以外" in page  # the legend's words
    assert "审计记录" not in page  # the audit trail is the bureau's
    bureau_page = browser_for(world.bureau).get(f"/trips/{trip.pk}/").content.decode()
    assert "审计记录" in bureau_page


def test_trip_detail_gives_the_reasons_in_chinese_with_their_figures(world: World) -> None:
    approve_road(world)
    # 1 km due east, 1 km north of the road: every autonomous metre is outside the zones.
    data = straight_east(start=T0, lat=37.87, metres=1000)
    trip = processed_trip(world.staff_a, world.vehicle_a.vin, data)
    page = browser_for(world.staff_a).get(f"/trips/{trip.pk}/").content.decode()
    assert "在当时已批准的路段和区域以外行驶。" in page
    assert "1.000 公里" in page


def test_trip_detail_in_english_once_picked(world: World) -> None:
    trip = processed_trip(world.staff_a, world.vehicle_a.vin, straight_east(start=T0))
    client = browser_for(world.staff_a)
    client.cookies["django_language"] = "en"
    page = client.get(f"/trips/{trip.pk}/").content.decode()
    assert "Eligible" in page
    assert "Approved segments driven" in page


def test_an_unknown_reason_code_shows_the_stored_message() -> None:
    [shown] = describe([{"code": "new_rule", "message": "Something new.", "count": 2}])
    assert (shown.text, shown.count, shown.severity) == ("Something new.", 2, "info")


def test_every_reason_code_the_verifier_writes_has_words() -> None:
    # The codes are TripReason's members (trips/reason_codes.py), never spelled as strings.
    assert set(TripReason) - set(REASON_TEXT) == set()


# ---- upload ----------------------------------------------------------------------------


def test_upload_page_offers_only_the_companys_approved_vehicles(world: World) -> None:
    proposed = factories.vehicle(actor=world.bureau, operator=world.company_a, permit=None)
    page = browser_for(world.staff_a).get("/trips/upload/").content.decode()
    assert world.vehicle_a.vin in page
    assert proposed.vin not in page
    assert world.vehicle_b.vin not in page
    assert 'data-api-url="/api/v1/trips/"' in page
    assert "行程日志文件" in page


def test_upload_without_javascript_makes_one_trip_per_file(world: World) -> None:
    files = [
        io.BytesIO(straight_east(start=T0)),
        io.BytesIO(straight_east(start=T0 + dt.timedelta(hours=2))),
    ]
    for i, f in enumerate(files):
        f.name = f"trip-{i}.csv"
    response = browser_for(world.staff_a).post(
        "/trips/upload/",
        {"vehicle": world.vehicle_a.vin, "logs": files, "crs": "wgs84"},
    )
    assert response.status_code == 302
    assert sorted(Trip.objects.values_list("original_name", flat=True)) == [
        "trip-0.csv",
        "trip-1.csv",
    ]


@pytest.mark.parametrize(
    ("count", "says"),
    [
        (1, "1 file uploaded; its verification result appears in the list."),
        (2, "2 files uploaded; verification results appear in the list."),
    ],
)
def test_the_upload_message_counts_files_with_english_plurals(
    world: World, count: int, says: str
) -> None:
    files = []
    for i in range(count):
        files.append(io.BytesIO(straight_east(start=T0 + dt.timedelta(hours=2 * i))))
        files[-1].name = f"trip-{i}.csv"
    client = browser_for(world.staff_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(
        "/trips/upload/",
        {"vehicle": world.vehicle_a.vin, "logs": files, "crs": "wgs84"},
        follow=True,
    )
    assert says in response.content.decode()


def test_upload_errors_are_next_to_the_fields_in_chinese(world: World) -> None:
    response = browser_for(world.staff_a).post(
        "/trips/upload/", {"vehicle": world.vehicle_b.vin, "crs": "wgs84"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "选择一个有效的选项" in page  # another company's vehicle is not a choice
    assert "该字段是必填项。" in page  # no file
    assert not Trip.objects.exists()


def test_bureau_staff_have_no_upload_page(world: World) -> None:
    assert browser_for(world.bureau).get("/trips/upload/").status_code == 403


# ---- review ----------------------------------------------------------------------------


def test_review_queue_lists_a_flagged_trip_with_its_reason_in_chinese(world: World) -> None:
    trip = flagged_trip(world)
    page = browser_for(world.bureau).get("/trips/review/").content.decode()
    assert f"/trips/review/{trip.pk}/" in page
    assert "该行程与同一车辆已采纳的行程在时间上重叠。" in page


def test_review_needs_a_reason_then_rejects_the_trip(world: World) -> None:
    trip = flagged_trip(world)
    client = browser_for(world.bureau)
    refused = client.post(f"/trips/review/{trip.pk}/", {"decision": "reject", "reason": ""})
    assert "该字段是必填项。" in refused.content.decode()
    assert Trip.objects.get(pk=trip.pk).status == Trip.Status.NEEDS_REVIEW
    done = client.post(
        f"/trips/review/{trip.pk}/", {"decision": "reject", "reason": "与已通过行程重复"}
    )
    assert done.status_code == 302
    reviewed = Trip.objects.get(pk=trip.pk)
    assert (reviewed.status, reviewed.review_reason) == (Trip.Status.REJECTED, "与已通过行程重复")


def test_a_rejected_trip_shows_no_eligible_figure(world: World) -> None:
    approve_road(world)
    trip = flagged_trip(world)
    assert trip.eligible_m > 0
    services.trip_review(actor=world.bureau, trip=trip, accept=False, reason="重复")
    client = browser_for(world.staff_a)
    page = client.get(f"/trips/{trip.pk}/").content.decode()
    eligible = re.search(r'<dd[^>]*id="trip-eligible">(.*?)</dd>', page, re.S)
    assert eligible is not None
    assert "公里" not in eligible.group(1)
    assert "已驳回：不计入补贴" in eligible.group(1)
    listed = client.get("/trips/?status=rejected").content.decode()
    row = re.search(rf'href="/trips/{trip.pk}/".*?</tr>', listed, re.S)
    assert row is not None
    # Total and autonomous 0.500 km; eligible a dash, not its 500 m.
    assert re.findall(r'<td class="num">([^<]*)</td>', row.group(0))[:3] == ["0.500", "0.500", "—"]


def test_a_rejected_trips_segment_and_day_tables_show_no_eligible_figure(world: World) -> None:
    approve_road(world)
    trip = flagged_trip(world)
    assert trip.eligible_m > 0  # 500 m on the approved road
    services.trip_review(actor=world.bureau, trip=trip, accept=False, reason="重复")
    page = browser_for(world.staff_a).get(f"/trips/{trip.pk}/").content.decode()

    def cells(section: str) -> list[str]:
        panel = page.split(f'aria-labelledby="{section}"', 1)[1].split("</section>", 1)[0]
        return re.findall(r'<td class="num">([^<]*)</td>', panel)

    # Approved segments driven: eligible a dash, and no "… is what is paid" under it.
    assert cells("trip-segments") == ["—"]
    assert "已驳回：不计入补贴" in page.split('id="segments-counts-nothing">', 1)[1][:40]
    assert 'id="segments-union-note"' not in page
    # Kilometres per day: autonomous 0.500 stays (what was driven), eligible a dash.
    assert cells("trip-days") == ["0.500", "—"]
    # The map's legend too: its eligible colour names no figure.
    legend = re.search(r'<tr class="legend-eligible">.*?<td class="num">([^<]*)</td>', page, re.S)
    assert legend is not None
    assert legend.group(1) == "—"


def test_per_segment_km_are_explained_against_the_eligible_total(world: World) -> None:
    approve_road(world)
    # A second road over the first one's middle: 1 km driven on both counts on each row.
    overlap = routes_services.segment_create(
        actor=world.bureau,
        name="重叠路",
        kind="road",
        geometry={"type": "LineString", "coordinates": [[113.54, 37.86], [113.58, 37.86]]},
        corridor_half_width_m=Decimal(15),
    )
    routes_services.segment_approve(
        actor=world.bureau,
        segment=routes_services.segment_submit(actor=world.bureau, segment=overlap),
        valid_from=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
        approval_ref="阳交〔2023〕2号",
    )
    trip = processed_trip(world.staff_a, world.vehicle_a.vin, straight_east(start=T0))
    page = browser_for(world.staff_a).get(f"/trips/{trip.pk}/").content.decode()
    note = re.search(r'id="segments-union-note">(.*?)</p>', page, re.S)
    assert note is not None
    assert "各行合计 2.000 公里" in note.group(1)
    assert "合规里程 1.000 公里" in note.group(1)


def test_reviewing_a_trip_that_needs_no_review_is_refused_on_the_form(world: World) -> None:
    trip = processed_trip(world.staff_a, world.vehicle_a.vin, straight_east(start=T0))
    response = browser_for(world.bureau).post(
        f"/trips/review/{trip.pk}/", {"decision": "accept", "reason": "ok"}
    )
    assert response.status_code == 200
    assert 'class="errorlist nonfield"' in response.content.decode()


def test_bureau_reverifies_a_trip_with_a_reason(world: World) -> None:
    trip = processed_trip(world.staff_a, world.vehicle_a.vin, straight_east(start=T0))
    response = browser_for(world.bureau).post(
        f"/trips/{trip.pk}/reverify/", {"reason": "批复更正后重新核验"}
    )
    assert response.status_code == 302
    assert Trip.objects.get(pk=trip.pk).status == Trip.Status.PROCESSING


# ---- dashboard -------------------------------------------------------------------------


def test_dashboard_shows_own_eligible_km_to_a_company_and_by_company_to_the_bureau(
    world: World, settings: object
) -> None:
    approve_road(world)
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)
    processed_trip(world.staff_a, world.vehicle_a.vin, straight_east(start=start))
    flagged = processed_trip(
        world.staff_a, world.vehicle_a.vin, straight_east(start=start, lon0=113.56, metres=500)
    )
    assert flagged.status == Trip.Status.NEEDS_REVIEW
    company = browser_for(world.staff_a).get("/").content.decode()
    assert "本企业本年度合规里程" in company
    assert "1.000" in company
    bureau = browser_for(world.bureau).get("/").content.decode()
    assert "甲公司" in bureau
    assert "/trips/review/" in bureau
    assert re.search(r'id="card-review-queue".*?<p class="figure">1</p>', bureau, re.S)


# ---- the catalogue ---------------------------------------------------------------------


def gettext_tool(*args: str) -> str:
    return subprocess.run(  # noqa: S603 - our own arguments, no user input
        list(args), capture_output=True, text=True, check=True
    ).stdout


def test_the_trips_catalogue_is_complete_and_compiled(tmp_path: Path) -> None:
    source = str(CATALOGUE / "django.po")
    assert gettext_tool("msgattrib", "--untranslated", "--no-obsolete", source) == ""
    compiled = tmp_path / "django.mo"
    gettext_tool("msgfmt", "--check-format", "-o", str(compiled), source)
    assert compiled.read_bytes() == (CATALOGUE / "django.mo").read_bytes()
