"""A company recovers from a wrong upload in the web UI (issue #16): a declared mode for a
trip rejected without one, withdrawal, the reason beside each rejected or held trip, and,
in Chromium, the upload form asking for the mode as soon as a GPX file is chosen."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import World
from tests.trips.csvtrace import straight_east
from tests.web.test_trip_journey import log_in
from tests.web.test_trip_pages import approve_road, browser_for, flagged_trip, processed_trip
from trips.models import Trip

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def mode_missing_trip(world: World) -> Trip:
    data = b"".join(
        line.rsplit(b",", 1)[0] + b"\n" for line in straight_east(start=T0).splitlines()
    )
    trip = processed_trip(world.staff_a, world.vehicle_a.vin, data)
    assert trip.status == Trip.Status.REJECTED
    return trip


@pytest.mark.django_db
def test_the_trip_page_offers_the_company_to_declare_the_mode(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    approve_road(world)
    trip = mode_missing_trip(world)
    client = browser_for(world.staff_a)
    page = client.get(f"/trips/{trip.pk}/").content.decode()
    assert "再次上传同一文件只会返回这个行程" in page
    assert f"/trips/{trip.pk}/declare-mode/" in page
    bureau_page = browser_for(world.bureau).get(f"/trips/{trip.pk}/").content.decode()
    assert "/declare-mode/" not in bureau_page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/trips/{trip.pk}/declare-mode/", {"mode": "auto"})

    assert response.status_code == 302
    trip.refresh_from_db()
    assert (trip.status, trip.declared_mode) == (Trip.Status.ACCEPTED, "auto")


@pytest.mark.django_db
def test_a_form_without_a_mode_names_the_field(world: World) -> None:
    trip = mode_missing_trip(world)
    response = browser_for(world.staff_a).post(
        f"/trips/{trip.pk}/declare-mode/", {"reason": "补报"}
    )
    assert response.status_code == 200
    assert "该字段是必填项" in response.content.decode()


@pytest.mark.django_db
def test_the_company_withdraws_a_trip_from_its_page(world: World) -> None:
    trip = processed_trip(world.staff_a, world.vehicle_a.vin, straight_east(start=T0))
    client = browser_for(world.staff_a)
    assert f"/trips/{trip.pk}/withdraw/" in client.get(f"/trips/{trip.pk}/").content.decode()
    assert client.post(f"/trips/{trip.pk}/withdraw/", {"reason": ""}).status_code == 200

    response = client.post(f"/trips/{trip.pk}/withdraw/", {"reason": "传错了"}, follow=True)

    page = response.content.decode()
    assert "企业已撤回" in page
    assert "/withdraw/" not in page
    assert Trip.objects.get(pk=trip.pk).status == Trip.Status.WITHDRAWN


@pytest.mark.django_db
def test_the_list_shows_file_received_time_and_why_a_trip_was_rejected(world: World) -> None:
    trip = mode_missing_trip(world)
    page = browser_for(world.staff_a).get("/trips/").content.decode()
    row = page[page.index(f"/trips/{trip.pk}/") :]
    row = row[: row.index("</tr>")]
    assert "trip.csv" in row
    assert (
        trip.received_at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
        in row
    )
    assert "文件未记录驾驶模式" in row  # the reason, in Chinese
    assert "尚不清楚" not in row  # a rejected trip without a start shows "—"


@pytest.mark.django_db
def test_an_overlap_names_the_other_trip_in_chinese(world: World) -> None:
    approve_road(world)
    trip = flagged_trip(world)
    other = Trip.objects.exclude(pk=trip.pk).get()
    page = browser_for(world.bureau).get(f"/trips/{trip.pk}/").content.decode()
    reasons = page[page.index('class="reasons"') :]
    assert f'<a href="/trips/{other.pk}/">行程 #{other.pk}</a>' in reasons


@pytest.mark.django_db
def test_the_upload_page_links_a_sample_of_each_format(world: World) -> None:
    page = browser_for(world.staff_a).get("/trips/upload/").content.decode()
    for fmt in ("csv", "gpx", "geojson", "nmea", "parquet"):
        assert f"/static/samples/trip-sample.{fmt}" in page
        assert (ROOT / "static" / "samples" / f"trip-sample.{fmt}").is_file()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_upload_form_asks_for_the_mode_of_a_gpx_file_and_keeps_the_uploaded_before_note(
    world: World, page: Page
) -> None:
    gpx = ROOT / "static" / "samples" / "trip-sample.gpx"
    log_in(page, world.staff_a.username)
    page.goto("/trips/upload/")
    page.get_by_label("车辆").select_option(value=world.vehicle_a.vin)
    page.get_by_label("行程日志文件").set_input_files([gpx])
    hint = page.locator("#mode-needed")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("GPX 和 NMEA 文件不含驾驶模式")
    page.get_by_role("button", name="上传", exact=True).click()
    expect(page.locator("#upload-problem")).to_contain_text("请选择驾驶模式")
    assert not Trip.objects.exists()

    page.get_by_label("驾驶模式").select_option(label="自动驾驶")
    expect(hint).to_be_hidden()
    page.get_by_role("button", name="上传", exact=True).click()
    row = page.locator(".upload-item").last
    expect(row.locator(".badge")).not_to_have_text("已接收", timeout=30_000)
    assert Trip.objects.count() == 1

    # The same file again: the row says so, and still says so after the verdict.
    page.get_by_label("行程日志文件").set_input_files([gpx])
    page.get_by_role("button", name="上传", exact=True).click()
    again = page.locator(".upload-item").last
    expect(again.locator(".badge")).to_be_visible(timeout=30_000)
    expect(again.locator(".upload-again")).to_contain_text("该文件此前已上传过")
    assert Trip.objects.count() == 1


@pytest.mark.django_db
def test_the_review_queue_names_the_overlapping_trip(world: World) -> None:
    approve_road(world)
    trip = flagged_trip(world)
    other = Trip.objects.exclude(pk=trip.pk).get()
    page = browser_for(world.bureau).get("/trips/review/").content.decode()
    # opened from the queue, its breadcrumbs lead back here (tests/web/test_breadcrumbs.py)
    assert f'<a href="/trips/{other.pk}/?from=review">行程 #{other.pk}</a>' in page
