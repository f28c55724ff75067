"""The audit trail's before/after table reads as three aligned columns in Chromium: the
outer data table's header band, zebra rows and roomy "nothing here" cell stay out of it."""

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import World
from tests.routes.helpers import draft_road
from tests.web.conftest import screenshot
from tests.web.test_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_empty_before_sits_on_its_fields_line(world: World, page: Page) -> None:
    segment = draft_road(world.bureau)  # created: every "before" of its audit entry is empty
    log_in(page, world.bureau.username)
    page.goto(f"/segments/{segment.pk}/")
    changes = page.get_by_role("region", name="审计记录").locator("table.changes").first
    name = changes.locator("tbody tr", has_text="名称")
    expect(name.locator("td.old.empty")).to_have_text("—")
    expect(name.locator("td.new")).to_have_text("德胜街")

    label = name.locator("th.field").bounding_box()
    before = name.locator("td.old").bounding_box()
    after = name.locator("td.new").bounding_box()
    assert label is not None
    assert before is not None
    assert after is not None
    # One line each, side by side: the dash was pushed 1.5rem down and centred in its
    # column, so each field took three lines with its label alone on the first.
    assert abs(before["y"] - label["y"]) < 2, (label, before)
    assert before["height"] < 2 * label["height"], (label, before)
    assert label["x"] + label["width"] <= before["x"] + 1 <= after["x"], (label, before, after)
    dash = name.locator("td.old.empty").evaluate(
        "cell => [getComputedStyle(cell).textAlign, getComputedStyle(cell).paddingTop]"
    )
    assert dash[0] in ("left", "start"), dash
    assert float(dash[1].removesuffix("px")) < 4, dash
    header = (
        changes.locator("thead th")
        .nth(1)
        .evaluate(
            "cell => [getComputedStyle(cell).backgroundColor, getComputedStyle(cell).position]"
        )
    )
    assert header == ["rgba(0, 0, 0, 0)", "static"], header
    screenshot(page, "audit-table-created")
