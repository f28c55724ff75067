"""The recorder's rules, pure (numpy in, numpy out; no Django): disengagements and the
intervals the ADS was in control. docs/recorder.md states them; every caller (scorecard,
report, trip verification) uses these functions, so each rule is written once.

A **disengagement** is an exit from the ADS to human control (a `deactivation` event). It is
**system-initiated** when a takeover request of the same vehicle came at most `window_s`
seconds before the exit and after the vehicle's previous exit (a request is answered by the
first exit after it), and **driver-initiated** otherwise. Minimum-risk manoeuvres are
counted apart, never as disengagements.

The ADS is **in control** from an `activation` to the next `deactivation` of the vehicle;
other events do not change it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def exits_system_initiated(
    vehicle: IntArray,
    t_s: FloatArray,
    is_exit: BoolArray,
    is_request: BoolArray,
    *,
    window_s: float,
) -> tuple[IntArray, BoolArray]:
    """The exits among events sorted by (vehicle, time), and whether each was system-initiated.

    Returns (indexes of the exits, True where system-initiated). Events other than exits and
    takeover requests may be present; they are ignored. Vectorised: one pass over any number
    of vehicles.
    """
    n = len(t_s)
    index = np.arange(n, dtype=np.int64)
    # Each event's vehicle's first index (events are sorted by vehicle).
    starts = np.zeros(n, dtype=np.int64)
    if n:
        new_vehicle = np.r_[True, vehicle[1:] != vehicle[:-1]]
        starts = np.maximum.accumulate(np.where(new_vehicle, index, 0))
    # The latest request at or before each event, and the latest exit before each exit.
    last_request = np.maximum.accumulate(np.where(is_request, index, -1)) if n else index
    exits = np.flatnonzero(is_exit).astype(np.int64)
    previous_exit = np.r_[np.int64(-1), exits[:-1]] if len(exits) else exits
    own_start = starts[exits]
    request = last_request[exits]
    answered = (request >= own_start) & (request > previous_exit)
    safe = np.where(answered, request, 0)
    delay = t_s[exits] - t_s[safe]
    return exits, answered & (delay >= 0) & (delay <= window_s)


def control_intervals(
    t_ns: IntArray,
    is_activation: BoolArray,
    is_exit: BoolArray,
    *,
    start_ns: int,
    end_ns: int,
    active_at_start: bool,
) -> IntArray:
    """The intervals [from, to) in which the ADS was in control, clipped to [start, end].

    `t_ns` are one vehicle's activations and exits (others may be present and are ignored)
    between `start_ns` and `end_ns`, sorted; `active_at_start` is the state the events before
    `start_ns` left. Returns a (k, 2) int64 array of nanoseconds.
    """
    keep = is_activation | is_exit
    times = t_ns[keep]
    on = is_activation[keep]
    # The state after each event; a run of the same state keeps its first change.
    state = np.r_[active_at_start, on]
    moments = np.r_[np.int64(start_ns), times]
    changes = np.r_[True, state[1:] != state[:-1]]
    state, moments = state[changes], moments[changes]
    ends = np.r_[moments[1:], np.int64(end_ns)]
    intervals = np.column_stack([moments[state], ends[state]]).astype(np.int64)
    return intervals[intervals[:, 1] > intervals[:, 0]]


def in_intervals(t_ns: IntArray, intervals: IntArray) -> BoolArray:
    """Whether each instant lies inside one of the sorted, disjoint [from, to) intervals."""
    if len(intervals) == 0:
        return np.zeros(len(t_ns), dtype=bool)
    k = np.searchsorted(intervals[:, 0], t_ns, side="right") - 1
    safe = np.maximum(k, 0)
    inside: BoolArray = (k >= 0) & (t_ns < intervals[safe, 1])
    return inside
