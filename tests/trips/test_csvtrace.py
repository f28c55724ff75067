"""The hand-made test drives (tests/trips/csvtrace.py) are honest, distinct recordings."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.trips.csvtrace import metres_per_degree_lon, straight_east
from trips import parsers
from trips.replay import fingerprint
from trips.replay.match import is_copy, measure
from trips.replay.params import DEFAULT_REPLAY_PARAMS, ReplayParams
from trips.verification.clean import project, step_lengths

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
PARAMS = ReplayParams.from_mapping(DEFAULT_REPLAY_PARAMS)


def parsed(data: bytes) -> parsers.ParsedTrace:
    return parsers.parse(data, fmt="csv", max_points=100_000)


@pytest.mark.parametrize("metres", [250, 300, 600, 1000])
def test_two_calls_with_the_same_arguments_are_not_copies_of_each_other(metres: int) -> None:
    # The flake this guards: seeds from a per-process counter gave two pytest workers the
    # same drive, which the replay detector rightly held as a near copy.
    for _ in range(20):
        a, b = (parsed(straight_east(start=T0, metres=metres)) for _ in range(2))
        sig_a = fingerprint(a.lon, a.lat, a.t_ns, params=PARAMS)
        sig_b = fingerprint(b.lon, b.lat, b.t_ns, params=PARAMS)
        assert sig_a is not None
        assert sig_b is not None
        match = measure(sig_a, sig_b, params=PARAMS)
        assert match is not None  # the same road at the same time: they do overlap
        assert not is_copy(match, params=PARAMS)


@pytest.mark.parametrize("metres", [100, 1000, 2000])
def test_a_drive_measures_its_length_and_ends_where_asked(metres: int) -> None:
    trace = parsed(straight_east(start=T0, lon0=113.55, metres=metres))
    x, y = project(trace.lon, trace.lat, "EPSG:4547")
    # 2e-5: the scale of the Gauss-Krüger projection 0.45° west of its central meridian;
    # 1 cm: the fixes' seven decimals.
    assert step_lengths(x, y).sum() == pytest.approx(metres, rel=3e-5, abs=0.01)
    assert len(trace) == metres // 10 + 1
    # It ends `metres` east of where it started, less what the error across the road took.
    assert 0.95 * metres < (trace.lon[-1] - 113.55) * metres_per_degree_lon(37.86) <= metres
