"""Which zones were approved and valid when: the ground truth the verifier checks against."""

import pytest
import shapely
from shapely.geometry import Point

from routes import services
from routes.geometry import to_metric_geometry
from routes.selectors import segment_list, segment_summary, zone_timeline, zones_valid_at
from routes.zones import ZoneInterval
from tests.conftest import World
from tests.routes.helpers import (
    LAT0,
    LON0,
    approved,
    approved_road,
    at,
    draft_road,
    east_west_road,
    square,
)

pytestmark = pytest.mark.django_db
CRS = "EPSG:4547"


def ids(zones: object) -> set[int]:
    return {zone.segment_id for zone in zones}  # type: ignore[attr-defined]


def spans(timeline: list[ZoneInterval]) -> list[tuple[object, object, set[int]]]:
    return [(i.start, i.end, ids(i.zones)) for i in timeline]


def test_a_road_is_valid_from_its_start_up_to_but_not_at_its_end(world: World) -> None:
    road = approved_road(world.bureau, valid_from=at(2024, 1, 1), valid_to=at(2025, 1, 1))
    assert ids(zones_valid_at(at=at(2023, 12, 31, 23, 59))) == set()
    assert ids(zones_valid_at(at=at(2024, 1, 1))) == {road.pk}
    assert ids(zones_valid_at(at=at(2024, 12, 31, 23, 59))) == {road.pk}
    assert ids(zones_valid_at(at=at(2025, 1, 1))) == set()


def test_drafts_and_submitted_segments_are_never_zones(world: World) -> None:
    draft_road(world.bureau)
    services.segment_submit(actor=world.bureau, segment=draft_road(world.bureau))
    assert zones_valid_at(at=at(2024, 6, 1)) == ()


def test_zone_polygons_are_the_corridors_in_the_metric_crs(world: World) -> None:
    approved_road(world.bureau)
    (zone,) = zones_valid_at(at=at(2024, 6, 1))
    x, y = to_metric_geometry(Point(LON0 + 0.005, LAT0), CRS).coords[0]
    assert shapely.contains_xy(zone.polygon, x, y + 10)
    assert not shapely.contains_xy(zone.polygon, x, y + 20)
    # ≈ 880 m × 30 m
    assert zone.polygon.area == pytest.approx(880.3 * 30, rel=2e-3)


def test_a_trip_before_a_geometry_change_sees_the_old_geometry(world: World) -> None:
    old = approved_road(world.bureau, valid_from=at(2024, 1, 1))
    new = services.segment_update(
        actor=world.bureau,
        segment=old,
        data={"geometry": east_west_road(lat=LAT0 + 0.001)},  # moved ≈ 111 m north
    )
    new = approved(world.bureau, new, valid_from=at(2025, 1, 1))
    before = zones_valid_at(at=at(2024, 12, 31))
    after = zones_valid_at(at=at(2025, 1, 2))
    assert ids(before) == {old.pk}
    assert ids(after) == {new.pk}
    x, y = to_metric_geometry(Point(LON0 + 0.005, LAT0), CRS).coords[0]
    assert shapely.contains_xy(before[0].polygon, x, y)
    assert not shapely.contains_xy(after[0].polygon, x, y)


def test_kilometres_before_a_suspension_still_count_on_the_version_approved_then(
    world: World,
) -> None:
    road = approved_road(world.bureau, valid_from=at(2024, 1, 1))
    services.segment_suspend(
        actor=world.bureau, segment=road, reason="施工", effective_at=at(2024, 6, 1)
    )
    assert ids(zones_valid_at(at=at(2024, 5, 31))) == {road.pk}
    assert ids(zones_valid_at(at=at(2024, 6, 15))) == set()


def test_a_reinstated_segment_is_valid_again_only_from_the_reinstatement(world: World) -> None:
    road = approved_road(world.bureau, valid_from=at(2024, 1, 1))
    road = services.segment_suspend(
        actor=world.bureau, segment=road, reason="施工", effective_at=at(2024, 6, 1)
    )
    back = services.segment_reinstate(
        actor=world.bureau, segment=road, valid_from=at(2024, 7, 1), approval_ref="x", reason="r"
    )
    timeline = zone_timeline(start=at(2024, 5, 1), end=at(2024, 8, 1))
    assert spans(timeline) == [
        (at(2024, 5, 1), at(2024, 6, 1), {road.pk}),
        (at(2024, 6, 1), at(2024, 7, 1), set()),
        (at(2024, 7, 1), at(2024, 8, 1), {back.pk}),
    ]


