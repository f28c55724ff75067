"""Copy (replay) detection benchmark: prints its figures (run by hand, not a timed test).

    .venv/bin/python bench/bench_replay.py [--trips 100000] [--queries 300] [--repeats 1000]

Figures and the machine they came from: docs/decisions/0004-copy-detection.md. The full
run is ~8 min of one core, most of it generating the 100,000 traces (--trips 20000 for a
quick look).

A Yangquan-sized network (200 winding roads of ~4 km in a 30 × 20 km box) carries
`--trips` honest trips, each a 1–4 km stretch of one road in either direction (so about
500 trips share each road), 1 Hz, with their own correlated noise (2–5 m, 20–60 s) and
speed profile; their signatures are indexed and kept as bytes (what a database column
would hold). Then:

1. latency: new honest trips on the same roads — signature, candidate lookup, loading
   and confirming candidates (median, p99);
2. false holds: `--repeats` honest repeats of one 10 Hz route (own noise and speed),
   each checked and then indexed, as trips arrive; then as many again with the very same
   speed profile (only the noise differs);
3. recall: copies of 10 Hz originals (indexed among the rest) re-timed by whole days
   with ≤ 1 m nudges, shifted by 1 m, thinned 10 Hz → 1 Hz and every other fix, and
   re-encoded CSV → GPX a day later.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from shapely import LineString

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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
from trips.parsers import parse
from trips.replay import (
    DEFAULT_REPLAY_PARAMS,
    Match,
    ReplayIndex,
    ReplayParams,
    ShapeSignature,
    find_copy,
    fingerprint,
    fingerprint_metric,
    is_copy,
    measure,
)

P = ReplayParams(**DEFAULT_REPLAY_PARAMS)


def rss_mb() -> tuple[float, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM), MB."""
    got = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            got[line.split(":")[0]] = int(line.split()[1]) / 1024
    return got.get("VmRSS", 0.0), got.get("VmHWM", 0.0)


def network(rng: np.random.Generator, roads: int) -> list[LineString]:
    """`roads` winding roads of 80 × 50 m in a 30 × 20 km box around Yangquan."""
    return [
        winding_road(
            rng,
            start=(
                ORIGIN[0] + rng.uniform(-15_000, 15_000),
                ORIGIN[1] + rng.uniform(-10_000, 10_000),
            ),
            segments=80,
        )
        for _ in range(roads)
    ]


def stretch(road: LineString, rng: np.random.Generator) -> LineString:
    """A 1–4 km piece of `road`, in either direction."""
    length = rng.uniform(1_000, 4_000)
    start = rng.uniform(0, road.length - length)
    coords = np.asarray(road.coords)
    along = np.concatenate(([0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))))
    at = np.linspace(start, start + length, int(length / 25) + 2)
    piece = np.column_stack(
        [np.interp(at, along, coords[:, 0]), np.interp(at, along, coords[:, 1])]
    )
    return LineString(piece[::-1] if rng.random() < 0.5 else piece)


def honest(
    path: LineString, rng: np.random.Generator, hz: float, legs: list[Leg] | None = None
) -> Trace:
    return generate(
        path,
        legs or drive_legs(rng, path.length),
        start=START,
        hz=hz,
        noise_m=float(rng.uniform(2, 5)),
        noise_tau_s=float(rng.uniform(20, 60)),
        seed=int(rng.integers(1 << 31)),
    )


def sign(trace: Trace) -> ShapeSignature | None:
    return fingerprint_metric(trace.x, trace.y, trace.t_ns, params=P)


class Store:
    """The index and the stored signatures (bytes, as a database column holds them)."""

    def __init__(self) -> None:
        self.index = ReplayIndex(P.scheme())
        self.rows: dict[int, bytes] = {}

    def put(self, trip_id: int, sig: ShapeSignature) -> None:
        self.index.add(trip_id, sig)
        self.rows[trip_id] = sig.to_bytes()

    def load(self, trip_id: int) -> ShapeSignature | None:
        data = self.rows.get(trip_id)
        return None if data is None else ShapeSignature.from_bytes(data)

    def find(self, sig: ShapeSignature) -> tuple[int, Match] | None:
        return find_copy(sig, self.index, self.load, params=P)


