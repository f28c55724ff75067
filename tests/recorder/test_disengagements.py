"""The recorder's pure rules: which exits the system initiated, when the ADS was in control."""

from __future__ import annotations

import numpy as np

from recorder.disengagements import control_intervals, exits_system_initiated, in_intervals

EXIT, REQUEST, OTHER = "x", "r", "o"


def classify(events: list[tuple[int, float, str]], window_s: float = 10.0) -> list[bool]:
    vehicle = np.array([v for v, _t, _k in events], dtype=np.int64)
    t_s = np.array([t for _v, t, _k in events], dtype=np.float64)
    kinds = np.array([k for _v, _t, k in events])
    _exits, system = exits_system_initiated(
        vehicle, t_s, kinds == EXIT, kinds == REQUEST, window_s=window_s
    )
    return [bool(flag) for flag in system]


def test_an_exit_4_s_after_a_takeover_request_is_system_initiated() -> None:
    assert classify([(1, 100.0, REQUEST), (1, 104.0, EXIT)]) == [True]


def test_an_exit_without_a_request_is_driver_initiated() -> None:
    assert classify([(1, 100.0, OTHER), (1, 104.0, EXIT)]) == [False]


def test_a_request_11_s_before_the_exit_is_outside_the_10_s_window() -> None:
    assert classify([(1, 100.0, REQUEST), (1, 111.0, EXIT)]) == [False]


def test_a_request_exactly_10_s_before_counts() -> None:
    assert classify([(1, 100.0, REQUEST), (1, 110.0, EXIT)]) == [True]


def test_a_request_is_answered_by_the_first_exit_only() -> None:
    # The request at 100 s is answered by the exit at 102 s; the exit at 105 s had none.
    assert classify([(1, 100.0, REQUEST), (1, 102.0, EXIT), (1, 105.0, EXIT)]) == [True, False]


def test_another_vehicles_request_does_not_count() -> None:
    # Vehicle 1's request; vehicle 2's exit 1 s later (sorted by vehicle, then time).
    assert classify([(1, 100.0, REQUEST), (2, 101.0, EXIT)]) == [False]


def test_another_vehicles_exit_does_not_answer_this_vehicles_request() -> None:
    events = [(1, 50.0, EXIT), (2, 100.0, REQUEST), (2, 103.0, EXIT)]
    assert classify(events) == [False, True]


def test_mrms_are_not_exits() -> None:
    vehicle = np.array([1, 1], dtype=np.int64)
    exits, system = exits_system_initiated(
        vehicle,
        np.array([1.0, 2.0]),
        np.array([False, False]),
        np.array([False, False]),
        window_s=10,
    )
    assert exits.size == 0
    assert system.size == 0


def test_control_runs_from_activation_to_exit_clipped_to_the_range() -> None:
    t = np.array([10, 20, 25, 40], dtype=np.int64)
    activation = np.array([True, False, True, False])
    exit_ = np.array([False, True, False, False])  # 40 is another kind of event
    intervals = control_intervals(
        t, activation, exit_, start_ns=0, end_ns=30, active_at_start=False
    )
    assert intervals.tolist() == [[10, 20], [25, 30]]


def test_control_already_on_at_the_start_counts_from_the_start() -> None:
    intervals = control_intervals(
        np.array([5], dtype=np.int64),
        np.array([False]),
        np.array([True]),
        start_ns=0,
        end_ns=30,
        active_at_start=True,
    )
    assert intervals.tolist() == [[0, 5]]


def test_a_repeated_activation_does_not_restart_the_interval() -> None:
    intervals = control_intervals(
        np.array([5, 8], dtype=np.int64),
        np.array([True, True]),
        np.array([False, False]),
        start_ns=0,
        end_ns=30,
        active_at_start=False,
    )
    assert intervals.tolist() == [[5, 30]]


def test_instants_inside_half_open_intervals() -> None:
    intervals = np.array([[10, 20], [25, 30]], dtype=np.int64)
    t = np.array([9, 10, 19, 20, 26, 30], dtype=np.int64)
    assert in_intervals(t, intervals).tolist() == [False, True, True, False, True, False]
