"""When a vehicle last moved, found as fixes are stored (telemetry.heads): what it proves."""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.conf import settings

from core.geo import to_metric
from telemetry.heads import Anchors, distance_m

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
LAT, LON = 37.86, 113.58
FAR_M = 30.6  # 2 x 15 m x 1.02
# About one metre east at this latitude, in degrees: 1 / (6,371,008.8 x cos(37.86°) x π / 180).
EAST_M = 1 / (6_371_008.8 * 0.789_5 * 3.141_592_65 / 180)


def fixes(metres_east: list[float], pk: int = 1) -> list[tuple[int, float, float, dt.datetime]]:
    """One fix a second from T0, at these distances east."""
    return [
        (pk, LAT, LON + m * EAST_M, T0 + dt.timedelta(seconds=i)) for i, m in enumerate(metres_east)
    ]


def test_distance_agrees_with_the_sweeps_projected_metres_well_within_the_margin() -> None:
    # The exact rule measures in METRIC_CRS; FAR_MARGIN (2 %) must cover the difference.
    for dlat, dlon in ((0.0, 0.001), (0.001, 0.0), (0.0003, 0.0003)):
        x, y = to_metric(
            np.array([LON, LON + dlon]), np.array([LAT, LAT + dlat]), settings.METRIC_CRS
        )
        projected = float(np.hypot(x[1] - x[0], y[1] - y[0]))
        assert abs(distance_m(LAT, LON, LAT + dlat, LON + dlon) / projected - 1) < 0.005


def test_a_vehicle_driving_10_m_a_second_moved_within_the_last_few_seconds() -> None:
    moved = Anchors(FAR_M).moved(fixes([10.0 * i for i in range(100)]))
    # Anchors at 0, 40, 80 m ... (each the first fix more than 30.6 m on): 0 s, 4 s, ...,
    # 96 s; the latest pair is (92 s, 96 s): moved at 92 s.
    assert moved == {1: T0 + dt.timedelta(seconds=92)}


def test_a_vehicle_within_30_m_never_counts_as_moved() -> None:
    assert Anchors(FAR_M).moved(fixes([30.0 if i % 2 else 0.0 for i in range(300)])) == {}


def test_the_anchor_carries_over_from_one_batch_to_the_next() -> None:
    anchors = Anchors(FAR_M)
    assert anchors.moved(fixes([0.0])) == {}
    assert anchors.moved(fixes([0.0, 20.0])[1:]) == {}
    assert anchors.moved(fixes([0.0, 20.0, 31.0])[2:]) == {1: T0}  # (0 s at 0 m, 2 s at 31 m)
    # Moving on: the next pair (2 s, 4 s) is less than 10 s later: not handed out again.
    assert anchors.moved(fixes([0.0, 20.0, 31.0, 40.0, 62.0])[3:]) == {}