def build(store: Store, roads: list[LineString], trips: int, rng: np.random.Generator) -> None:
    rss0 = rss_mb()[0]
    t0 = time.perf_counter()
    sign_s = 0.0
    for trip_id in range(trips):
        trace = honest(stretch(roads[int(rng.integers(len(roads)))], rng), rng, hz=1.0)
        start = time.perf_counter()
        sig = sign(trace)
        sign_s += time.perf_counter() - start
        if sig is not None:
            store.put(trip_id, sig)
    build_s = time.perf_counter() - t0
    rss = rss_mb()
    n = len(store.index)
    store_mb = sum(len(b) for b in store.rows.values()) / 2**20
    print(
        f"indexed {n:,} trips in {build_s:.0f} s (signatures {sign_s:.0f} s,"
        f" {sign_s / n * 1e3:.2f} ms each); index rows {store.index.nbytes() / 2**20:.1f} MB,"
        f" stored signatures {store_mb:.1f} MB ({store_mb * 2**20 / n:.0f} B each);"
        f" RSS {rss[0]:.0f} MB (+{rss[0] - rss0:.0f} MB for index and store), peak {rss[1]:.0f} MB"
    )


def latency(store: Store, roads: list[LineString], queries: int, rng: np.random.Generator) -> None:
    """A new trip on the network: its signature, then candidate lookup and confirmation."""
    look, full, cands, holds = [], [], [], 0
    for _ in range(queries):
        trace = honest(stretch(roads[int(rng.integers(len(roads)))], rng), rng, hz=1.0)
        lon, lat = trace.lonlat(CRS)
        start = time.perf_counter()
        sig = fingerprint(lon, lat, trace.t_ns, params=P)
        mid = time.perf_counter()
        if sig is None:
            continue
        found = store.find(sig)
        end = time.perf_counter()
        cands.append(len(store.index.candidates(sig, limit=P.max_candidates)))
        look.append((end - mid) * 1e3)
        full.append((end - start) * 1e3)
        holds += found is not None
    print(
        f"new trip ({len(look)}): lookup + confirmation median {np.median(look):.2f} ms,"
        f" p99 {np.percentile(look, 99):.2f} ms; with its signature median"
        f" {np.median(full):.2f} ms, p99 {np.percentile(full, 99):.2f} ms;"
        f" candidates median {np.median(cands):.0f}, max {max(cands)}; holds {holds}"
    )


def repeats(
    store: Store,
    route: LineString,
    *,
    count: int,
    legs: list[Leg] | None,
    label: str,
    base_id: int,
    rng: np.random.Generator,
) -> None:
    """Honest repeats of one route, each checked and then indexed, as trips arrive."""
    first = sign(honest(route, rng, 10.0, legs))
    assert first is not None
    store.put(base_id, first)
    false_holds, candidates = 0, 0
    closest: list[Match] = []  # per repeat, its closest candidate (least median)
    for k in range(1, count + 1):
        sig = sign(honest(route, rng, 10.0, legs))
        assert sig is not None
        ids = store.index.candidates(sig, limit=P.max_candidates)
        candidates += len(ids)
        figures = [m for i in ids if (o := store.load(i)) and (m := measure(sig, o, params=P))]
        if figures:
            closest.append(min(figures, key=lambda m: m.median_distance_m))
        # The same decision as find_copy, from the figures already measured.
        false_holds += any(is_copy(m, params=P) for m in figures)
        store.put(base_id + k, sig)
    print(
        f"honest repeats, {label}: {count} of a {route.length / 1000:.1f} km route"
        f" at 10 Hz: false holds {false_holds}; candidates confirmed {candidates}"
    )
    if closest:
        near = min(closest, key=lambda m: m.median_distance_m)
        print(
            f"  closest pair: median {near.median_distance_m:.2f} m, spread"
            f" {near.spread_m:.2f} m, matched {near.matched_share:.2f};"
            f" least spread {min(m.spread_m for m in closest):.2f} m;"
            f" pairs with median <= {P.max_median_m} m:"
            f" {sum(m.median_distance_m <= P.max_median_m for m in closest)}"
        )


