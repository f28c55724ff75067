"""The bureau's dashboard in Chromium: the km-per-company chart beside the plan's two-way
km, its legend in words and its figures a click away."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from operators.models import Operator
from tests.conftest import World
from tests.web.conftest import screenshot
from tests.web.test_dashboard_km_chart import driven  # noqa: F401 - the fixture
from tests.web.test_trip_journey import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_bureau_reads_km_per_company_from_the_chart_and_its_table(
    driven: World,  # noqa: F811 - the fixture imported above
    page: Page,
) -> None:
    log_in(page, driven.bureau.username)

    panel = page.locator("section.km-by-company")
    expect(panel.get_by_role("heading", name="各企业每月合规里程")).to_be_visible()
    expect(panel.get_by_role("img", name="各企业每月合规里程")).to_be_visible()
    expect(panel.locator(".chart-legend")).to_contain_text("甲公司 · 3.000 公里")
    expect(panel.locator(".chart-legend")).to_contain_text("乙公司 · 0.500 公里")
    panel.get_by_text("按月数据").click()
    expect(panel.get_by_role("row", name="2026-05")).to_contain_text("2.500")
    expect(page.locator(".card-two-way-km")).to_contain_text("200")
    screenshot(page, "bureau-dashboard")


def test_a_long_company_name_wraps_but_its_km_and_unit_stay_on_one_line(
    driven: World,  # noqa: F811 - the fixture imported above
    page: Page,
) -> None:
    Operator.objects.filter(pk=driven.company_b.pk).update(name="山西晋阳无人驾驶公交有限公司")
    log_in(page, driven.bureau.username)

    row = page.locator("ul.km-bars li", has_text="山西晋阳无人驾驶公交有限公司")
    figure = row.locator(".label .mono")
    expect(figure).to_have_text("0.500 公里")
    # The height of the text itself (a flex item stretches to the row's height).
    text_height = (
        "el => { const r = document.createRange(); r.selectNodeContents(el);"
        " return r.getBoundingClientRect().height; }"
    )
    name_height = row.locator(".label > span").first.evaluate(text_height)
    figure_height = figure.evaluate(text_height)
    # The name takes two lines in a quarter-width card; the figure keeps one ("0.500 公"
    # and "里" on two lines was the break).
    assert name_height > 1.5 * figure_height, (name_height, figure_height)
    screenshot(page, "bureau-dashboard-long-name")


def test_the_two_way_chart_in_its_card_has_readable_text(
    driven: World,  # noqa: F811 - the fixture imported above
    page: Page,
) -> None:
    log_in(page, driven.bureau.username)

    chart = page.locator(".card-two-way-km svg.chart")
    expect(chart).to_be_visible()
    # Drawn at the card's size: its 11px labels stay about 11px (a 480-wide drawing in a
    # quarter-width card shrank them to about 5px).
    heights = chart.locator("text").evaluate_all(
        "texts => texts.map(t => t.getBoundingClientRect().height)"
    )
    assert heights
    assert min(heights) >= 12, heights  # 16 at the card's size, 9 when shrunk
    expect(chart.locator("text.target-label")).to_have_text("规划：200 公里")


def test_the_longest_menu_the_admins_fits_one_row_at_1280_pixels(world: World, page: Page) -> None:
    log_in(page, world.admin.username)
    links = page.locator("nav.main-nav a")
    assert links.count() >= 16  # the admin sees every role's menu items
    tops = {round(box["y"]) for box in (a.bounding_box() for a in links.all()) if box}
    assert len(tops) == 1, tops
