"""Every state change of road segments and zones: drawing, versions, approval, suspension.

Importing a file of segments is `routes/import_services.py` (on top of `segment_create`);
the messages for refused geometry are `routes/problems.py`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.roles import EDIT_SEGMENTS
from core.services import audit_record, model_create, model_update, require, transition
from core.versions import check_version
from operators.models import User

from .geometry import CleanGeometry, GeometryProblem, clean_geometry
from .models import DEFAULT_CORRIDOR_HALF_WIDTH_M, RoadSegment
from .problems import problem_message
from .validity import window_is_empty

# The bureau draws and approves; admins may do everything.
EDITABLE_FIELDS = frozenset(
    {"name", "road_code", "kind", "geometry", "two_way", "corridor_half_width_m"}
)


def service_area() -> tuple[float, float, float, float]:
    """settings.SERVICE_AREA_BBOX as (min lon, min lat, max lon, max lat)."""
    bbox = tuple(float(v) for v in settings.SERVICE_AREA_BBOX)
    return bbox[0], bbox[1], bbox[2], bbox[3]


def _clean(geometry: Any, *, kind: str, repair: bool) -> CleanGeometry:
    try:
        return clean_geometry(geometry, kind=kind, bbox=service_area(), repair=repair)
    except GeometryProblem as problem:
        raise ApplicationError(problem_message(problem), field="geometry") from problem


def _measured_fields(
    *, kind: str, geometry: Any, corridor_half_width_m: Decimal | None, repair: bool
) -> tuple[dict[str, Any], tuple[str, ...]]:
    clean = _clean(geometry, kind=kind, repair=repair)
    if kind == RoadSegment.Kind.ROAD:
        width = (
            DEFAULT_CORRIDOR_HALF_WIDTH_M
            if corridor_half_width_m is None
            else corridor_half_width_m
        )
    else:
        width = None
    return (
        {
            "kind": kind,
            "geometry": clean.geojson,
            "length_m": clean.length_m,
            "area_m2": clean.area_m2,
            "corridor_half_width_m": width,
        },
        clean.notes,
    )


def reason_with_notes(reason: str, notes: tuple[str, ...]) -> str:
    return "; ".join([reason.strip(), *notes]).strip("; ")


@transaction.atomic
def segment_create(
    *,
    actor: User,
    name: str,
    kind: str,
    geometry: Any,
    two_way: bool = True,
    road_code: str = "",
    corridor_half_width_m: Decimal | None = None,
    repair: bool = False,
    reason: str = "",
) -> RoadSegment:
    """Draw a new road or area, as a draft (version 1 of a new series)."""
    require(actor, EDIT_SEGMENTS)
    if kind == RoadSegment.Kind.AREA and corridor_half_width_m is not None:
        raise ApplicationError(_("Only a road has a corridor."), field="corridor_half_width_m")
    fields, notes = _measured_fields(
        kind=kind, geometry=geometry, corridor_half_width_m=corridor_half_width_m, repair=repair
    )
    segment = RoadSegment(name=name, road_code=road_code, two_way=two_way, **fields)
    return model_create(instance=segment, actor=actor, reason=reason_with_notes(reason, notes))


def _lock(segment: RoadSegment, seen_version: int | None = None) -> RoadSegment:
    """The row, locked; refused when a page drawn before someone else's change is
    submitted (`seen_version`, core/versions.py)."""
    locked = RoadSegment.objects.select_for_update().get(pk=segment.pk)
    check_version(locked, seen_version)
    return locked


def _is_head(segment: RoadSegment) -> bool:
    return not RoadSegment.objects.filter(supersedes=segment).exists()


@transaction.atomic
def segment_update(
    *,
    actor: User,
    segment: RoadSegment,
    data: dict[str, Any],
    repair: bool = False,
    reason: str = "",
    seen_version: int | None = None,
) -> RoadSegment:
    """Change a segment. A draft or submitted one changes in place; changing the geometry,
    width, kind or two-way flag of an approved or suspended one makes a new draft version
    (returned), leaving the approved one valid until the new version is approved."""
    require(actor, EDIT_SEGMENTS)
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise ApplicationError(_("This field cannot be changed here."), field=sorted(unknown)[0])
    segment = _lock(segment, seen_version)
    if segment.status == RoadSegment.Status.RETIRED:
        raise ApplicationError(_("A retired segment cannot be changed."), field="status")
    if not _is_head(segment):
        raise ApplicationError(
            _("A newer version of this segment exists; change that one."), field="version"
        )
    kind = data.get("kind", segment.kind)
    versioned = segment.approved_at is not None and any(
        name in RoadSegment.VERSIONED_FIELDS for name in data
    )
    changes = dict(data)
    notes: tuple[str, ...] = ()
    if {"kind", "geometry", "corridor_half_width_m"} & set(data):
        if kind == RoadSegment.Kind.AREA and data.get("corridor_half_width_m") is not None:
            raise ApplicationError(_("Only a road has a corridor."), field="corridor_half_width_m")
        width = data.get(
            "corridor_half_width_m",
            segment.corridor_half_width_m if segment.kind == kind else None,
        )
        measured, notes = _measured_fields(
            kind=kind,
            geometry=data.get("geometry", segment.geometry),
            corridor_half_width_m=width,
            repair=repair,
        )
        changes.update(measured)
    reason = reason_with_notes(reason, notes)
    if not versioned:
        return model_update(instance=segment, data=changes, actor=actor, reason=reason)
    return _new_version(segment=segment, changes=changes, actor=actor, reason=reason)


def _next_version(segment: RoadSegment) -> int:
    latest = RoadSegment.objects.filter(series=segment.series).aggregate(v=Max("version"))["v"]
    return int(latest or 0) + 1


def _copy(segment: RoadSegment, **changes: Any) -> RoadSegment:
    values = {
        name: getattr(segment, name)
        for name in (
            "series",
            "kind",
            "name",
            "road_code",
            "two_way",
            "geometry",
            "corridor_half_width_m",
            "length_m",
            "area_m2",
        )
    }
    values.update(changes)
    return RoadSegment(**values, version=_next_version(segment), supersedes=segment)


def _new_version(
    *, segment: RoadSegment, changes: dict[str, Any], actor: User, reason: str
) -> RoadSegment:
    if all(getattr(segment, name) == value for name, value in changes.items()):
        return segment  # nothing changed: no new version
    return model_create(instance=_copy(segment, **changes), actor=actor, reason=reason)


@transaction.atomic
def segment_delete(*, actor: User, segment: RoadSegment, seen_version: int | None = None) -> None:
    """Delete a draft that was never approved; anything approved is retired instead."""
    require(actor, EDIT_SEGMENTS)
    segment = _lock(segment, seen_version)
    if segment.status not in (RoadSegment.Status.DRAFT, RoadSegment.Status.SUBMITTED):
        raise ApplicationError(
            _("Only a draft can be deleted; retire an approved segment."), field="status"
        )
    audit_record(actor=actor, obj=segment, action="delete")
    segment.delete()


@transaction.atomic
def segment_submit(
    *, actor: User, segment: RoadSegment, reason: str = "", seen_version: int | None = None
) -> RoadSegment:
    require(actor, EDIT_SEGMENTS)
    segment = _lock(segment, seen_version)
    return transition(
        instance=segment,
        to=RoadSegment.Status.SUBMITTED,
        actor=actor,
        reason=reason,
        data={"status_reason": reason},
    )


@transaction.atomic
def segment_return(
    *, actor: User, segment: RoadSegment, reason: str, seen_version: int | None = None
) -> RoadSegment:
    """Send a submitted segment back to draft, saying why."""
    require(actor, EDIT_SEGMENTS)
    _require_reason(reason)
    segment = _lock(segment, seen_version)
    if segment.status != RoadSegment.Status.SUBMITTED:
        raise ApplicationError(_("Only a submitted segment can be sent back."), field="status")
    return transition(
        instance=segment,
        to=RoadSegment.Status.DRAFT,
        actor=actor,
        reason=reason,
        data={"status_reason": reason},
    )


def _require_reason(reason: str) -> None:
    if not reason.strip():
        raise ApplicationError(_("Give a reason."), field="reason")


def _check_window(valid_from: dt.datetime, valid_to: dt.datetime | None) -> None:
    if timezone.is_naive(valid_from) or (valid_to is not None and timezone.is_naive(valid_to)):
        raise ApplicationError(_("Give times with their time zone."), field="valid_from")
    if window_is_empty(valid_from, valid_to):
        raise ApplicationError(_("The window must end after it starts."), field="valid_to")


def _close_predecessor(*, segment: RoadSegment, at: dt.datetime, actor: User) -> None:
    """A new approved version takes over from its predecessor at `at`: never both at once."""
    previous = segment.supersedes
    if previous is None or previous.approved_at is None:
        return
    previous = _lock(previous)
    assert previous.valid_from is not None  # noqa: S101 - approved rows have a window
    if at < previous.valid_from:
        raise ApplicationError(
            _("The new version cannot start before the version it replaces (%(start)s).")
            % {"start": timezone.localtime(previous.valid_from).isoformat()},
            field="valid_from",
        )
    if previous.valid_to is None or previous.valid_to > at:
        model_update(
            instance=previous,
            data={"valid_to": at, "window_revision": previous.window_revision + 1},
            actor=actor,
            action="superseded",
            reason=_("Replaced by version %(version)s.") % {"version": segment.version},
        )


@transaction.atomic
def segment_approve(
    *,
    actor: User,
    segment: RoadSegment,
    valid_from: dt.datetime,
    approval_ref: str,
    valid_to: dt.datetime | None = None,
    reason: str = "",
    seen_version: int | None = None,
) -> RoadSegment:
    """Approve a submitted segment for [valid_from, valid_to) under an approval reference.

    If it is a new version of an approved segment, the old version's window ends where
    the new one starts.
    """
    require(actor, EDIT_SEGMENTS)
    if not approval_ref.strip():
        raise ApplicationError(_("Give the approval reference (批文号)."), field="approval_ref")
    _check_window(valid_from, valid_to)
    segment = _lock(segment, seen_version)
    if segment.status != RoadSegment.Status.SUBMITTED:
        raise ApplicationError(
            _("Only a submitted segment can be approved (this one is %(status)s).")
            % {"status": segment.get_status_display()},
            field="status",
        )
    _close_predecessor(segment=segment, at=valid_from, actor=actor)
    return transition(
        instance=segment,
        to=RoadSegment.Status.APPROVED,
        actor=actor,
        reason=reason,
        data={
            "valid_from": valid_from,
            "valid_to": valid_to,
            "approval_ref": approval_ref.strip(),
            "approved_by": actor,
            "approved_at": timezone.now(),
            "status_reason": reason,
            "window_revision": segment.window_revision + 1,
        },
    )


def _closed_window(segment: RoadSegment, at: dt.datetime) -> dt.datetime | None:
    """The window's new end when it is cut at `at` (never before it starts)."""
    assert segment.valid_from is not None  # noqa: S101 - approved rows have a window
    end = max(at, segment.valid_from)
    if segment.valid_to is not None and segment.valid_to <= end:
        return segment.valid_to
    return end