def via_gpx(trace: Trace) -> ShapeSignature | None:
    csv = parse(to_csv(trace))
    gpx = parse(to_gpx(csv.lon, csv.lat, csv.t_ns + DAY_NS))
    return fingerprint(gpx.lon, gpx.lat, gpx.t_ns, params=P)


def unit(r: np.random.Generator) -> tuple[float, float]:
    a = r.uniform(0, 2 * np.pi)
    return float(np.cos(a)), float(np.sin(a))


KINDS: dict[str, Callable[[Trace, np.random.Generator], ShapeSignature | None]] = {
    "re-timed +1..30 days, nudged <= 1 m": lambda t, r: sign(
        nudged(retimed(t, 86_400 * int(r.integers(1, 31))), r, 1.0)
    ),
    "shifted 1 m, re-timed": lambda t, r: sign(retimed(shifted(t, *unit(r)), 86_400)),
    "thinned 10 Hz -> 1 Hz": lambda t, r: sign(thinned(t, 10, int(r.integers(10)))),
    "thinned every other fix": lambda t, r: sign(thinned(t, 2, int(r.integers(2)))),
    "CSV -> GPX, a day later": lambda t, r: via_gpx(t),
}


def recall(store: Store, roads: list[LineString], copies: int, rng: np.random.Generator) -> None:
    """Copies of 10 Hz originals indexed among the rest."""
    originals: list[tuple[int, Trace]] = []
    for k in range(copies):
        trace = honest(stretch(roads[int(rng.integers(len(roads)))], rng), rng, hz=10.0)
        sig = sign(trace)
        if sig is not None:
            store.put(20_000_000 + k, sig)
            originals.append((20_000_000 + k, trace))
    for name, make in KINDS.items():
        found, med, times = 0, [], []
        for trip_id, trace in originals:
            sig = make(trace, rng)
            assert sig is not None
            start = time.perf_counter()
            hit = store.find(sig)
            times.append((time.perf_counter() - start) * 1e3)
            if hit is not None and hit[0] == trip_id:
                found += 1
                med.append(hit[1].median_distance_m)

        print(
            f"recall, {name}: {found}/{len(originals)}"
            f" (median distance {np.median(med):.2f} m, max {max(med):.2f} m;"
            f" lookup + confirmation median {np.median(times):.2f} ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trips", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=1_000)
    parser.add_argument("--copies", type=int, default=100)
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    rng = np.random.default_rng(2026)
    roads = network(rng, 200)
    print(f"network: {len(roads)} roads, {sum(r.length for r in roads) / 1000:.0f} km")
    print(f"params: {dict(DEFAULT_REPLAY_PARAMS)}")
    store = Store()
    build(store, roads, args.trips, rng)
    latency(store, roads, args.queries, rng)
    route = stretch(roads[0], np.random.default_rng(7))
    repeats(store, route, count=args.repeats, legs=None, label="own speed", base_id=10**7, rng=rng)
    same = drive_legs(rng, route.length)
    repeats(
        store,
        route,
        count=args.repeats,
        legs=same,
        label="same speed profile",
        base_id=11 * 10**6,
        rng=rng,
    )
    recall(store, roads, args.copies, rng)
    rss = rss_mb()
    print(f"RSS at end {rss[0]:.0f} MB, peak {rss[1]:.0f} MB; index {len(store.index):,} trips")
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
