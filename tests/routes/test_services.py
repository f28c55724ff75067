"""Drawing, versions and the approval workflow, through the services."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from core.errors import ApplicationError
from core.models import AuditRecord
from routes import services
from routes.models import RoadSegment
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


def actions(segment: RoadSegment) -> list[str]:
    return list(
        AuditRecord.objects.filter(content_type__model="roadsegment", object_id=str(segment.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


# --- drawing -----------------------------------------------------------------------------


def test_a_new_road_is_a_draft_with_its_geodesic_length_and_default_corridor(
    world: World,
) -> None:
    road = draft_road(world.bureau)
    assert road.status == RoadSegment.Status.DRAFT
    assert road.version == 1
    assert road.corridor_half_width_m == Decimal("15.00")
    assert road.length_m == pytest.approx(880.3, abs=1)  # 0.01° east at 37.86°N
    assert road.area_m2 is None


def test_an_area_stores_its_area_and_no_corridor(world: World) -> None:
    area = services.segment_create(
        actor=world.bureau, name="高新区示范街区", kind="area", geometry=square(LON0, LAT0, 0.01)
    )
    # 0.01° × 0.01°: 880 m × 1,110 m ≈ 0.977 km²
    assert area.area_m2 == pytest.approx(977_000, rel=0.01)
    assert area.length_m is None
    assert area.corridor_half_width_m is None


def test_an_area_with_a_corridor_is_refused(world: World) -> None:
    with pytest.raises(ApplicationError) as caught:
        services.segment_create(
            actor=world.bureau,
            name="x",
            kind="area",
            geometry=square(LON0, LAT0, 0.01),
            corridor_half_width_m=Decimal(10),
        )
    assert caught.value.field == "corridor_half_width_m"


@pytest.mark.parametrize("role", ["finance", "staff_a"])
def test_only_the_bureau_and_admins_draw_segments(world: World, role: str) -> None:
    with pytest.raises(PermissionDenied):
        draft_road(getattr(world, role))


def test_creation_is_in_the_audit_trail(world: World) -> None:
    assert actions(draft_road(world.bureau)) == ["create"]


# --- workflow ----------------------------------------------------------------------------


def test_draft_submitted_approved_carries_the_window_reference_and_approver(
    world: World,
) -> None:
    road = approved_road(world.bureau, valid_from=at(2024, 3, 1), valid_to=at(2026, 3, 1))
    assert road.status == RoadSegment.Status.APPROVED
    assert (road.valid_from, road.valid_to) == (at(2024, 3, 1), at(2026, 3, 1))
    assert road.approval_ref == "阳交发〔2024〕1号"
    assert road.approved_by == world.bureau
    assert road.approved_at is not None
    assert actions(road) == ["create", "submitted", "approved"]


def test_a_draft_cannot_be_approved_without_being_submitted(world: World) -> None:
    with pytest.raises(ApplicationError) as caught:
        services.segment_approve(
            actor=world.bureau,
            segment=draft_road(world.bureau),
            valid_from=at(2024, 1, 1),
            approval_ref="x",
        )
    assert caught.value.field == "status"


def test_approval_needs_a_reference(world: World) -> None:
    road = services.segment_submit(actor=world.bureau, segment=draft_road(world.bureau))
    with pytest.raises(ApplicationError) as caught:
        services.segment_approve(
            actor=world.bureau, segment=road, valid_from=at(2024, 1, 1), approval_ref=" "
        )
    assert caught.value.field == "approval_ref"


def test_approval_needs_a_window_that_ends_after_it_starts(world: World) -> None:
    road = services.segment_submit(actor=world.bureau, segment=draft_road(world.bureau))
    with pytest.raises(ApplicationError) as caught:
        services.segment_approve(
            actor=world.bureau,
            segment=road,
            valid_from=at(2024, 1, 1),
            valid_to=at(2024, 1, 1),
            approval_ref="x",
        )
    assert caught.value.field == "valid_to"


@pytest.mark.parametrize("role", ["finance", "staff_a"])
def test_finance_and_companies_cannot_approve(world: World, role: str) -> None:
    road = services.segment_submit(actor=world.bureau, segment=draft_road(world.bureau))
    with pytest.raises(PermissionDenied):
        services.segment_approve(
            actor=getattr(world, role), segment=road, valid_from=at(2024, 1, 1), approval_ref="x"
        )


def test_an_approved_segment_cannot_go_back_to_draft(world: World) -> None:
    road = approved_road(world.bureau)
    with pytest.raises(ApplicationError):
        services.segment_return(actor=world.bureau, segment=road, reason="oops")


def test_a_submitted_segment_can_be_sent_back_to_draft_with_a_reason(world: World) -> None:
    road = services.segment_submit(actor=world.bureau, segment=draft_road(world.bureau))
    road = services.segment_return(actor=world.bureau, segment=road, reason="坐标有误")
    assert road.status == RoadSegment.Status.DRAFT
    assert road.status_reason == "坐标有误"


def test_suspension_ends_the_window_at_its_instant(world: World) -> None:
    road = approved_road(world.bureau, valid_from=at(2024, 1, 1))
    road = services.segment_suspend(
        actor=world.bureau, segment=road, reason="道路施工", effective_at=at(2024, 6, 1)
    )
    assert road.status == RoadSegment.Status.SUSPENDED
    assert (road.valid_from, road.valid_to) == (at(2024, 1, 1), at(2024, 6, 1))
    assert actions(road)[-1] == "suspended"


def test_suspension_needs_a_reason(world: World) -> None:
    with pytest.raises(ApplicationError) as caught:
        services.segment_suspend(actor=world.bureau, segment=approved_road(world.bureau), reason="")
    assert caught.value.field == "reason"


def test_suspension_never_lengthens_a_window_that_already_ends_earlier(world: World) -> None:
    road = approved_road(world.bureau, valid_from=at(2024, 1, 1), valid_to=at(2024, 3, 1))
    road = services.segment_suspend(
        actor=world.bureau, segment=road, reason="r", effective_at=at(2024, 6, 1)
    )
    assert road.valid_to == at(2024, 3, 1)


def test_suspension_before_the_window_starts_leaves_it_empty(world: World) -> None:
    road = approved_road(world.bureau, valid_from=at(2025, 1, 1))
    road = services.segment_suspend(
        actor=world.bureau, segment=road, reason="r", effective_at=at(2024, 6, 1)
    )
    assert road.valid_to == road.valid_from == at(2025, 1, 1)


def test_reinstatement_is_a_new_approved_version_with_its_own_window(world: World) -> None:
    road = approved_road(world.bureau, valid_from=at(2024, 1, 1))
    road = services.segment_suspend(
        actor=world.bureau, segment=road, reason="施工", effective_at=at(2024, 6, 1)
    )
    back = services.segment_reinstate(
        actor=world.bureau,
        segment=road,
        valid_from=at(2024, 7, 1),
        approval_ref="阳交发〔2024〕9号",
        reason="施工结束",
    )
    assert (back.status, back.version, back.series) == ("approved", 2, road.series)
    assert back.supersedes == road
    assert back.geometry == road.geometry
    assert (back.valid_from, back.valid_to) == (at(2024, 7, 1), None)
    road.refresh_from_db()
    assert road.status == RoadSegment.Status.SUSPENDED  # the old version keeps its window
    assert road.valid_to == at(2024, 6, 1)
    assert actions(road)[-1] == "reinstate"


def test_reinstatement_cannot_reach_back_into_the_suspension(world: World) -> None:
    road = approved_road(world.bureau, valid_from=at(2024, 1, 1))
    road = services.segment_suspend(
        actor=world.bureau, segment=road, reason="施工", effective_at=at(2024, 6, 1)
    )
    with pytest.raises(ApplicationError) as caught:
        services.segment_reinstate(
            actor=world.bureau,
            segment=road,
            valid_from=at(2024, 5, 1),
            approval_ref="x",
            reason="r",
        )
    assert caught.value.field == "valid_from"


def test_only_a_suspended_segment_is_reinstated(world: World) -> None:
    with pytest.raises(ApplicationError):
        services.segment_reinstate(
            actor=world.bureau,
            segment=approved_road(world.bureau),
            valid_from=at(2025, 1, 1),
            approval_ref="x",
            reason="r",
        )


def test_retiring_an_approved_segment_ends_its_window(world: World) -> None:
    road = services.segment_retire(
        actor=world.bureau,
        segment=approved_road(world.bureau),
        reason="道路改线",
        effective_at=at(2025, 1, 1),
    )
    assert (road.status, road.valid_to) == ("retired", at(2025, 1, 1))


def test_a_retired_segment_goes_nowhere(world: World) -> None:
    road = services.segment_retire(
        actor=world.bureau, segment=draft_road(world.bureau), reason="不再需要"
    )
    with pytest.raises(ApplicationError):
        services.segment_submit(actor=world.bureau, segment=road)
    with pytest.raises(ApplicationError):
        services.segment_update(actor=world.bureau, segment=road, data={"name": "x"})


def test_a_draft_can_be_deleted_but_an_approved_segment_only_retired(world: World) -> None:
    draft = draft_road(world.bureau)
    services.segment_delete(actor=world.bureau, segment=draft)
    assert not RoadSegment.objects.filter(pk=draft.pk).exists()
    with pytest.raises(ApplicationError):
        services.segment_delete(actor=world.bureau, segment=approved_road(world.bureau))


# --- versions ----------------------------------------------------------------------------


def test_editing_a_draft_changes_it_in_place_and_remeasures(world: World) -> None:
    road = draft_road(world.bureau)
    changed = services.segment_update(
        actor=world.bureau, segment=road, data={"geometry": east_west_road(d_lon=0.02)}
    )
    assert changed.pk == road.pk
    assert changed.length_m == pytest.approx(2 * 880.3, abs=2)


def test_changing_an_approved_geometry_makes_a_new_draft_version(world: World) -> None:
    road = approved_road(world.bureau)
    new = services.segment_update(
        actor=world.bureau, segment=road, data={"geometry": east_west_road(d_lon=0.02)}
    )
    assert new.pk != road.pk
    assert (new.version, new.series, new.supersedes) == (2, road.series, road)
    assert new.status == RoadSegment.Status.DRAFT
    road.refresh_from_db()
    assert road.status == RoadSegment.Status.APPROVED  # still valid until v2 is approved
    assert road.geometry == east_west_road()


def test_changing_the_corridor_width_also_makes_a_new_version(world: World) -> None:
    road = approved_road(world.bureau)
    new = services.segment_update(
        actor=world.bureau, segment=road, data={"corridor_half_width_m": Decimal(20)}
    )
    assert new.version == 2
    assert new.corridor_half_width_m == Decimal(20)


def test_renaming_an_approved_segment_is_an_audited_edit_not_a_version(world: World) -> None:
    road = approved_road(world.bureau)
    same = services.segment_update(actor=world.bureau, segment=road, data={"name": "德胜东街"})
    assert same.pk == road.pk
    assert same.name == "德胜东街"
    assert actions(road)[-1] == "update"


def test_approving_a_new_version_ends_the_old_versions_window_where_it_starts(
    world: World,
) -> None:
    road = approved_road(world.bureau, valid_from=at(2024, 1, 1))
    new = services.segment_update(
        actor=world.bureau, segment=road, data={"geometry": east_west_road(d_lon=0.02)}
    )
    new = approved(world.bureau, new, valid_from=at(2025, 1, 1))
    road.refresh_from_db()
    assert road.valid_to == at(2025, 1, 1)
    assert new.valid_from == at(2025, 1, 1)
    assert actions(road)[-1] == "superseded"


def test_a_new_version_cannot_start_before_the_one_it_replaces(world: World) -> None:
    road = approved_road(world.bureau, valid_from=at(2024, 1, 1))
    new = services.segment_update(
        actor=world.bureau, segment=road, data={"geometry": east_west_road(d_lon=0.02)}
    )
    with pytest.raises(ApplicationError) as caught:
        approved(world.bureau, new, valid_from=at(2023, 1, 1))
    assert caught.value.field == "valid_from"


def test_an_older_version_cannot_be_edited_once_a_newer_one_exists(world: World) -> None:
    road = approved_road(world.bureau)
    services.segment_update(
        actor=world.bureau, segment=road, data={"geometry": east_west_road(d_lon=0.02)}
    )
    with pytest.raises(ApplicationError) as caught:
        services.segment_update(
            actor=world.bureau, segment=road, data={"geometry": east_west_road(d_lon=0.03)}
        )
    assert caught.value.field == "version"


def test_an_update_that_changes_nothing_makes_no_version(world: World) -> None:
    road = approved_road(world.bureau)
    same = services.segment_update(
        actor=world.bureau, segment=road, data={"geometry": east_west_road()}
    )
    assert same.pk == road.pk
    assert RoadSegment.objects.count() == 1


def test_validity_windows_are_aware_times(world: World) -> None:
    road = services.segment_submit(actor=world.bureau, segment=draft_road(world.bureau))
    with pytest.raises(ApplicationError):
        services.segment_approve(
            actor=world.bureau,
            segment=road,
            valid_from=dt.datetime(2024, 1, 1),  # noqa: DTZ001 - naive on purpose
            approval_ref="x",
        )


def test_a_superseded_version_cannot_be_suspended_only_the_newest(world: World) -> None:
    road = approved_road(world.bureau)
    services.segment_update(
        actor=world.bureau, segment=road, data={"geometry": east_west_road(d_lon=0.02)}
    )
    with pytest.raises(ApplicationError) as caught:
        services.segment_suspend(actor=world.bureau, segment=road, reason="r")
    assert caught.value.field == "version"


def test_admins_may_approve_too(world: World) -> None:
    road = services.segment_submit(actor=world.bureau, segment=draft_road(world.bureau))
    road = services.segment_approve(
        actor=world.admin, segment=road, valid_from=at(2024, 1, 1), approval_ref="x"
    )
    assert road.approved_by == world.admin