def _end_validity(
    *,
    actor: User,
    segment: RoadSegment,
    to: str,
    reason: str,
    effective_at: dt.datetime | None,
    seen_version: int | None,
) -> RoadSegment:
    require(actor, EDIT_SEGMENTS)
    _require_reason(reason)
    at = effective_at or timezone.now()
    if timezone.is_naive(at):
        raise ApplicationError(_("Give times with their time zone."), field="effective_at")
    segment = _lock(segment, seen_version)
    if segment.status == RoadSegment.Status.APPROVED and not _is_head(segment):
        raise ApplicationError(
            _("A newer version of this segment exists; act on that one."), field="version"
        )
    data: dict[str, Any] = {"status_reason": reason}
    if segment.approved_at is not None:
        data["valid_to"] = _closed_window(segment, at)
        data["window_revision"] = segment.window_revision + 1
    return transition(instance=segment, to=to, actor=actor, reason=reason, data=data)


@transaction.atomic
def segment_suspend(
    *,
    actor: User,
    segment: RoadSegment,
    reason: str,
    effective_at: dt.datetime | None = None,
    seen_version: int | None = None,
) -> RoadSegment:
    """Suspend an approved segment from `effective_at` (default now): its window ends there,
    so kilometres before it still count on this version. Reinstating is a new approval."""
    return _end_validity(
        actor=actor,
        segment=segment,
        to=RoadSegment.Status.SUSPENDED,
        reason=reason,
        effective_at=effective_at,
        seen_version=seen_version,
    )


