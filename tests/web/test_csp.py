"""The web UI under its Content-Security-Policy (docs/security.md), in a real Chromium:
the pages that run scripts still work, and the browser reports no violation."""

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.conftest import World
from tests.trips.csvtrace import straight_east
from trips import services as trip_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_ui_runs_under_its_csp_in_chromium(world: World, page: Page) -> None:
    trip, _ = trip_services.trip_upload(
        actor=world.staff_a,
        vin=world.vehicle_a.vin,
        data=straight_east(start=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), metres=300),
    )
    trip = trip_services.trip_process(trip_id=trip.pk)
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(world.bureau.username)
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.locator("form .form-actions").get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()
    page.goto(f"/trips/{trip.pk}/")
    # The trace map is drawn by our script with Leaflet: both ran, and fetched the trace.
    expect(page.locator(".leaflet-container path.leaflet-interactive").first).to_be_attached()
    page.goto("/segments/new/")
    expect(page.locator(".leaflet-pm-toolbar").first).to_be_visible()  # Geoman's tools
    page.goto("/api/v1/docs/")
    expect(page.locator(".swagger-ui .info")).to_be_visible()
    page.goto(f"/admin/trips/trip/{trip.pk}/change/")  # the admin's own scripts
    expect(page.locator("#trip_form")).to_be_visible()
    assert violations == []
