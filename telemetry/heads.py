"""What the closing sweep needs to know of a terminal's stream, kept on its row as fixes are
stored, so that a sweep pass reads the small terminal table and not the fix table.

Pure Python (no Django): `advance` takes a terminal's head as stored and the fixes of one
batch, and returns the head to store. A head holds the newest fix time and receipt time,
the receipt time of the newest fix that arrived out of order (a candidate late fix), and
`moved_at`: the earlier time of the latest pair of the terminal's fixes found farther apart
than `far_m`. If the fixes of the last idle time all lie within a radius r of their centre,
no two of them are more than 2r apart; so with `far_m` > 2r, a pair of that window farther
apart than `far_m` proves the vehicle did not stand still. The pairs are found against an
anchor, a stored fix: a fix farther than `far_m` from it makes a pair and becomes the
anchor. Every pair is two stored fixes, so `moved_at` never claims a movement that did not
happen; it may miss one (a slow creep), which only makes the sweep look closer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

# The mean Earth radius: distances here differ from the projected metres of the sweep's
# exact rule by well under 1 % at a few tens of metres, which `FAR_MARGIN` covers.
EARTH_RADIUS_M = 6_371_008.8
FAR_MARGIN = 1.02


@dataclass(frozen=True, slots=True)
class Head:
    last_fix_at: datetime | None = None
    last_received_at: datetime | None = None
    moved_at: datetime | None = None
    late_received_at: datetime | None = None
    anchor_lat: float | None = None
    anchor_lon: float | None = None
    anchor_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Seen:
    """One stored fix, as much of it as the head needs."""

    t: datetime
    received_at: datetime
    lat: float
    lon: float


def distance_m(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    """Equirectangular distance on the sphere (exact enough at the metres compared here)."""
    mean = math.radians((lat0 + lat1) / 2)
    dx = math.radians(lon1 - lon0) * math.cos(mean)
    dy = math.radians(lat1 - lat0)
    return EARTH_RADIUS_M * math.hypot(dx, dy)


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


def advance(
    head: Head, fixes: Iterable[Seen], *, far_m: float, closed_until: datetime | None
) -> Head:
    """The head after a batch of this terminal's fixes. A fix with a time at or before the
    newest already stored, or before where the sweep closed (`closed_until`, as read), is
    a candidate late fix: its receipt time goes to `late_received_at`."""
    last_fix_at, last_received_at = head.last_fix_at, head.last_received_at
    moved_at, late_received_at = head.moved_at, head.late_received_at
    anchor = (
        None
        if head.anchor_at is None or head.anchor_lat is None or head.anchor_lon is None
        else (head.anchor_lat, head.anchor_lon, head.anchor_at)
    )
    for fix in sorted(fixes, key=lambda f: f.t):
        if (head.last_fix_at is not None and fix.t <= head.last_fix_at) or (
            closed_until is not None and fix.t <= closed_until
        ):
            late_received_at = _later(late_received_at, fix.received_at)
        last_fix_at = _later(last_fix_at, fix.t)
        last_received_at = _later(last_received_at, fix.received_at)
        if anchor is None:
            anchor = (fix.lat, fix.lon, fix.t)
        elif distance_m(anchor[0], anchor[1], fix.lat, fix.lon) > far_m:
            moved_at = _later(moved_at, min(anchor[2], fix.t))
            anchor = (fix.lat, fix.lon, fix.t)
    return replace(
        head,
        last_fix_at=last_fix_at,
        last_received_at=last_received_at,
        moved_at=moved_at,
        late_received_at=late_received_at,
        anchor_lat=None if anchor is None else anchor[0],
        anchor_lon=None if anchor is None else anchor[1],
        anchor_at=None if anchor is None else anchor[2],
    )
