"""Trace verification: parsed fixes + approved zones → verified metres and reasons.

Pure functions on numpy/shapely/pyproj; no Django (the parameters arrive as `VerifyParams`,
built from settings by `trips.verification.params`). The rules, their order and every
reason code are documented in docs/verification.md; the short version, in order:

1. Refuse what cannot be measured: no fixes, sentinel or future times, time going
   backwards (never reordered), a trip longer than `max_duration_s`, no driving mode.
2. GCJ-02 → WGS-84 when declared, then the metric CRS.
3. Drop exact duplicate fixes, then speed outliers (implied speed from the last *kept*
   fix above `max_speed_kmh`).
4. Steps between kept fixes: a step longer in time than `max_gap_s` is a gap (no credit);
   a step between two stationary fixes is jitter (no credit); the rest are measured.
5. Autonomous steps (both ends) inside the permit, after the operator became eligible,
   are cut exactly by the union of the zones valid at the step's start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np
import numpy.typing as npt

from core.geo import gcj02_to_wgs84
from routes.zones import ZoneInterval
from trips.parsers import ParsedTrace
from trips.reason_codes import TripReason

from .clean import gaps, project, speed_filter, stationary_fixes, step_lengths
from .findings import (
    Finding,
    first_refusal,
    gap_flags,
    metre_reasons,
    odometer_flag,
    outlier_flags,
)
from .recorder import supported_modes, unsupported_flag
from .times import NS, epoch_ns, local_days, utc_datetime
from .zones import prepare_zones, steps_by_interval, zone_metres

FloatArray = npt.NDArray[np.float64]

VERSION = "verify-1"

# One tag per step between consecutive kept fixes; `VerificationResult.step_tag` holds
# indexes into this tuple (uint8). Outliers are dropped fixes, returned separately.
STEP_TAGS: tuple[str, ...] = (
    "eligible",  # autonomous, permitted, inside an approved zone (at least half of it)
    "outside_zone",  # autonomous and permitted, but mostly outside the approved zones
    "manual",  # at least one end driven manually
    "gap",  # longer than max_gap_s between fixes: no credit
    "stationary",  # both ends stationary: jitter, no credit
    "not_permitted",  # autonomous, but outside the vehicle's permit window
    "operator_not_eligible",  # autonomous and permitted, before the operator was eligible
)
TAG = {name: i for i, name in enumerate(STEP_TAGS)}


@dataclass(frozen=True)
class VerifyParams:
    """Every knob of verification; stored with each result (`asdict` is JSON-ready).

    No defaults: the values are `settings.TRIP_VERIFY`'s (docs/configuration.md), built by
    `trips.verification.params.verify_params`, in production and in tests alike.
    """

    max_speed_kmh: float
    max_gap_s: float
    metric_crs: str
    tz: str
    max_duration_s: float
    # Plausible times: none before 1 January of this year (UTC), none later than
    # `max_future_s` after the verification time (clock skew).
    earliest_year: int
    max_future_s: float
    # Jitter: a fix is stationary when the fixes stop_window_s before and after it are
    # both within stop_radius_m of it; a step between two stationary fixes earns nothing.
    stop_window_s: float
    stop_radius_m: float
    # needs_review thresholds.
    review_outlier_share: float
    review_outlier_run_s: float
    review_gap_share: float
    review_gap_s: float
    review_gap_jump_m: float
    review_odometer_share: float
    review_odometer_min_m: float
    # Grid cell of the exact zone cut (a performance knob; results do not depend on it).
    edge_grid_m: float
    # The recorder against the trace: unsupported autonomous metres that hold a trip.
    review_recorder_share: float
    review_recorder_min_m: float


@dataclass
class VerificationResult:
    outcome: str  # "accepted" | "needs_review" | "rejected"
    started_at: datetime | None
    ended_at: datetime | None
    points_total: int
    points_used: int
    total_m: float
    autonomous_m: float
    eligible_m: float
    disengagements: int
    segment_m: dict[int, float]
    day_m: dict[date, tuple[float, float]]
    reasons: list[Finding]
    lon: FloatArray
    lat: FloatArray
    step_tag: npt.NDArray[np.uint8]
    outlier_lon: FloatArray = field(default_factory=lambda: np.zeros(0))
    outlier_lat: FloatArray = field(default_factory=lambda: np.zeros(0))
    # The kept fixes' times (ns since the epoch, UTC), beside `lon` and `lat`: copy
    # detection and the plausibility checks (trips.replay) read the kept fixes.
    t_ns: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    speed_kmh: FloatArray | None = None  # the file's speed column at the kept fixes
    version: str = VERSION


def _empty(outcome: str, points_total: int, reasons: list[Finding]) -> VerificationResult:
    return VerificationResult(
        outcome=outcome,
        started_at=None,
        ended_at=None,
        points_total=points_total,
        points_used=0,
        total_m=0.0,
        autonomous_m=0.0,
        eligible_m=0.0,
        disengagements=0,
        segment_m={},
        day_m={},
        reasons=reasons,
        lon=np.zeros(0),
        lat=np.zeros(0),
        step_tag=np.zeros(0, dtype=np.uint8),
    )


def verify(  # noqa: PLR0915 - the rules read top to bottom in the order they apply
    trace: ParsedTrace,
    *,
    crs: str,
    default_auto: bool | None,
    zones: Sequence[ZoneInterval],
    permit: tuple[datetime, datetime] | None,
    eligible_from: datetime | None,
    params: VerifyParams,
    now: datetime | None = None,
    recorder_intervals: npt.NDArray[np.int64] | None = None,
) -> VerificationResult:
    """Measure a parsed trace. `crs` is "wgs84" or "gcj02"; see docs/verification.md.

    `permit` None means no valid permit, `eligible_from` None an operator not (yet)
    eligible: the trip is still measured, but nothing is eligible. `recorder_intervals`:
    the data recorder's control intervals ([from, to) epoch ns) where it covers the trip.
    """
    n = len(trace)
    reasons = [
        Finding(note.code, note.message, count=note.count, line=note.line) for note in trace.notes
    ]
    if n == 0:
        return _empty(
            "rejected", 0, [*reasons, Finding(TripReason.NO_FIXES, "The file has no usable fixes.")]
        )
    refusals = first_refusal(
        trace,
        default_auto,
        now or datetime.now(UTC),
        earliest_year=params.earliest_year,
        max_future_s=params.max_future_s,
        max_duration_s=params.max_duration_s,
    )
    if refusals:
        return _empty("rejected", n, reasons + refusals)

    lon, lat = trace.lon, trace.lat
    if crs == "gcj02":
        lon, lat = gcj02_to_wgs84(lon, lat)
    elif crs != "wgs84":
        raise ValueError(f"unknown crs {crs!r}")
    claimed_all = trace.auto if trace.auto is not None else np.full(n, bool(default_auto))
    auto_all = supported_modes(trace.t_ns, claimed_all, recorder_intervals)
    if permit is not None and eligible_from is not None:
        prepare_zones(zones, int(trace.t_ns[0]), int(trace.t_ns[-1]), params.edge_grid_m)

    # Duplicates: a fix identical in time and place to the one before it.
    t_all = trace.t_ns
    dup = np.zeros(n, dtype=bool)
    dup[1:] = (t_all[1:] == t_all[:-1]) & (lon[1:] == lon[:-1]) & (lat[1:] == lat[:-1])
    if dup.any():
        reasons.append(
            Finding(
                TripReason.DUPLICATE,
                "Exact duplicate fixes (same time and place as the previous one) were dropped.",
                count=int(dup.sum()),
                line=trace.line_of(int(np.argmax(dup))),
            )
        )
    # A million fixes make every array 8 MB: where nothing was dropped, views stand in for
    # copies, and pre-filter arrays are released early.
    idx = np.flatnonzero(~dup) if dup.any() else None
    first = slice(None) if idx is None else idx
    x_all, y_all = project(lon[first], lat[first], params.metric_crs)
    t0 = int(t_all[0])
    t_rel = t_all[first] - t0
    # Divided in place (same 8 bytes per element): a second 8 MB array saved, same values.
    t_s_all = np.divide(t_rel, NS, out=t_rel.view(np.float64))
    del t_rel, dup, first
    keep = speed_filter(t_s_all, x_all, y_all, params.max_speed_kmh / 3.6)
    outliers = np.flatnonzero(~keep) if idx is None else idx[~keep]
    kept = np.flatnonzero(keep) if idx is None else idx[keep]
    m = kept.size
    flags: list[Finding] = []
    if outliers.size:
        reasons.append(
            Finding(
                TripReason.SPEED_OUTLIER,
                f"Fixes implying more than {params.max_speed_kmh:g} km/h from the last kept "
                "fix were dropped.",
                count=int(outliers.size),
                line=trace.line_of(int(outliers[0])),
            )
        )
        outlier_flags(
            flags,
            outliers=outliers,
            idx=idx,
            keep=keep,
            t_s=t_s_all,
            n=n,
            trace=trace,
            review_outlier_share=params.review_outlier_share,
            review_outlier_run_s=params.review_outlier_run_s,
        )
    # Kept fixes copied one array at a time, each original released as its copy is made.
    x, y, t_s = x_all, y_all, t_s_all
    del x_all, y_all, t_s_all, idx
    if m < keep.size:
        x = x[keep]
        y = y[keep]
        t_s = t_s[keep]
    del keep
    if m < 2:
        return _empty(
            "rejected",
            n,
            [
                *reasons,
                Finding(TripReason.TOO_FEW_FIXES, "Fewer than two usable fixes remain.", count=m),
            ],
        )

    length = step_lengths(x, y)
    gap, gap_at, gap_dt = gaps(t_s, params.max_gap_s)
    # Flags in their order (outliers, gaps, permit, odometer); done here so that the
    # per-fix times can go before the zone cut, the trip's memory peak.
    gap_flags(
        flags,
        gap_at=gap_at,
        gap_dt=gap_dt,
        length=length,
        t_s=t_s,
        trace=trace,
        kept=kept,
        review_gap_s=params.review_gap_s,
        review_gap_share=params.review_gap_share,
        review_gap_jump_m=params.review_gap_jump_m,
    )
    del gap_at, gap_dt
    still = stationary_fixes(t_s, x, y, params.stop_window_s, params.stop_radius_m)
    del t_s
    stopped = still[:-1] & still[1:] & ~gap
    del still
    gap_m = float(length[gap].sum())
    stopped_m = float(length[stopped].sum())
    # The step lengths become the measured metres in place: one 8 MB array fewer.
    measured = length
    del length
    measured[gap | stopped] = 0.0
    auto = auto_all[kept]
    auto_step = auto[:-1] & auto[1:]
    step_t = t_all[kept[:-1]] if m < n else t_all[:-1]
    started_at, ended_at = utc_datetime(int(t_all[kept[0]])), utc_datetime(int(t_all[kept[-1]]))

    permit_ok = np.zeros(m - 1, dtype=bool)
    if permit is not None:
        permit_ok = (step_t >= epoch_ns(permit[0])) & (step_t < epoch_ns(permit[1]))
    operator_ok = (
        step_t >= epoch_ns(eligible_from)
        if eligible_from is not None
        else np.zeros(m - 1, dtype=bool)
    )
    moving_auto = auto_step & (measured > 0)
    candidates = np.flatnonzero(moving_auto & permit_ok & operator_ok)
    day_names, day_index = local_days(step_t, params.tz)
    intervals = steps_by_interval(candidates, step_t, zones)
    del step_t, candidates
    inside_m, segment_m = zone_metres(
        intervals=intervals,
        x=x,
        y=y,
        length=measured,
        cell_m=params.edge_grid_m,
    )
    del x, y, intervals, moving_auto

    total_m = float(measured.sum())
    autonomous_m = float(measured[auto_step].sum())
    eligible_m = float(inside_m.sum())

    tag = np.full(m - 1, TAG["eligible"], dtype=np.uint8)
    tag[inside_m < 0.5 * measured] = TAG["outside_zone"]
    tag[~operator_ok] = TAG["operator_not_eligible"]
    tag[~permit_ok] = TAG["not_permitted"]
    tag[~auto_step] = TAG["manual"]
    tag[stopped] = TAG["stationary"]
    tag[gap] = TAG["gap"]

    metre_reasons(
        reasons,
        gap=gap,
        stopped=stopped,
        gap_m=gap_m,
        stopped_m=stopped_m,
        measured=measured,
        auto_step=auto_step,
        permit_ok=permit_ok,
        operator_ok=operator_ok,
        inside_m=inside_m,
        permit=permit,
        eligible_from=eligible_from,
        trace=trace,
        kept=kept,
    )
    if permit is not None and permit_ok.any() and not permit_ok.all():
        flags.append(
            Finding(
                TripReason.PERMIT_LAPSED,
                "The vehicle's permit starts or ends during the trip.",
                metres=float(measured[auto_step & ~permit_ok].sum()),
            )
        )
    unsupported_flag(
        flags,
        intervals=recorder_intervals,
        claimed=claimed_all[kept] if recorder_intervals is not None else None,
        auto_step=auto_step,
        measured=measured,
        share=params.review_recorder_share,
        min_m=params.review_recorder_min_m,
    )
    if trace.odometer_km is not None:
        odometer_flag(
            flags,
            trace.odometer_km[kept],
            total_m + gap_m,
            review_odometer_share=params.review_odometer_share,
            review_odometer_min_m=params.review_odometer_min_m,
        )

    day_auto = np.bincount(
        day_index, weights=np.where(auto_step, measured, 0.0), minlength=len(day_names)
    )
    day_elig = np.bincount(day_index, weights=inside_m, minlength=len(day_names))
    day_m = {
        d: (float(day_auto[k]), float(day_elig[k]))
        for k, d in enumerate(day_names)
        if day_auto[k] > 0 or day_elig[k] > 0
    }
    disengagements = int(np.count_nonzero(auto_all[:-1] & ~auto_all[1:]))

    w_lon, w_lat = lon[kept], lat[kept]
    outcome = "needs_review" if flags else "accepted"
    return VerificationResult(
        outcome=outcome,
        started_at=started_at,
        ended_at=ended_at,
        points_total=n,
        points_used=m,
        total_m=total_m,
        autonomous_m=autonomous_m,
        eligible_m=eligible_m,
        disengagements=disengagements,
        segment_m=segment_m,
        day_m=day_m,
        reasons=reasons + flags,
        lon=np.ascontiguousarray(w_lon),
        lat=np.ascontiguousarray(w_lat),
        step_tag=tag,
        outlier_lon=np.ascontiguousarray(lon[outliers]),
        outlier_lat=np.ascontiguousarray(lat[outliers]),
        t_ns=t_all[kept] if m < n else t_all,
        speed_kmh=None if trace.speed_kmh is None else trace.speed_kmh[kept],
    )