def test_the_timeline_is_cut_at_every_boundary_inside_the_period_and_covers_it(
    world: World,
) -> None:
    a = approved_road(world.bureau, valid_from=at(2024, 1, 1), valid_to=at(2024, 1, 10))
    b = approved_road(world.bureau, valid_from=at(2024, 1, 5))
    timeline = zone_timeline(start=at(2024, 1, 3), end=at(2024, 1, 12))
    assert spans(timeline) == [
        (at(2024, 1, 3), at(2024, 1, 5), {a.pk}),
        (at(2024, 1, 5), at(2024, 1, 10), {a.pk, b.pk}),
        (at(2024, 1, 10), at(2024, 1, 12), {b.pk}),
    ]


def test_a_period_with_no_boundary_inside_is_one_interval(world: World) -> None:
    road = approved_road(world.bureau, valid_from=at(2024, 1, 1))
    assert spans(zone_timeline(start=at(2024, 3, 1, 8), end=at(2024, 3, 1, 9))) == [
        (at(2024, 3, 1, 8), at(2024, 3, 1, 9), {road.pk})
    ]


def test_an_empty_period_has_no_intervals(world: World) -> None:
    assert zone_timeline(start=at(2024, 3, 1), end=at(2024, 3, 1)) == []


def test_the_cache_sees_an_approval_made_after_it_was_filled(world: World) -> None:
    assert zones_valid_at(at=at(2024, 6, 1)) == ()
    road = approved_road(world.bureau, valid_from=at(2024, 1, 1))
    assert ids(zones_valid_at(at=at(2024, 6, 1))) == {road.pk}


def test_the_cache_sees_a_suspension_made_after_it_was_filled(world: World) -> None:
    road = approved_road(world.bureau, valid_from=at(2024, 1, 1))
    assert ids(zones_valid_at(at=at(2024, 6, 1))) == {road.pk}
    services.segment_suspend(
        actor=world.bureau, segment=road, reason="r", effective_at=at(2024, 5, 1)
    )
    assert zones_valid_at(at=at(2024, 6, 1)) == ()


def test_repeated_lookups_reuse_the_same_prepared_polygon(world: World) -> None:
    approved_road(world.bureau)
    first = zones_valid_at(at=at(2024, 6, 1))
    again = zones_valid_at(at=at(2024, 7, 1))
    assert first[0].polygon is again[0].polygon


# --- scoping ----------------------------------------------------------------------------


def test_companies_see_approved_segments_only_never_drafts(world: World) -> None:
    road = approved_road(world.bureau)
    draft_road(world.bureau)
    suspended = services.segment_suspend(
        actor=world.bureau, segment=approved_road(world.bureau), reason="r"
    )
    assert set(segment_list(user=world.staff_a).values_list("pk", flat=True)) == {road.pk}
    assert segment_list(user=world.finance).count() == 3
    assert suspended.pk in set(segment_list(user=world.bureau).values_list("pk", flat=True))


# --- the plan's figure ------------------------------------------------------------------


def test_summary_counts_two_way_roads_twice_and_only_what_is_valid_then(world: World) -> None:
    # two-way 0.01° (880.3 m) + one-way 0.02° (1,760.6 m) valid on 2024-06-01;
    # a third road approved from 2025 does not count yet; a draft never counts.
    approved_road(world.bureau, valid_from=at(2024, 1, 1))
    approved_road(
        world.bureau,
        valid_from=at(2024, 1, 1),
        two_way=False,
        geometry=east_west_road(lat=LAT0 + 0.01, d_lon=0.02),
    )
    approved_road(world.bureau, valid_from=at(2025, 1, 1))
    draft_road(world.bureau)
    area = services.segment_create(
        actor=world.bureau, name="街区", kind="area", geometry=square(LON0, LAT0 - 0.02, 0.01)
    )
    approved(world.bureau, area, valid_from=at(2024, 1, 1))
    summary = segment_summary(user=world.bureau, at=at(2024, 6, 1))
    # open: 880.3 + 1,760.6 = 2,640.9 m; two-way operating: 2 × 880.3 + 1,760.6 = 3,521.2 m
    assert summary.open_road_m == pytest.approx(2640.9, abs=2)
    assert summary.two_way_operating_m == pytest.approx(3521.2, abs=3)
    assert summary.open_roads == 2
    assert summary.open_areas == 1
    assert summary.target_two_way_km == 200
    assert summary.by_status == {
        "draft": 1,
        "submitted": 0,
        "approved": 4,
        "suspended": 0,
        "retired": 0,
    }
