"""When a terminal's vehicle last moved, found as fixes are stored, so that the closing
sweep can rule out "standing still" from the terminal's row instead of its fixes.

Pure Python (no Django). If the fixes of the last idle time all lie within a radius r of
their centre, no two of them are more than 2r apart; so with `far_m` > 2r, a pair of
them farther apart than `far_m` proves the vehicle did not stand still. `Anchors` finds
such pairs against an anchor per terminal, a fix it was given: a fix farther than `far_m`
from it makes a pair and becomes the anchor. `moved_at` is the earlier time of the latest
pair. Every pair is two fixes given, in any order, so `moved_at` never claims a movement
that did not happen; it may miss one (a slow creep, a process restarted and its anchors
lost), and it is written back only when it advanced `MOVED_STEP_S` or more: both only
make the sweep look closer than it had to.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta

# The mean Earth radius: distances here differ from the projected metres of the sweep's
# exact rule by well under 1 % at a few tens of metres, which `FAR_MARGIN` covers.
EARTH_RADIUS_M = 6_371_008.8
FAR_MARGIN = 1.02
# A moving vehicle makes a pair every few seconds: writing each would update most
# terminal rows every batch for nothing the sweep needs to that precision.
MOVED_STEP_S = timedelta(seconds=10)


def distance_m(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    """Equirectangular distance on the sphere (exact enough at the metres compared here)."""
    mean = math.radians((lat0 + lat1) / 2)
    dx = math.radians(lon1 - lon0) * math.cos(mean)
    dy = math.radians(lat1 - lat0)
    return EARTH_RADIUS_M * math.hypot(dx, dy)


class Anchors:
    """Per terminal, the anchor fix and the `moved_at` last handed out (thread-safe)."""

    def __init__(self, far_m: float) -> None:
        self.far_m = far_m
        self._anchor: dict[int, tuple[float, float, datetime]] = {}
        self._moved: dict[int, datetime] = {}
        self._written: dict[int, datetime] = {}
        self._lock = threading.Lock()

    def moved(self, fixes: Iterable[tuple[int, float, float, datetime]]) -> dict[int, datetime]:
        """Take fixes (terminal pk, lat, lon, time); returns the terminals whose `moved_at`
        is to be written (at least `MOVED_STEP_S` later than the one last returned)."""
        anchors, moved, far_m = self._anchor, self._moved, self.far_m
        with self._lock:
            touched = set()
            for pk, lat, lon, t in fixes:
                anchor = anchors.get(pk)
                if anchor is None:
                    anchors[pk] = (lat, lon, t)
                elif distance_m(anchor[0], anchor[1], lat, lon) > far_m:
                    pair_at = min(anchor[2], t)
                    if pk not in moved or pair_at > moved[pk]:
                        moved[pk] = pair_at
                        touched.add(pk)
                    anchors[pk] = (lat, lon, t)
            out = {}
            for pk in touched:
                written = self._written.get(pk)
                if written is None or moved[pk] - written >= MOVED_STEP_S:
                    out[pk] = self._written[pk] = moved[pk]
            return out
