"""Verification rules, each on a trace small enough to compute by hand.

Traces are laid out in the metric CRS (EPSG:4547) from a point in Yangquan and turned into
WGS-84 lon/lat, so that "10 m east" in a test is 10 m to well under a millimetre.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
import shapely
from shapely import LineString, box

from core.geo import to_metric, to_wgs84, wgs84_to_gcj02
from routes.zones import Zone, ZoneInterval
from tests.trips.params import params
from tests.trips.tracegen import Leg, generate
from trips.parsers import ParsedTrace
from trips.verification.clean import project, speed_filter
from trips.verification.findings import Finding
from trips.verification.geojson import trace_geojson
from trips.verification.verify import STEP_TAGS, VerificationResult, VerifyParams, verify
from trips.verification.zonecut import edge_grid, inside_fraction

CRS = "EPSG:4547"
_X0, _Y0 = (float(v[0]) for v in to_metric(np.array([113.58]), np.array([37.86]), CRS))
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
ALWAYS = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))
PARAMS = params()


def trace(
    x: list[float] | np.ndarray,
    t_s: list[float] | np.ndarray,
    *,
    y: list[float] | np.ndarray | None = None,
    auto: list[bool] | None = None,
    start: datetime = T0,
) -> ParsedTrace:
    """Fixes at metric offsets (x, y) from the origin, t_s seconds after `start`."""
    xa = np.asarray(x, dtype=float)
    ya = np.zeros_like(xa) if y is None else np.asarray(y, dtype=float)
    lon, lat = to_wgs84(_X0 + xa, _Y0 + ya, CRS)
    t_ns = int(start.timestamp()) * 10**9 + np.round(np.asarray(t_s) * 1e9).astype(np.int64)
    return ParsedTrace(
        t_ns=t_ns,
        lon=lon,
        lat=lat,
        auto=None if auto is None else np.asarray(auto),
        odometer_km=None,
        format="csv",
        notes=[],
        line=np.arange(2, xa.size + 2),
    )


def corridor(x0: float, x1: float, segment_id: int = 1, half_width: float = 15.0) -> Zone:
    return Zone(segment_id, box(_X0 + x0, _Y0 - half_width, _X0 + x1, _Y0 + half_width))


def run(
    parsed: ParsedTrace,
    zones: Sequence[Zone] | Sequence[ZoneInterval],
    *,
    permit: tuple[datetime, datetime] | None = ALWAYS,
    eligible_from: datetime | None = ALWAYS[0],
    crs: str = "wgs84",
    default_auto: bool | None = True,
    params: VerifyParams = PARAMS,
) -> VerificationResult:
    """Verify with `zones` valid all the time (a list of Zone) or as given (ZoneInterval)."""
    plain = [z for z in zones if isinstance(z, Zone)]
    intervals = [z for z in zones if isinstance(z, ZoneInterval)]
    if plain:
        intervals = [ZoneInterval(None, None, tuple(plain))]
    return verify(
        parsed,
        crs=crs,
        default_auto=default_auto,
        zones=intervals,
        permit=permit,
        eligible_from=eligible_from,
        params=params,
        now=datetime(2026, 11, 27, tzinfo=UTC),
    )


def codes(result: VerificationResult) -> list[str]:
    return [r.code for r in result.reasons]


def reason(result: VerificationResult, code: str) -> Finding:
    return next(r for r in result.reasons if r.code == code)


# A 1 km drive due east at 10 m/s, one fix a second: x = 0, 10, ..., 1000.
DRIVE_X = np.arange(101) * 10.0
DRIVE_T = np.arange(101) * 1.0


def test_straight_1km_through_a_corridor_earns_the_part_inside() -> None:
    result = run(trace(DRIVE_X, DRIVE_T), [corridor(200, 700)])
    assert result.outcome == "accepted"
    assert result.total_m == pytest.approx(1000, abs=1e-3)
    assert result.autonomous_m == pytest.approx(1000, abs=1e-3)
    # 700 - 200 = 500 m inside.
    assert result.eligible_m == pytest.approx(500, abs=1e-3)
    assert result.segment_m == {1: pytest.approx(500, abs=1e-3)}
    assert reason(result, "outside_zone").metres == pytest.approx(500, abs=1e-3)
    assert result.points_used == 101


def test_zone_boundary_crossed_mid_step_counts_only_the_part_inside() -> None:
    # Edges at 205 and 705 fall mid-step: 5 m of step 200→210 and 5 m of 700→710 are
    # inside, plus 49 whole steps from 210 to 700: 5 + 490 + 5 = 500 m.
    result = run(trace(DRIVE_X, DRIVE_T), [corridor(205, 705)])
    assert result.eligible_m == pytest.approx(500, abs=1e-3)
    tags = [STEP_TAGS[t] for t in result.step_tag]
    assert tags[20] == "eligible"  # 200→210: half inside; ties count as eligible
    assert tags[19] == "outside_zone"
    assert tags[70] == "outside_zone"  # 700→710 is half inside: 5 m < 5.000...1


def test_zone_approved_mid_trip_counts_from_its_approval() -> None:
    # Until T0+50 s (x < 500) only A = [0, 300] is approved: 300 m. From then on A and
    # B = [600, 1000]: the steps from x = 500 earn B's 400 m. 300 + 400 = 700 m.
    a, b = corridor(0, 300, 1), corridor(600, 1000, 2)
    switch = T0 + timedelta(seconds=50)
    intervals = [ZoneInterval(None, switch, (a,)), ZoneInterval(switch, None, (a, b))]
    result = run(trace(DRIVE_X, DRIVE_T), intervals)
    assert result.eligible_m == pytest.approx(700, abs=1e-3)
    assert result.segment_m == {1: pytest.approx(300, abs=1e-3), 2: pytest.approx(400, abs=1e-3)}


def test_permit_lapsing_mid_trip_stops_credit_and_asks_for_review() -> None:
    # The permit ends at T0+60 s: steps starting at x >= 600 are not permitted (400 m).
    permit = (ALWAYS[0], T0 + timedelta(seconds=60))
    result = run(trace(DRIVE_X, DRIVE_T), [corridor(-10, 1010)], permit=permit)
    assert result.eligible_m == pytest.approx(600, abs=1e-3)
    assert reason(result, "not_permitted").metres == pytest.approx(400, abs=1e-3)
    assert "permit_lapsed" in codes(result)
    assert result.outcome == "needs_review"


def test_no_permit_measures_the_trip_but_earns_nothing() -> None:
    result = run(trace(DRIVE_X, DRIVE_T), [corridor(-10, 1010)], permit=None)
    assert result.outcome == "accepted"
    assert result.autonomous_m == pytest.approx(1000, abs=1e-3)
    assert result.eligible_m == 0.0
    assert reason(result, "not_permitted").metres == pytest.approx(1000, abs=1e-3)


def test_metres_before_the_operator_became_eligible_do_not_count() -> None:
    # Eligible from T0+30 s: steps from x = 300 on count, 700 m.
    result = run(
        trace(DRIVE_X, DRIVE_T), [corridor(-10, 1010)], eligible_from=T0 + timedelta(seconds=30)
    )
    assert result.eligible_m == pytest.approx(700, abs=1e-3)
    assert reason(result, "operator_not_eligible").metres == pytest.approx(300, abs=1e-3)


def test_overlapping_corridors_count_once_and_credit_each_segment() -> None:
    # A = [0, 600] and B = [400, 1000] overlap on [400, 600]: the union is 1000 m;
    # each segment is credited with all of its own length.
    result = run(trace(DRIVE_X, DRIVE_T), [corridor(0, 600, 1), corridor(400, 1000, 2)])
    assert result.eligible_m == pytest.approx(1000, abs=1e-3)
    assert result.segment_m == {1: pytest.approx(600, abs=1e-3), 2: pytest.approx(600, abs=1e-3)}


def test_a_jump_is_dropped_and_the_trace_measured_around_it() -> None:
    # Fix 50 (x = 500) thrown 300 m north: 300 m in 1 s is 1080 km/h. Without it the
    # step 490→510 is 20 m, so the total stays 1000 m.
    y = np.zeros(101)
    y[50] = 300.0
    result = run(trace(DRIVE_X, DRIVE_T, y=y), [])
    assert result.total_m == pytest.approx(1000, abs=1e-3)
    assert result.points_used == 100
    assert reason(result, "speed_outlier").count == 1
    assert reason(result, "speed_outlier").line == 52  # fix 50 is on line 50 + 2
    assert result.outlier_lat.size == 1


def test_a_jump_the_trace_stays_on_is_sent_to_review() -> None:
    # From fix 50 on, 20 fixes (19 s > 10 s) sit 2 km north, then the trace comes back.
    # 2 km is out of reach at 150 km/h (41.7 m/s) for 48 s, so all 20 are dropped.
    y = np.zeros(101)
    y[50:70] = 2000.0
    result = run(trace(DRIVE_X, DRIVE_T, y=y), [])
    assert reason(result, "speed_outlier").count == 20
    assert {"many_outliers", "implausible_jump"} <= set(codes(result))
    assert result.outcome == "needs_review"


def test_a_gap_earns_nothing_and_is_reported_with_its_chord() -> None:
    # No fixes between x = 400 and 600 (t = 40 → 60 s, a 20 s gap): 1000 - 200 = 800 m.
    keep = (DRIVE_X <= 400) | (DRIVE_X >= 600)
    result = run(trace(DRIVE_X[keep], DRIVE_T[keep]), [corridor(-10, 1010)])
    assert result.total_m == pytest.approx(800, abs=1e-3)
    assert result.eligible_m == pytest.approx(800, abs=1e-3)
    gap = reason(result, "gap")
    assert gap.count == 1
    assert gap.metres == pytest.approx(200, abs=1e-3)
    # 20 s of 100 s in gaps is over the 10 % review threshold.
    assert "many_gaps" in codes(result)
    assert [STEP_TAGS[t] for t in result.step_tag].count("gap") == 1


def test_a_ten_minute_stop_with_jitter_adds_almost_nothing() -> None:
    # 10 Hz, 3 m of time-correlated noise, standing still for 600 s: the raw steps add
    # tens of metres; the stationary rule must keep it under 3 m.
    path = LineString([(_X0, _Y0), (_X0 + 1000, _Y0)])
    gen = generate(path, [Leg(seconds=600)], start=T0, noise_m=3.0, seed=3)
    lon, lat = gen.lonlat(CRS)
    parsed = ParsedTrace(gen.t_ns, lon, lat, gen.auto, None, "csv", [], None)
    result = run(parsed, [])
    raw = float(np.hypot(np.diff(gen.x), np.diff(gen.y)).sum())
    assert raw > 20
    assert result.total_m < 3.0
    assert reason(result, "stationary_jitter").count > 5000


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_5_kmh_crawl_keeps_its_length_within_one_percent(seed: int) -> None:
    path = LineString([(_X0, _Y0), (_X0 + 1000, _Y0)])
    gen = generate(path, [Leg(metres=500, speed_kmh=5)], start=T0, noise_m=3.0, seed=seed)
    lon, lat = gen.lonlat(CRS)
    parsed = ParsedTrace(gen.t_ns, lon, lat, gen.auto, None, "csv", [], None)
    result = run(parsed, [])
    # Against the same noisy fixes measured step by step: the rule removes under 1 %.
    # Against the true 500 m the noise's slow drift alone moves the ends by a few metres.
    raw = float(np.hypot(np.diff(gen.x), np.diff(gen.y)).sum())
    assert result.total_m == pytest.approx(raw, rel=0.01)
    assert result.total_m == pytest.approx(500, rel=0.03)


def test_drive_stop_drive_counts_the_drives_not_the_stop() -> None:
    # 300 m at 30 km/h, 5 min standing, 300 m more: the moving steps' own length within
    # 1 %, and the stop adds at most a few metres.
    path = LineString([(_X0, _Y0), (_X0 + 1000, _Y0 + 200)])
    legs = [Leg(metres=300, speed_kmh=30), Leg(seconds=300), Leg(metres=300, speed_kmh=30)]
    gen = generate(path, legs, start=T0, noise_m=4.0, seed=5)
    lon, lat = gen.lonlat(CRS)
    parsed = ParsedTrace(gen.t_ns, lon, lat, gen.auto, None, "csv", [], None)
    moving = np.hypot(np.diff(gen.true_x), np.diff(gen.true_y)) > 0
    raw_moving = float(np.hypot(np.diff(gen.x), np.diff(gen.y))[moving].sum())
    total = run(parsed, []).total_m
    assert raw_moving * 0.99 < total < raw_moving + 3.0


def test_gcj02_input_is_converted_before_measuring() -> None:
    wgs = trace(DRIVE_X, DRIVE_T)
    g_lon, g_lat = wgs84_to_gcj02(wgs.lon, wgs.lat)
    gcj = ParsedTrace(wgs.t_ns, g_lon, g_lat, None, None, "csv", [], wgs.line)
    zones = [corridor(200, 700)]
    assert run(gcj, zones, crs="gcj02").eligible_m == pytest.approx(500, abs=0.01)
    # Read as WGS-84 the same numbers sit some hundred metres off, outside the corridor.
    assert run(gcj, zones, crs="wgs84").eligible_m == 0.0
    assert run(gcj, zones, crs="gcj02").lon == pytest.approx(wgs.lon, abs=1e-8)


def test_new_years_midnight_splits_the_days_by_fix_time_in_shanghai() -> None:
    # Starts 23:59:10 Beijing time on 31 Dec 2025: the steps starting at t < 50 s (500 m)
    # belong to 31 Dec, the other 500 m to 1 Jan 2026.
    start = datetime(2025, 12, 31, 15, 59, 10, tzinfo=UTC)
    result = run(trace(DRIVE_X, DRIVE_T, start=start), [corridor(-10, 1010)])
    assert sorted(result.day_m) == [date(2025, 12, 31), date(2026, 1, 1)]
    assert result.day_m[date(2025, 12, 31)] == pytest.approx((500, 500), abs=1e-3)
    assert result.day_m[date(2026, 1, 1)] == pytest.approx((500, 500), abs=1e-3)


def test_disengagements_count_switches_from_auto_to_manual() -> None:
    # Modes a a m m a m a a a: auto→manual twice. Autonomous steps are those with both
    # ends auto: 0→1, 6→7, 7→8 = 3 steps of 10 m.
    auto = [True, True, False, False, True, False, True, True, True]
    result = run(trace(DRIVE_X[:9], DRIVE_T[:9], auto=auto), [])
    assert result.disengagements == 2
    assert result.autonomous_m == pytest.approx(30, abs=1e-3)
    assert reason(result, "manual").metres == pytest.approx(50, abs=1e-3)
    # Steps 1→2 … 5→6 are manual: one stretch, counted once (not five times).
    assert reason(result, "manual").count == 1


def test_manual_driving_is_counted_in_stretches_not_steps() -> None:
    # Modes m m a a a m m m: manual steps 0→1, 1→2 (ends at the first auto fix), then
    # 4→5 … 6→7: two stretches.
    auto = [False, False, True, True, True, False, False, False]
    result = run(trace(DRIVE_X[:8], DRIVE_T[:8], auto=auto), [])
    assert reason(result, "manual").count == 2


def test_the_declared_mode_applies_when_the_file_has_none() -> None:
    assert run(trace(DRIVE_X, DRIVE_T), [], default_auto=False).autonomous_m == 0.0


def test_no_mode_anywhere_rejects_the_trip() -> None:
    result = run(trace(DRIVE_X, DRIVE_T), [], default_auto=None)
    assert (result.outcome, codes(result)) == ("rejected", ["mode_missing"])


def test_time_going_backwards_rejects_with_the_line() -> None:
    t = DRIVE_T.copy()
    t[30] = 28.5  # fix 30 (line 32) is earlier than fix 29
    result = run(trace(DRIVE_X, t), [])
    assert result.outcome == "rejected"
    assert (reason(result, "time_backwards").line, result.total_m) == (32, 0.0)


@pytest.mark.parametrize(
    "start", [datetime(1901, 12, 13, 20, 45, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)]
)
def test_sentinel_and_future_times_reject_the_trip(start: datetime) -> None:
    result = run(trace(DRIVE_X, DRIVE_T, start=start), [])
    assert (result.outcome, codes(result), result.started_at) == (
        "rejected",
        ["time_implausible"],
        None,
    )


def test_a_trip_longer_than_the_limit_is_rejected() -> None:
    result = run(trace([0.0, 10.0], [0.0, 25 * 3600.0]), [])
    assert codes(result) == ["too_long"]


def test_exact_duplicates_are_dropped_and_counted() -> None:
    result = run(trace([0, 10, 10, 20], [0, 1, 1, 2]), [])
    assert result.points_used == 3
    assert result.total_m == pytest.approx(20, abs=1e-6)
    assert reason(result, "duplicate").count == 1


def test_an_odometer_far_from_the_trace_is_flagged() -> None:
    parsed = trace(DRIVE_X, DRIVE_T)
    parsed.odometer_km = np.linspace(100.0, 102.0, 101)  # 2 km against 1 km measured
    assert "odometer_disagreement" in codes(run(parsed, []))
    parsed.odometer_km = np.linspace(100.0, 101.01, 101)  # 1010 m: within 200 m
    assert run(parsed, []).outcome == "accepted"


def test_the_map_geojson_merges_runs_and_shows_outliers() -> None:
    y = np.zeros(101)
    y[50] = 300.0
    result = run(trace(DRIVE_X, DRIVE_T, y=y), [corridor(200, 700)])
    features = trace_geojson(result)["features"]
    tags = [f["properties"]["tag"] for f in features]
    assert tags == ["outside_zone", "eligible", "outside_zone", "outlier"]
    assert sum(f["properties"].get("steps", 0) for f in features) == 99


def sequential_speed_filter(t: np.ndarray, x: np.ndarray, y: np.ndarray, vmax: float) -> np.ndarray:
    keep = np.ones(t.size, dtype=bool)
    last = 0
    for i in range(1, t.size):
        if np.hypot(x[i] - x[last], y[i] - y[last]) <= vmax * (t[i] - t[last]):
            last = i
        else:
            keep[i] = False
    return keep


@pytest.mark.parametrize("seed", range(5))
def test_vectorised_speed_filter_equals_the_sequential_rule(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 3000
    t = np.cumsum(rng.choice([0.0, 0.1, 1.0, 30.0], n, p=[0.02, 0.9, 0.07, 0.01]))
    x = np.cumsum(rng.normal(0, 2, n))
    y = np.cumsum(rng.normal(0, 2, n))
    hit = rng.random(n) < 0.02
    x[hit] += rng.uniform(-500, 500, hit.sum())
    x[1500:1700] += 2000  # a long excursion
    expected = sequential_speed_filter(t, x, y, 150 / 3.6)
    assert np.array_equal(speed_filter(t, x, y, 150 / 3.6), expected)


def test_zone_cut_equals_shapely_intersection_on_random_steps() -> None:
    rng = np.random.default_rng(7)
    roads = [
        LineString(np.cumsum(rng.normal(0, 40, (30, 2)), axis=0) + rng.uniform(0, 300, 2)).buffer(
            12
        )
        for _ in range(6)
    ]
    polygon = shapely.union_all(roads)
    pts = np.cumsum(rng.normal(0, 3, (5000, 2)), axis=0) + 150
    px, py, qx, qy = pts[:-1, 0], pts[:-1, 1], pts[1:, 0], pts[1:, 1]
    length = np.hypot(qx - px, qy - py)
    keep = length <= 8
    chain = np.ones(int(keep.sum()), dtype=bool)
    idx = np.flatnonzero(keep)
    chain[1:] = idx[1:] != idx[:-1] + 1
    frac = inside_fraction(
        edge_grid(polygon, 8.0),
        px=px[keep],
        py=py[keep],
        qx=qx[keep],
        qy=qy[keep],
        chain_start=chain,
    )
    lines = shapely.linestrings(np.stack([pts[:-1], pts[1:]], axis=1)[keep])
    exact = shapely.length(shapely.intersection(lines, polygon))
    assert np.allclose(frac * length[keep], exact, atol=1e-6)


def test_a_junction_credits_both_segments_for_the_shared_square() -> None:
    # Road A runs east through the drive (x -10..1010); road B crosses it north-south,
    # 30 m wide (x 485..515). The union is A's 1000 m; A gets 1000 m, B the 30 m of the
    # drive inside it.
    road_b = Zone(2, box(_X0 + 485, _Y0 - 500, _X0 + 515, _Y0 + 500))
    result = run(trace(DRIVE_X, DRIVE_T), [corridor(-10, 1010, 1), road_b])
    assert result.eligible_m == pytest.approx(1000, abs=1e-3)
    assert result.segment_m == {1: pytest.approx(1000, abs=1e-3), 2: pytest.approx(30, abs=1e-3)}


def test_the_fast_projection_of_big_traces_agrees_with_pyproj_to_a_millimetre() -> None:
    rng = np.random.default_rng(0)
    lon = 113.4 + rng.random(50_000) * 0.5
    lat = 37.7 + rng.random(50_000) * 0.4
    x, y = project(lon, lat, CRS)
    ex, ey = to_metric(lon, lat, CRS)
    assert np.abs(x - ex).max() < 1e-3
    assert np.abs(y - ey).max() < 1e-3


def test_reasons_carry_plain_numbers_never_numpy_ones() -> None:
    # An outlier 5 km away at 3 s, a 400 s gap, manual driving at the end, no zones: every
    # kind of reason, and each must read (and store as JSON) as plain numbers.
    x = [0.0, 10, 20, 5000, 30, 40, 50, 60, 70]
    t = [0.0, 1, 2, 3, 4, 5, 405, 406, 407]
    auto = [True] * 6 + [False] * 3
    result = run(trace(x, t, auto=auto), [], default_auto=None)
    assert {"speed_outlier", "gap", "long_gap", "manual", "outside_zone"} <= set(codes(result))
    for r in result.reasons:
        assert "np." not in r.message
        assert type(r.count) is int
        assert type(r.metres) is float
        assert r.line is None or type(r.line) is int
