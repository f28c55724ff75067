"""Copy (replay) detection and plausibility flags: trips.replay, pure (no database)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from shapely import LineString

from core.geo import to_metric, to_wgs84
from tests.trips.replaygen import (
    CRS,
    DAY_NS,
    ORIGIN,
    drive_legs,
    nudged,
    retimed,
    shifted,
    thinned,
    to_gpx,
    winding_road,
)
from tests.trips.tracegen import START, Leg, Trace, generate, to_csv
from trips.parsers import ParsedTrace, parse
from trips.replay import (
    DEFAULT_REPLAY_PARAMS,
    ReplayIndex,
    ReplayParams,
    ShapeSignature,
    acceleration,
    confirm,
    find_copy,
    fingerprint,
    fix_fingerprint,
    measure,
    plausibility_flags,
    speed_disagreement,
    straightness,
)

P = ReplayParams(**DEFAULT_REPLAY_PARAMS)
# ../shared/real-traces beside the clone, or beside the folder of worktrees holding it.
REAL = next(
    (
        p / "shared" / "real-traces"
        for p in Path(__file__).resolve().parents[2].parents
        if (p / "shared" / "real-traces").is_dir()
    ),
    Path("shared/real-traces"),
)
ROAD = winding_road(np.random.default_rng(11))  # 60 × 50 m = 3 km
LEGS = drive_legs(np.random.default_rng(12), ROAD.length)


def recording(seed: int = 1, *, legs: list[Leg] | None = None, noise_m: float = 3.0) -> Trace:
    """A 10 Hz drive along ROAD with 3 m noise correlated over 30 s."""
    return generate(
        ROAD, legs or LEGS, start=START, hz=10, noise_m=noise_m, noise_tau_s=30, seed=seed
    )


def signature(trace: Trace) -> ShapeSignature:
    lon, lat = trace.lonlat(CRS)
    sig = fingerprint(lon, lat, trace.t_ns, params=P)
    assert sig is not None
    return sig


def of_parsed(trace: ParsedTrace) -> ShapeSignature:
    sig = fingerprint(trace.lon, trace.lat, trace.t_ns, params=P)
    assert sig is not None
    return sig


@pytest.fixture(scope="module")
def original() -> ShapeSignature:
    return signature(recording())


# -- Exact fingerprint of the fixes ------------------------------------------------------


def test_same_fixes_as_csv_and_as_gpx_have_one_fingerprint() -> None:
    csv = parse(to_csv(recording()))
    gpx = parse(to_gpx(csv.lon, csv.lat, csv.t_ns))
    assert (csv.format, gpx.format) == ("csv", "gpx")
    assert fix_fingerprint(gpx.lon, gpx.lat, gpx.t_ns) == fix_fingerprint(
        csv.lon, csv.lat, csv.t_ns
    )


def test_other_columns_do_not_change_the_fingerprint() -> None:
    data = to_csv(recording())
    header, *rows = data.decode().splitlines()
    more = "\n".join([f"{header},speed_kmh"] + [f"{r},36.0" for r in rows]) + "\n"
    plain, wider = parse(data), parse(more.encode())
    assert fix_fingerprint(wider.lon, wider.lat, wider.t_ns) == fix_fingerprint(
        plain.lon, plain.lat, plain.t_ns
    )


def test_one_fix_moved_a_few_decimetres_changes_the_fingerprint() -> None:
    trace = parse(to_csv(recording()))
    before = fix_fingerprint(trace.lon, trace.lat, trace.t_ns)
    lat = trace.lat.copy()
    lat[100] += 3e-6  # 3e-6° of latitude ≈ 0.33 m, three steps of the 1e-6° rounding
    assert fix_fingerprint(trace.lon, lat, trace.t_ns) != before


def test_the_same_fixes_a_day_later_have_another_fingerprint() -> None:
    # Absolute time is part of the fixes: a re-timed copy is a near copy, found below.
    trace = parse(to_csv(recording()))
    assert fix_fingerprint(trace.lon, trace.lat, trace.t_ns + DAY_NS) != fix_fingerprint(
        trace.lon, trace.lat, trace.t_ns
    )


# -- Near copies -------------------------------------------------------------------------


def test_copy_a_day_later_with_nudges_within_a_metre_is_found(original: ShapeSignature) -> None:
    copy = signature(nudged(retimed(recording(), 86_400), np.random.default_rng(3), 1.0))
    match = confirm(copy, original, params=P)
    assert match is not None
    # Nudges uniform in a 1 m disc average 2/3 m, and the 1 s moving average over 10 Hz
    # fixes (11 of them) divides independent nudges by √11 ≈ 3.3: ~0.2 m, plus the 0.1 m
    # storage grid and interpolation. Nearly all of the length is within 2 m.
    assert match.median_distance_m < 0.5
    assert match.matched_share > 0.95
    # Relative times are unchanged by the move to another day: offset 0 s (to 0.1 s).
    assert match.time_offset_s == pytest.approx(0.0, abs=0.1)


def test_copy_shifted_by_one_metre_is_found(original: ShapeSignature) -> None:
    match = confirm(signature(shifted(recording(), 0.6, 0.8)), original, params=P)
    assert match is not None
    # √(0.6² + 0.8²) = 1.0 m everywhere. The time offset (a median) takes up the part
    # along the road at the typical speed, so what is left is mostly the part across it:
    # between 0 and 1 m, never more than 1 m plus the ~0.1 m of grid and interpolation.
    assert 0.1 < match.median_distance_m <= 1.1
    assert match.path_median_m <= 1.1
    assert match.matched_share > 0.95


@pytest.mark.parametrize(("every", "first"), [(10, 0), (10, 7), (2, 0), (2, 1)])
def test_thinned_copy_is_found(original: ShapeSignature, every: int, first: int) -> None:
    match = confirm(signature(thinned(recording(), every, first)), original, params=P)
    assert match is not None
    # The same fixes, fewer of them: only interpolation between 1 s fixes separates them.
    assert match.median_distance_m < 0.5
    assert match.matched_share > 0.95


def test_copy_on_another_vehicle_in_another_format_is_found_in_the_index() -> None:
    # Trip 1 (vehicle A) uploaded a CSV; trip 3 (vehicle B) uploads the same recording,
    # a day later and as GPX. Trip 2 is the same route driven honestly by vehicle A.
    first = parse(to_csv(recording()))
    honest = signature(recording(seed=2, legs=drive_legs(np.random.default_rng(5), ROAD.length)))
    stored = {1: of_parsed(first), 2: honest}
    index = ReplayIndex(P.scheme())
    for trip_id, sig in stored.items():
        index.add(trip_id, sig)
    copy = parse(to_gpx(first.lon, first.lat, first.t_ns + DAY_NS))
    found = find_copy(of_parsed(copy), index, stored.get, params=P)
    assert found is not None
    trip_id, match = found
    assert trip_id == 1
    # The same fixes at the same relative times: only the 0.1 m storage grid between them.
    assert match.median_distance_m < 0.1
    assert match.matched_share > 0.99


@pytest.mark.parametrize("seed", range(5))
def test_honest_repeat_of_the_route_is_not_a_copy(original: ShapeSignature, seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    repeat = generate(
        ROAD,
        drive_legs(rng, ROAD.length),
        start=START,
        hz=10,
        noise_m=float(rng.uniform(2, 5)),
        noise_tau_s=float(rng.uniform(20, 60)),
        seed=200 + seed,
    )
    sig = signature(repeat)
    assert confirm(sig, original, params=P) is None
    match = measure(sig, original, params=P)
    assert match is not None
    # It is on the same road: most of the path is within 10 m (two receivers' noise, each
    # 2–5 m per axis, differ by σ√2 ≈ 3–7 m; across the road about 0.67 × that at the
    # median)... but time-aligned it is off by its own speed profile: tens of metres.
    assert match.overlap_share > 0.5
    assert 0.5 < match.path_median_m < 8
    assert match.median_distance_m > 10


def test_honest_repeat_at_the_same_speed_profile_is_not_a_copy(original: ShapeSignature) -> None:
    # Even with the very same legs, two receivers' noise (3 m each per axis) differ by
    # 3√2 ≈ 4.2 m per axis; the time-aligned distance (2-D) has median 4.2 × 1.18 ≈ 5 m.
    match = measure(signature(recording(seed=9)), original, params=P)
    assert match is not None
    assert match.median_distance_m > 2.5
    # And the difference wanders by metres around its median: no rigid shift explains it.
    assert match.spread_m > 1.0
    assert confirm(signature(recording(seed=9)), original, params=P) is None


def test_honest_repeats_rarely_share_a_band_key_with_the_original(
    original: ShapeSignature,
) -> None:
    # 6 m cells: a copy keeps ~3/4 of its band keys, an honest repeat ~1 in 100.
    shared = [
        len(set(signature(recording(seed=50 + k)).band_keys) & set(original.band_keys))
        for k in range(5)
    ]
    assert sum(shared) <= 2
    copy = signature(thinned(recording(), 10))
    assert len(set(copy.band_keys) & set(original.band_keys)) >= 10


def test_a_different_road_shares_nothing(original: ShapeSignature) -> None:
    other = winding_road(np.random.default_rng(99), start=(ORIGIN[0] + 5000, ORIGIN[1]))
    sig = signature(
        generate(other, drive_legs(np.random.default_rng(1), other.length), start=START, seed=4)
    )
    assert measure(sig, original, params=P) is None
    index = ReplayIndex(P.scheme())
    index.add(1, original)
    assert index.candidates(sig, limit=10) == []


def test_signature_bytes_round_trip(original: ShapeSignature) -> None:
    data = original.to_bytes()
    back = ShapeSignature.from_bytes(data)
    assert back.scheme == original.scheme == P.scheme()
    assert back.band_keys == original.band_keys
    assert back.length_m == original.length_m
    for name in ("x_dm", "y_dm", "t_cs"):
        assert np.array_equal(getattr(back, name), getattr(original, name))
    # 3 km every 10 m = 300 points of 3 int32 deltas, zlib'd: well under 3.6 KB.
    assert original.x_dm.size == pytest.approx(300, abs=5)
    assert len(data) < 2000


def test_a_short_path_has_no_signature() -> None:
    # 150 m at 36 km/h: shorter than min_length_m (200 m).
    path = LineString([ORIGIN, (ORIGIN[0] + 150, ORIGIN[1])])
    trace = generate(path, [Leg(metres=150, speed_kmh=36)], start=START, noise_m=0.5, seed=1)
    lon, lat = trace.lonlat(CRS)
    assert fingerprint(lon, lat, trace.t_ns, params=P) is None


def test_index_ranks_candidates_by_shared_band_keys(original: ShapeSignature) -> None:
    index = ReplayIndex(P.scheme(), merge_rows=40)  # two signatures a merge: both paths run
    index.add(7, signature(recording(seed=60)))
    index.add(8, original)
    index.add(9, signature(thinned(recording(), 2)))
    assert len(index) == 3
    assert index.candidates(original, limit=2)[0] == 8  # all 20 keys shared with itself
    assert set(index.candidates(original, limit=2)) == {8, 9}


def test_index_refuses_a_signature_of_another_scheme(original: ShapeSignature) -> None:
    with pytest.raises(ValueError, match="scheme"):
        ReplayIndex("v0").add(1, original)


def test_params_come_from_a_settings_mapping_with_every_field() -> None:
    settings = {**DEFAULT_REPLAY_PARAMS, "max_speed_kmh": 150.0}  # other verify keys too
    assert ReplayParams.from_mapping(settings) == P
    with pytest.raises(KeyError, match="cell_m"):
        ReplayParams.from_mapping({k: v for k, v in settings.items() if k != "cell_m"})


# -- Plausibility --------------------------------------------------------------------------

REAL_FILES = sorted(p.name for p in REAL.glob("*") if p.name != "README.md")


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real-traces not beside the clone")
@pytest.mark.parametrize("name", REAL_FILES)
def test_real_recordings_are_plausible(name: str) -> None:
    # Moved onto Yangquan (constant offset, as test_real_traces does) for the metric CRS.
    trace = parse((REAL / name).read_bytes())
    lon = trace.lon + (113.58 - trace.lon.mean())
    lat = trace.lat + (37.86 - trace.lat.mean())
    assert plausibility_flags(lon, lat, trace.t_ns, speed_mps=None, params=P) == []


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real-traces not beside the clone")
def test_real_bus_drive_figures() -> None:
    # The Limerick bus (2,144 fixes, mostly 1 s): at most ~1.5 m/s² sustained over 4 s,
    # and a minute of it is never within 2 cm of a straight line (median 16 m: it turns).
    trace = parse((REAL / "movingpandas__304_to_UL_2019-02-18_0745.gpx").read_bytes())
    x, y = to_metric(
        trace.lon + (113.58 - trace.lon.mean()), trace.lat + (37.86 - trace.lat.mean()), CRS
    )
    t_s = (trace.t_ns - trace.t_ns[0]) / 1e9
    acc = acceleration(t_s, x, y, params=P)
    line = straightness(t_s, x, y, params=P)
    assert acc is not None
    assert line is not None
    assert acc.max_accel_mps2 < 2.0
    assert acc.max_decel_mps2 < 2.0
    assert line.straight_share == 0.0


@pytest.mark.parametrize("seed", range(6))
def test_generated_honest_drives_are_plausible(seed: int) -> None:
    rng = np.random.default_rng(seed)
    road = winding_road(rng)
    hz = (10.0, 1.0, 5.0)[seed % 3]
    trace = generate(
        road,
        drive_legs(rng, road.length),
        start=START,
        hz=hz,
        noise_m=float(rng.uniform(2, 5)),
        noise_tau_s=float(rng.uniform(10, 120)),
        seed=seed,
    )
    # A speed column as a receiver gives it (Doppler): the true speed.
    t_s = (trace.t_ns - trace.t_ns[0]) / 1e9
    speed = np.hypot(np.gradient(trace.true_x, t_s), np.gradient(trace.true_y, t_s))
    lon, lat = trace.lonlat(CRS)
    assert plausibility_flags(lon, lat, trace.t_ns, speed_mps=speed, params=P) == []


def forged(
    speed_mps: Callable[[np.ndarray], np.ndarray], seconds: int, hz: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A noise-free drive due east at speed v(t), integrated; 7-decimal lon/lat, as a file."""
    t = np.arange(0, seconds * hz + 1) / hz
    v = speed_mps(t)
    x = ORIGIN[0] + np.concatenate(([0.0], np.cumsum((v[1:] + v[:-1]) / 2 * np.diff(t))))
    lon, lat = to_wgs84(x, np.full(t.size, ORIGIN[1]), CRS)
    t_ns = START.timestamp() * 1e9 + np.round(t * 1e9)
    return np.round(lon, 7), np.round(lat, 7), t_ns.astype(np.int64)


