"""Findings: the refusals that make a file unmeasurable, the flags that send a trip to
review, and the reasons metres or fixes earned nothing. Each is a `Finding` with its code
(docs/verification.md lists them), a message with this trip's figures, and its line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from trips.parsers import ParsedTrace
from trips.reason_codes import TripReason

from .times import NS, epoch_ns, utc_datetime

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Finding:
    code: TripReason
    message: str
    count: int = 0
    metres: float = 0.0
    line: int | None = None


def first_refusal(
    trace: ParsedTrace,
    default_auto: bool | None,
    now: datetime,
    *,
    earliest_year: int,
    max_future_s: float,
    max_duration_s: float,
) -> list[Finding]:
    """The reasons that make the file unmeasurable; first found, with its line."""
    t = trace.t_ns
    earliest = epoch_ns(datetime(earliest_year, 1, 1, tzinfo=UTC))
    latest = epoch_ns(now) + int(max_future_s * NS)
    bad = (t < earliest) | (t > latest)
    if bad.any():
        i = int(np.argmax(bad))
        return [
            Finding(
                TripReason.TIME_IMPLAUSIBLE,
                f"Fix time {utc_datetime(int(t[i])).isoformat()} is before {earliest_year} or in "
                "the future: a receiver's placeholder, not a real time.",
                count=int(bad.sum()),
                line=trace.line_of(i),
            )
        ]
    back = np.flatnonzero(np.diff(t) < 0)
    if back.size:
        i = int(back[0]) + 1
        return [
            Finding(
                TripReason.TIME_BACKWARDS,
                "Time goes backwards; fixes are never reordered, so the log cannot be "
                "measured. Export it in recording order.",
                count=int(back.size),
                line=trace.line_of(i),
            )
        ]
    duration = (int(t[-1]) - int(t[0])) / NS
    if duration > max_duration_s:
        return [
            Finding(
                TripReason.TOO_LONG,
                f"The trip lasts {duration / 3600:.1f} h; the limit is "
                f"{max_duration_s / 3600:.1f} h. Upload one file per trip.",
            )
        ]
    if trace.auto is None and default_auto is None:
        return [
            Finding(
                TripReason.MODE_MISSING,
                "The file carries no driving mode and the upload declared none.",
            )
        ]
    return []


def outlier_flags(
    flags: list[Finding],
    *,
    outliers: IntArray,
    idx: IntArray | None,
    keep: BoolArray,
    t_s: FloatArray,
    n: int,
    trace: ParsedTrace,
    review_outlier_share: float,
    review_outlier_run_s: float,
) -> None:
    if outliers.size > review_outlier_share * n:
        flags.append(
            Finding(
                TripReason.MANY_OUTLIERS,
                f"{outliers.size} of {n} fixes were speed outliers (review above "
                f"{review_outlier_share:.0%}).",
                count=int(outliers.size),
            )
        )
    # A run of dropped fixes lasting long is a jump the trace stayed on: the receiver or
    # the kept part is wrong, and a person should look.
    padded = np.zeros(keep.size + 2, dtype=np.int8)  # int8: a byte per fix, not 8
    np.logical_not(keep, out=padded[1:-1], casting="unsafe")
    edges = np.diff(padded)
    run_start, run_end = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    span = t_s[run_end] - t_s[run_start]
    long_runs = np.flatnonzero(span > review_outlier_run_s)
    if long_runs.size:
        first = int(run_start[long_runs[0]])
        flags.append(
            Finding(
                TripReason.IMPLAUSIBLE_JUMP,
                f"The trace jumped away and stayed there for more than {review_outlier_run_s:g} s.",
                count=int(long_runs.size),
                line=trace.line_of(first if idx is None else int(idx[first])),
            )
        )


def metre_reasons(
    reasons: list[Finding],
    *,
    gap: BoolArray,
    stopped: BoolArray,
    gap_m: float,
    stopped_m: float,
    measured: FloatArray,
    auto_step: BoolArray,
    permit_ok: BoolArray,
    operator_ok: BoolArray,
    inside_m: FloatArray,
    permit: tuple[datetime, datetime] | None,
    eligible_from: datetime | None,
    trace: ParsedTrace,
    kept: IntArray,
) -> None:
    """Why metres earned nothing, one reason per cause, in the order the rules apply."""
    if gap.any():
        first = int(np.argmax(gap))
        reasons.append(
            Finding(
                TripReason.GAP,
                "Time gaps between fixes: the straight line across a gap is a guess and earns "
                "nothing.",
                count=int(gap.sum()),
                metres=gap_m,
                line=trace.line_of(int(kept[first + 1])),
            )
        )
    if stopped.any():
        reasons.append(
            Finding(
                TripReason.STATIONARY_JITTER,
                "Position noise while the vehicle stood still was not counted.",
                count=int(stopped.sum()),
                metres=stopped_m,
            )
        )
    manual = ~auto_step & (measured > 0)
    if manual.any():
        reasons.append(
            Finding(
                TripReason.MANUAL,
                "Driven manually (at least one end of the step).",
                # Counted in stretches of consecutive manual steps, as a reader counts them:
                # one manual stretch of 51 fixes is driven manually once, not 51 times.
                count=int(manual[0]) + int((manual[1:] & ~manual[:-1]).sum()),
                metres=float(measured[manual].sum()),
            )
        )
    auto_m = np.where(auto_step, measured, 0.0)
    no_permit = auto_m[~permit_ok].sum()
    if no_permit > 0:
        reasons.append(
            Finding(
                TripReason.NOT_PERMITTED,
                "Driven while the vehicle had no valid permit."
                if permit is None
                else "Driven outside the vehicle's permit window.",
                metres=float(no_permit),
            )
        )
    not_eligible = auto_m[permit_ok & ~operator_ok].sum()
    if not_eligible > 0:
        reasons.append(
            Finding(
                TripReason.OPERATOR_NOT_ELIGIBLE,
                "Driven before the company was both settled in Yangquan and admitted to the pilot."
                if eligible_from is not None
                else "The company is not (yet) eligible for the pilot.",
                metres=float(not_eligible),
            )
        )
    outside = auto_m[permit_ok & operator_ok].sum() - inside_m.sum()
    if outside > 1e-6:
        reasons.append(
            Finding(
                TripReason.OUTSIDE_ZONE,
                "Driven outside the road segments and zones approved at that time.",
                metres=float(outside),
            )
        )


def gap_flags(
    flags: list[Finding],
    *,
    gap_at: IntArray,
    gap_dt: FloatArray,
    length: FloatArray,
    t_s: FloatArray,
    trace: ParsedTrace,
    kept: IntArray,
    review_gap_s: float,
    review_gap_share: float,
    review_gap_jump_m: float,
) -> None:
    """Review flags for gaps; `gap_at` are the gap steps, `gap_dt` their durations."""
    if not gap_at.size:
        return
    duration = float(t_s[-1] - t_s[0])
    long_gap = gap_at[gap_dt > review_gap_s]
    if long_gap.size:
        first = int(long_gap[0])
        flags.append(
            Finding(
                TripReason.LONG_GAP,
                f"The log stops for more than {review_gap_s:g} s "
                f"(longest {float(gap_dt.max()):.0f} s).",
                count=int(long_gap.size),
                metres=float(length[long_gap].sum()),
                line=trace.line_of(int(kept[first + 1])),
            )
        )
    gap_time = float(gap_dt.sum())
    if duration > 0 and gap_time > review_gap_share * duration:
        flags.append(
            Finding(
                TripReason.MANY_GAPS,
                f"{gap_time / duration:.0%} of the trip's time is in gaps (review above "
                f"{review_gap_share:.0%}).",
                count=int(gap_at.size),
            )
        )
    jump = gap_at[length[gap_at] > review_gap_jump_m]
    if jump.size:
        first = int(jump[0])
        flags.append(
            Finding(
                TripReason.GAP_JUMP,
                f"The vehicle reappeared more than {review_gap_jump_m:g} m away after a gap.",
                count=int(jump.size),
                metres=float(length[jump].sum()),
                line=trace.line_of(int(kept[first + 1])),
            )
        )


def odometer_flag(
    flags: list[Finding],
    odometer_km: FloatArray,
    trace_m: float,
    *,
    review_odometer_share: float,
    review_odometer_min_m: float,
) -> None:
    """Compare the odometer's advance with the trace (measured metres + gap chords)."""
    known = odometer_km[np.isfinite(odometer_km)]
    if known.size < 2:
        return
    odometer_m = float(known[-1] - known[0]) * 1000.0
    tolerance = max(review_odometer_share * max(odometer_m, trace_m), review_odometer_min_m)
    if abs(odometer_m - trace_m) > tolerance:
        flags.append(
            Finding(
                TripReason.ODOMETER_DISAGREEMENT,
                f"The odometer advanced {odometer_m:.0f} m but the trace measures {trace_m:.0f} m.",
                metres=abs(odometer_m - trace_m),
            )
        )