@transaction.atomic
def segment_retire(
    *,
    actor: User,
    segment: RoadSegment,
    reason: str,
    effective_at: dt.datetime | None = None,
    seen_version: int | None = None,
) -> RoadSegment:
    """Retire a segment for good; an approved one stops being valid at `effective_at`."""
    return _end_validity(
        actor=actor,
        segment=segment,
        to=RoadSegment.Status.RETIRED,
        reason=reason,
        effective_at=effective_at,
        seen_version=seen_version,
    )


@transaction.atomic
def segment_reinstate(
    *,
    actor: User,
    segment: RoadSegment,
    valid_from: dt.datetime,
    approval_ref: str,
    valid_to: dt.datetime | None = None,
    reason: str,
    seen_version: int | None = None,
) -> RoadSegment:
    """Reinstate a suspended segment: a new approved version, same geometry, new window.

    The suspended version keeps its window (up to the suspension), so the suspended
    period is never valid, and both approvals stay on record.
    """
    require(actor, EDIT_SEGMENTS)
    _require_reason(reason)
    if not approval_ref.strip():
        raise ApplicationError(_("Give the approval reference (批文号)."), field="approval_ref")
    _check_window(valid_from, valid_to)
    segment = _lock(segment, seen_version)
    if segment.status != RoadSegment.Status.SUSPENDED:
        raise ApplicationError(_("Only a suspended segment can be reinstated."), field="status")
    if not _is_head(segment):
        raise ApplicationError(
            _("A newer version of this segment exists; approve that one instead."),
            field="version",
        )
    assert segment.valid_to is not None  # noqa: S101 - suspension closed the window
    if valid_from < segment.valid_to:
        raise ApplicationError(
            _("Reinstatement cannot start before the suspension (%(at)s).")
            % {"at": timezone.localtime(segment.valid_to).isoformat()},
            field="valid_from",
        )
    reinstated = _copy(
        segment,
        status=RoadSegment.Status.APPROVED,
        valid_from=valid_from,
        valid_to=valid_to,
        approval_ref=approval_ref.strip(),
        approved_by=actor,
        approved_at=timezone.now(),
        status_reason=reason,
        window_revision=1,
    )
    model_create(instance=reinstated, actor=actor, reason=reason)
    audit_record(
        actor=actor,
        obj=segment,
        action="reinstate",
        changes={"reinstated_as": [None, reinstated.pk]},
        reason=reason,
    )
    return reinstated