def test_constant_velocity_straight_line_is_too_smooth() -> None:
    # 10 m/s due east for 300 s at 1 Hz: five 60 s windows, each exactly on its line but
    # for the 7-decimal rounding (1e-7° ≈ 1 cm, RMS ~0.4 cm) — all under 2 cm.
    lon, lat, t_ns = forged(lambda t: np.full(t.size, 10.0), 300)
    flags = plausibility_flags(lon, lat, t_ns, speed_mps=None, params=P)
    assert [f.code for f in flags] == ["too_smooth"]
    assert flags[0].figures["straight_share"] == 1.0
    assert flags[0].figures["windows"] == 5
    assert flags[0].figures["median_residual_m"] < 0.01


def test_three_g_acceleration_is_implausible() -> None:
    # 0 → 29.4 m/s in 1 s (3 g), then steady, sampled at 10 Hz with 2 m noise so that it is
    # not also "too smooth". Speed over 4 s windows gains 29.4 m/s: 29.4 / 4 = 7.35 m/s².
    noise = np.random.default_rng(1).normal(0, 0.02, (2, 1201))
    lon, lat, t_ns = forged(lambda t: np.clip(t - 30, 0, 1) * 29.4, 120, hz=10)
    x, y = to_metric(lon, lat, CRS)
    x, y = x + np.cumsum(noise[0]), y + np.cumsum(noise[1])  # a random walk, ~0.7 m
    lon, lat = to_wgs84(x, y, CRS)
    flags = plausibility_flags(lon, lat, t_ns, speed_mps=None, params=P)
    assert [f.code for f in flags] == ["implausible_acceleration"]
    assert flags[0].figures["max_accel_mps2"] == pytest.approx(7.35, abs=0.3)
    assert flags[0].figures["at_s"] == pytest.approx(28, abs=2)


