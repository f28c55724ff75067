"""Copy detection through the database, as production runs it: prints its figures.

    .venv/bin/python bench/bench_copies.py [--trips 100000] [--queries 300]
        [--repeats 1000] [--copies 100] [--workers 2]

Runs against its own PostgreSQL database (dropped and made anew: BENCH_DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/yangquan_av_bench_copies), never the app's.

1. Index: `--trips` honest trips (1–4 km stretches of 200 winding roads around Yangquan,
   1 Hz, own noise and speed; bench_replay's network) are signed in `--workers`
   processes and COPYed into trips_trip, trips_tripfingerprint (fix hash, signature
   bytes) and trips_tripbandkey (30 rows a trip, indexed on band_key); sizes from
   pg_total_relation_size.
2. Latency: a new trip on the same roads, `trips.copies.conflicts` as trip_process calls
   it: the overlap query, same content, same fixes, the band-key candidate query,
   loading the candidates' signatures and confirming them (median, p99), and with its
   signature and fix hash.
3. False holds: `--repeats` honest 10 Hz repeats of one route (own noise, own speed),
   each checked through the database and then stored, as trips arrive.
4. Recall: `--copies` 10 Hz originals stored, then their copies checked through the
   database: re-timed by days with ≤ 1 m nudges, thinned 10 Hz → 1 Hz, every other fix,
   and re-encoded CSV → GPX (the same fixes: `same_fixes`; a day later: `replayed_trace`).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections.abc import Callable
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/yangquan_av_bench_copies"


def _recreate_postgres(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


# Signing in worker processes: no Django there, only the pure detector.
from bench_replay import P, honest, network, sign, stretch  # noqa: E402

from tests.trips.replaygen import CRS as CRS_METRIC  # noqa: E402
from tests.trips.replaygen import (  # noqa: E402
    DAY_NS,
    nudged,
    retimed,
    thinned,
    to_gpx,
)
from tests.trips.tracegen import Trace, to_csv  # noqa: E402
from trips.parsers import parse  # noqa: E402
from trips.replay import ShapeSignature, fingerprint, fix_fingerprint  # noqa: E402

Row = tuple[str, bytes, tuple[int, ...]]  # fix hash, signature bytes, band keys


def _sign_chunk(args: tuple[int, int]) -> list[Row]:
    seed, count = args
    rng = np.random.default_rng(seed)
    roads = network(np.random.default_rng(2026), 200)
    rows = []
    for _ in range(count):
        trace = honest(stretch(roads[int(rng.integers(len(roads)))], rng), rng, hz=1.0)
        sig = sign(trace)
        if sig is None:
            continue
        lon, lat = trace.lonlat(CRS_METRIC)
        rows.append((fix_fingerprint(lon, lat, trace.t_ns), sig.to_bytes(), sig.band_keys))
    return rows


def main() -> None:  # noqa: PLR0912, PLR0915 - one script, its steps in order
    parser = argparse.ArgumentParser()
    parser.add_argument("--trips", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=1_000)
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
    _recreate_postgres(url)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yangquan_av.settings")
    import django  # noqa: PLC0415 - settings come from the environment set above

    django.setup()
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415

    from tests import factories  # noqa: PLC0415
    from trips import copies  # noqa: PLC0415
    from trips.models import Trip, TripBandKey, TripFingerprint  # noqa: PLC0415
    from trips.verification.params import replay_params  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    params = replay_params()
    assert params == P, "the bench's detector parameters are production's"
    bureau = factories.user("bureau")
    operator = factories.operator(actor=bureau, name="基准公司")
    vehicle = factories.vehicle(actor=bureau, operator=operator)
    base_trip: dict[str, Any] = {
        "operator_id": operator.pk,
        "vehicle_id": vehicle.pk,
        "raw_file": "raw/bench",
        "raw_size": 1000,
        "crs": "wgs84",
        "status": "accepted",
    }

    # -- 1. the index ----------------------------------------------------------------------
    t0 = time.perf_counter()
    chunk = 500
    jobs = [(1000 + i, min(chunk, args.trips - i * chunk)) for i in range(-(-args.trips // chunk))]
    with Pool(args.workers) as pool:
        signed = [row for rows in pool.imap(_sign_chunk, jobs) for row in rows]
    sign_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    dt_start = 1_600_000_000  # trips an hour apart: none overlap
    with connection.cursor() as cursor:
        raw = cursor.cursor
        columns = (
            "id, operator_id, vehicle_id, external_id, raw_sha256, raw_file, raw_size, "
            "original_name, declared_format, format, crs, declared_mode, status, received_at, "
            "started_at, ended_at, points_total, points_used, total_m, autonomous_m, "
            "eligible_m, disengagements, reasons, trace_file, params, code_version, "
            "review_reason"
        )
        with raw.copy(f"COPY trips_trip ({columns}) FROM STDIN") as out:
            for i in range(len(signed)):
                begin = dt_start + 3600 * i
                out.write_row(
                    (
                        i + 1,
                        operator.pk,
                        vehicle.pk,
                        "",
                        hashlib.sha256(f"bench-{i}".encode()).hexdigest(),
                        "raw/bench",
                        1000,
                        "",
                        "",
                        "csv",
                        "wgs84",
                        "",
                        "accepted",
                        "2026-01-01T00:00:00Z",
                        _iso(begin),
                        _iso(begin + 600),
                        600,
                        600,
                        0,
                        0,
                        0,
                        0,
                        "[]",
                        "",
                        "{}",
                        "",
                        "",
                    )
                )
        with raw.copy(
            "COPY trips_tripfingerprint (trip_id, fixes_sha256, scheme, signature) FROM STDIN"
        ) as out:
            for i, (fix_hash, blob, _) in enumerate(signed):
                out.write_row((i + 1, fix_hash, P.scheme(), blob))
        with raw.copy("COPY trips_tripbandkey (trip_id, band_key) FROM STDIN") as out:
            for i, (_, _, keys) in enumerate(signed):
                for key in sorted(set(keys)):
                    out.write_row((i + 1, key))
        for table in ("trips_trip", "trips_tripfingerprint", "trips_tripbandkey"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        cursor.execute("ANALYZE")
        sizes = {}
        for table in ("trips_tripfingerprint", "trips_tripbandkey"):
            cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            sizes[table] = cursor.fetchone()[0] / 2**20
    n = len(signed)
    print(
        f"indexed {n:,} trips: signed in {sign_s:.0f} s ({args.workers} processes,"
        f" {sign_s / n * 1e3 * args.workers:.2f} ms of a core each), loaded in"
        f" {time.perf_counter() - t1:.0f} s; in the database: fingerprints"
        f" {sizes['trips_tripfingerprint']:.0f} MB,"
        f" band keys {sizes['trips_tripbandkey']:.0f} MB with their index"
        f" ({TripBandKey.objects.count():,} rows)"
    )
    del signed

    next_start = [dt_start + 3600 * (n + 10)]

    def new_trip() -> Trip:
        """An unsaved trip with the next id (what trip_process sees while it verifies)."""
        return Trip(
            **base_trip,
            raw_sha256=hashlib.sha256(os.urandom(16)).hexdigest(),
            pk=(Trip.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1,
        )

    def check(trace: Trace | None, *, lon_lat_t: Any = None) -> tuple[list[Any], float, str, Any]:
        """A trip as verification has it: the fixes parsed back from its CSV."""
        if trace is not None:
            parsed = parse(to_csv(trace))
            lon_lat_t = (parsed.lon, parsed.lat, parsed.t_ns)
        lon, lat, t_ns = lon_lat_t
        trip = new_trip()
        begin = time.perf_counter()
        fix_hash = fix_fingerprint(lon, lat, t_ns)
        sig = fingerprint(lon, lat, t_ns, params=params)
        # Half an hour after the last stored trip: never overlapping it.
        found = copies.conflicts(
            trip=trip,
            started=_dt(next_start[0] + 1800),
            ended=_dt(next_start[0] + 2400),
            fixes_sha256=fix_hash,
            signature=sig,
            params=params,
        )
        return found, (time.perf_counter() - begin) * 1e3, fix_hash, (trip, sig)

    def store(trip: Trip, fix_hash: str, sig: ShapeSignature | None) -> None:
        next_start[0] += 3600
        trip.started_at, trip.ended_at = _dt(next_start[0]), _dt(next_start[0] + 600)
        trip.save(force_insert=True)
        TripFingerprint.objects.create(
            trip=trip,
            fixes_sha256=fix_hash,
            scheme=sig.scheme if sig else "",
            signature=sig.to_bytes() if sig else None,
        )
        if sig is not None:
            TripBandKey.objects.bulk_create(
                TripBandKey(trip=trip, band_key=k) for k in sorted(set(sig.band_keys))
            )

    def timed_lookup(sig: ShapeSignature, trip: Trip) -> float:
        begin = time.perf_counter()
        copies.conflicts(
            trip=trip,
            started=_dt(next_start[0] + 1800),
            ended=_dt(next_start[0] + 2400),
            fixes_sha256="0" * 64,
            signature=sig,
            params=params,
        )
        return (time.perf_counter() - begin) * 1e3

    # -- 2. latency --------------------------------------------------------------------------
    rng = np.random.default_rng(7)
    roads = network(np.random.default_rng(2026), 200)
    look, full, holds = [], [], 0
    for _ in range(args.queries):
        trace = honest(stretch(roads[int(rng.integers(len(roads)))], rng), rng, hz=1.0)
        found, with_sig_ms, _, (trip, sig) = check(trace)
        if sig is None:
            continue
        full.append(with_sig_ms)
        look.append(timed_lookup(sig, trip))
        holds += bool(found)
    print(
        f"new trip ({len(look)}), database path: lookup + confirmation median"
        f" {np.median(look):.1f} ms, p99 {np.percentile(look, 99):.1f} ms; with its"
        f" signature and fix hash median {np.median(full):.1f} ms,"
        f" p99 {np.percentile(full, 99):.1f} ms; holds {holds}"
    )

    # -- 3. honest repeats -------------------------------------------------------------------
    route = stretch(roads[0], np.random.default_rng(7))
    false_holds = 0
    for _ in range(args.repeats + 1):
        found, _, fix_hash, (trip, sig) = check(honest(route, rng, 10.0))
        false_holds += bool(found)
        store(trip, fix_hash, sig)
    print(
        f"honest repeats: {args.repeats} of a {route.length / 1000:.1f} km route at 10 Hz,"
        f" each checked through the database then stored: false holds {false_holds}"
    )

    # -- 4. recall ---------------------------------------------------------------------------
    originals: list[Trace] = []
    for _ in range(args.copies):
        trace = honest(stretch(roads[int(rng.integers(len(roads)))], rng), rng, hz=10.0)
        found, _, fix_hash, (trip, sig) = check(trace)
        if sig is not None:
            store(trip, fix_hash, sig)
            originals.append(trace)

    def via_gpx(trace: Trace, shift_ns: int) -> tuple[Any, Any, Any]:
        csv = parse(to_csv(trace))
        gpx = parse(to_gpx(csv.lon, csv.lat, csv.t_ns + shift_ns))
        return gpx.lon, gpx.lat, gpx.t_ns

    kinds: dict[str, Callable[[Trace], tuple[Trace | None, Any]]] = {
        "re-timed +1..30 days, nudged <= 1 m": lambda t: (
            nudged(retimed(t, 86_400 * int(rng.integers(1, 31))), rng, 1.0),
            None,
        ),
        "thinned 10 Hz -> 1 Hz": lambda t: (thinned(t, 10, int(rng.integers(10))), None),
        "thinned every other fix": lambda t: (thinned(t, 2, int(rng.integers(2))), None),
        "CSV -> GPX, same times": lambda t: (None, via_gpx(t, 0)),
        "CSV -> GPX, a day later": lambda t: (None, via_gpx(t, DAY_NS)),
    }
    for name, make in kinds.items() if originals else ():
        hits, times = 0, []
        codes: dict[str, int] = {}
        for trace in originals:
            copy, arrays = make(trace)
            found, ms, _, _ = check(copy, lon_lat_t=arrays)
            times.append(ms)
            hits += bool(found)
            for code in {str(c.code) for c in found}:
                codes[code] = codes.get(code, 0) + 1
        held_as = ", ".join(f"{c} {k}" for c, k in sorted(codes.items())) or "-"
        print(
            f"recall, {name}: {hits}/{len(originals)} (held as: {held_as};"
            f" check median {np.median(times):.1f} ms)"
        )


def _iso(epoch_s: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_s))


def _dt(epoch_s: int) -> Any:
    import datetime as dt  # noqa: PLC0415

    return dt.datetime.fromtimestamp(epoch_s, tz=dt.UTC)


if __name__ == "__main__":
    main()
