"""The trip and review pages show a held trip's conflicts, as the reader may see them."""

from __future__ import annotations

import numpy as np
import pytest
from django.test import Client

from operators.models import User, Vehicle
from tests import factories
from tests.conftest import World
from tests.trips.replaygen import drive_legs, winding_road
from tests.trips.tracegen import START, generate, to_csv
from trips import services
from trips.models import Trip

pytestmark = pytest.mark.django_db

ROAD = winding_road(np.random.default_rng(41))
DATA = to_csv(
    generate(ROAD, drive_legs(np.random.default_rng(42), ROAD.length), start=START, seed=3)
)


def browser_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def process(staff: User, vehicle: Vehicle) -> Trip:
    trip, _ = services.trip_upload(actor=staff, vin=vehicle.vin, data=DATA)
    return services.trip_process(trip_id=trip.pk)


def test_a_company_sees_which_of_its_own_trips_a_held_trip_repeats(world: World) -> None:
    first = process(world.staff_a, world.vehicle_a)
    second = process(world.staff_a, factories.vehicle(actor=world.bureau, operator=world.company_a))
    page = browser_for(world.staff_a).get(f"/trips/{second.pk}/").content.decode()
    assert 'id="conflicts-table"' in page
    assert f'href="/trips/{first.pk}/"' in page
    assert "此记录已提交过：同一文件。" in page


def test_a_company_is_not_told_another_companys_trip_number(world: World) -> None:
    first = process(world.staff_a, world.vehicle_a)
    second = process(world.staff_b, world.vehicle_b)
    page = browser_for(world.staff_b).get(f"/trips/{second.pk}/").content.decode()
    assert "此记录已提交过：同一文件。" in page
    assert "其他公司的行程" in page
    assert f"/trips/{first.pk}/" not in page
    assert f"行程 #{first.pk}" not in page
    assert world.company_a.name not in page


def test_the_review_page_sets_the_trips_side_by_side_and_draws_both(world: World) -> None:
    first = process(world.staff_a, world.vehicle_a)
    second = process(world.staff_b, world.vehicle_b)
    page = browser_for(world.bureau).get(f"/trips/review/{second.pk}/").content.decode()
    assert f'href="/trips/{first.pk}/"' in page
    assert world.company_a.name in page
    assert world.company_b.name in page
    assert f'"/api/v1/trips/{first.pk}/trace/"' in page  # drawn on the same map


def test_the_review_form_refuses_to_accept_a_copy_of_an_accepted_trip(world: World) -> None:
    first = process(world.staff_a, world.vehicle_a)
    second = process(world.staff_b, world.vehicle_b)
    response = browser_for(world.bureau).post(
        f"/trips/review/{second.pk}/", {"decision": "accept", "reason": "看起来没问题"}
    )
    assert response.status_code == 200
    assert f"#{first.pk}" in response.content.decode()
    second.refresh_from_db()
    assert second.status == Trip.Status.NEEDS_REVIEW


def test_the_trip_page_names_the_trip_kept_at_review(world: World) -> None:
    first = process(world.staff_a, world.vehicle_a)
    second = process(world.staff_b, world.vehicle_b)
    services.trip_review(actor=world.bureau, trip=second, accept=False, reason="复制")
    page = browser_for(world.bureau).get(f"/trips/{second.pk}/").content.decode()
    assert "审核保留的行程" in page
    assert f'href="/trips/{first.pk}/"' in page


def conflicts_row(page: str, label: str) -> str:
    """The conflicts table's row headed `label`, as HTML."""
    table = page.split('id="conflicts-table"', 1)[1].split("</table>", 1)[0]
    rows = [row for row in table.split("<tr>") if f'<th scope="row">{label}</th>' in row]
    assert len(rows) == 1, (label, rows)
    return rows[0]


def test_the_conflicts_table_gives_kilometres_with_their_unit(world: World) -> None:
    first = process(world.staff_a, world.vehicle_a)
    second = process(world.staff_b, world.vehicle_b)
    page = browser_for(world.bureau).get(f"/trips/review/{second.pk}/").content.decode()
    total = conflicts_row(page, "总里程")
    # The same file twice: both columns carry the same total, each with its unit.
    assert total.count(f"{first.total_m / 1000:.3f} 公里") == 2, total
    assert conflicts_row(page, "合规里程").count(" 公里</td>") == 2


def test_a_rejected_trip_in_the_conflicts_table_shows_no_eligible_figure(world: World) -> None:
    first = process(world.staff_a, world.vehicle_a)
    second = process(world.staff_b, world.vehicle_b)
    services.trip_review(actor=world.bureau, trip=second, accept=False, reason="复制")
    page = browser_for(world.bureau).get(f"/trips/{second.pk}/").content.decode()
    eligible = conflicts_row(page, "合规里程")
    assert "已驳回：不计入补贴" in eligible, eligible  # this trip, rejected
    assert eligible.count(" 公里</td>") == 1  # the accepted one keeps its figure
    assert f"{first.eligible_m / 1000:.3f} 公里" in eligible