def test_a_speed_column_twice_the_positional_speed_disagrees() -> None:
    trace = recording()
    t_s = (trace.t_ns - trace.t_ns[0]) / 1e9
    true = np.hypot(np.gradient(trace.true_x, t_s), np.gradient(trace.true_y, t_s))
    lon, lat = trace.lonlat(CRS)
    flags = plausibility_flags(lon, lat, trace.t_ns, speed_mps=2 * true, params=P)
    assert [f.code for f in flags] == ["speed_disagreement"]
    # Column 2v against positions v: the ratio is 2, the difference v over the median fix
    # (stops count 0 − 0), several m/s at 20–60 km/h (5.6–16.7 m/s).
    assert flags[0].figures["median_ratio"] == pytest.approx(2.0, abs=0.05)
    assert flags[0].figures["median_abs_diff_mps"] > 4


def test_speed_column_of_a_receiver_agrees() -> None:
    trace = recording()
    t_s = (trace.t_ns - trace.t_ns[0]) / 1e9
    true = np.hypot(np.gradient(trace.true_x, t_s), np.gradient(trace.true_y, t_s))
    x, y = trace.x, trace.y
    figures = speed_disagreement(t_s, x, y, true, params=P)
    assert figures is not None
    assert figures.median_abs_diff_mps < 0.5
    assert figures.median_ratio == pytest.approx(1.0, abs=0.05)
