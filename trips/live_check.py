"""The upload-vs-stream cross-check: an uploaded file over time a live stream of the same
vehicle covers is compared with the stream (docs/telemetry.md). Read-only; called from
trips.services' verification (trips.live closes live trips and imports the services, so the
check lives apart from it to keep the modules acyclic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings

from core.geo import gcj02_to_wgs84, to_metric
from telemetry.selectors import fixes_in_range, live_fixes, one_track
from trips.parsers import ParsedTrace
from trips.reason_codes import TripReason

from .models import Trip

#: Fewer live fixes than this over the upload's time: nothing to compare with.
MIN_LIVE_FIXES = 10


def _path_m(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.hypot(np.diff(x), np.diff(y)).sum()) if len(x) > 1 else 0.0


def live_mismatch(*, trip: Trip, trace: ParsedTrace, total_m: float) -> dict[str, Any] | None:
    """A `live_mismatch` reason when the upload disagrees with the stream beyond the
    settings: median distance between the upload's fixes and the stream's position at the
    same instants (linear between live fixes) over LIVE_MISMATCH_MEDIAN_M, or kilometres
    differing by more than LIVE_MISMATCH_KM_SHARE of the stream's; None otherwise (also when
    the trip is a live one, or there is no stream to compare with)."""
    if trip.source != Trip.Source.UPLOAD or len(trace) < 2:
        return None
    t_up = trace.t_ns
    # A second's margin each side: the stream's fixes at the upload's first and last instants.
    start = datetime.fromtimestamp(int(t_up.min()) / 1e9, tz=UTC) - timedelta(seconds=1)
    end = datetime.fromtimestamp(int(t_up.max()) / 1e9, tz=UTC) + timedelta(seconds=1)
    # One track, as a live trip is made of (two terminals' fixes interleaved zigzag).
    live = live_fixes(fixes_in_range(vehicle_pk=trip.vehicle_id, start=start, end=end))
    if live:
        live, _protocol = one_track(live)
    if len(live) < MIN_LIVE_FIXES:
        return None
    crs = settings.METRIC_CRS
    lt = np.array([int(f.t.timestamp() * 1e6) * 1000 for f in live], dtype=np.int64)
    lx, ly = to_metric(
        np.array([f.lon for f in live], dtype=np.float64),
        np.array([f.lat for f in live], dtype=np.float64),
        crs,
    )
    lon, lat = trace.lon, trace.lat
    if trip.crs == Trip.Crs.GCJ02:
        lon, lat = gcj02_to_wgs84(lon, lat)
    ux, uy = to_metric(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64), crs)
    inside = (t_up >= lt[0]) & (t_up <= lt[-1])
    if inside.sum() < 2:
        return None
    at = t_up[inside].astype(np.float64)
    px = np.interp(at, lt.astype(np.float64), lx)
    py = np.interp(at, lt.astype(np.float64), ly)
    median_m = float(np.median(np.hypot(ux[inside] - px, uy[inside] - py)))
    within = (lt >= t_up.min()) & (lt <= t_up.max())
    live_m = _path_m(lx[within], ly[within])
    share = abs(total_m - live_m) / live_m if live_m > 0 else 0.0
    if median_m <= settings.LIVE_MISMATCH_MEDIAN_M and share <= settings.LIVE_MISMATCH_KM_SHARE:
        return None
    return {
        "code": TripReason.LIVE_MISMATCH,
        "message": (
            f"Disagrees with the live stream of the same vehicle: median distance "
            f"{median_m:.1f} m (limit {settings.LIVE_MISMATCH_MEDIAN_M:g} m), "
            f"{total_m / 1000:.3f} km uploaded against {live_m / 1000:.3f} km streamed "
            f"({share * 100:.1f} %, limit {settings.LIVE_MISMATCH_KM_SHARE * 100:g} %)."
        ),
        "count": len(live),
        "metres": round(abs(total_m - live_m), 2),
        "line": None,
        "median_m": round(median_m, 1),
        "upload_km": round(total_m / 1000, 3),
        "live_km": round(live_m / 1000, 3),
    }
