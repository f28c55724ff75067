"""The stream head kept per terminal (telemetry.heads): what it proves and what it flags."""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.conf import settings

from core.geo import to_metric
from telemetry.heads import Head, Seen, advance, distance_m

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
LAT, LON = 37.86, 113.58
METRIC_CRS = settings.METRIC_CRS
FAR_M = 30.6  # 2 x 15 m x 1.02
# About one metre east at this latitude, in degrees: 1 / (6,371,008.8 x cos(37.86°) x π / 180).
EAST_M = 1 / (6_371_008.8 * 0.789_5 * 3.141_592_65 / 180)


def seen(second: int, east_m: float, received_s: float | None = None) -> Seen:
    received = T0 + dt.timedelta(seconds=second if received_s is None else received_s)
    return Seen(T0 + dt.timedelta(seconds=second), received, LAT, LON + east_m * EAST_M)


def test_distance_agrees_with_the_sweeps_projected_metres_well_within_the_margin() -> None:
    # The exact rule measures in METRIC_CRS; FAR_MARGIN (2 %) must cover the difference.
    for dlat, dlon in ((0.0, 0.001), (0.001, 0.0), (0.0003, 0.0003)):
        x, y = to_metric(np.array([LON, LON + dlon]), np.array([LAT, LAT + dlat]), METRIC_CRS)
        projected = float(np.hypot(x[1] - x[0], y[1] - y[0]))
        assert abs(distance_m(LAT, LON, LAT + dlat, LON + dlon) / projected - 1) < 0.005


def test_a_vehicle_driving_10_m_a_second_moved_within_the_last_few_seconds() -> None:
    head = advance(Head(), [seen(i, 10.0 * i) for i in range(100)], far_m=FAR_M, closed_until=None)
    # Anchors at 0, 40, 80 m ... (each the first fix more than 30.6 m on): 0 s, 4 s, ...,
    # 96 s; the latest pair is (92 s, 96 s), so it moved at 92 s.
    assert head.moved_at == T0 + dt.timedelta(seconds=92)
    assert head.last_fix_at == T0 + dt.timedelta(seconds=99)
    assert head.late_received_at is None


def test_a_vehicle_within_30_m_never_counts_as_moved() -> None:
    fixes = [seen(i, 30.0 if i % 2 else 0.0) for i in range(300)]  # 30 m back and forth
    head = advance(Head(), fixes, far_m=FAR_M, closed_until=None)
    assert head.moved_at is None


def test_the_anchor_carries_over_from_one_batch_to_the_next() -> None:
    head = advance(Head(), [seen(0, 0.0)], far_m=FAR_M, closed_until=None)
    head = advance(head, [seen(1, 20.0)], far_m=FAR_M, closed_until=None)
    assert head.moved_at is None
    head = advance(head, [seen(2, 31.0)], far_m=FAR_M, closed_until=None)
    assert head.moved_at == T0  # the pair (0 s at 0 m, 2 s at 31 m)


def test_a_fix_at_or_before_the_newest_stored_or_the_close_is_flagged_late() -> None:
    head = advance(Head(), [seen(i, 0.0) for i in range(10)], far_m=FAR_M, closed_until=None)
    assert head.late_received_at is None
    head = advance(head, [seen(5, 0.0, received_s=50)], far_m=FAR_M, closed_until=None)
    assert head.late_received_at == T0 + dt.timedelta(seconds=50)
    closed = T0 + dt.timedelta(seconds=20)  # another terminal's fixes closed the trip there
    head = advance(head, [seen(15, 0.0, received_s=60)], far_m=FAR_M, closed_until=closed)
    assert head.late_received_at == T0 + dt.timedelta(seconds=60)
    assert head.last_fix_at == T0 + dt.timedelta(seconds=15)
